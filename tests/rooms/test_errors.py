import pytest

import mucsvc.rooms.errors as errors
from mucsvc.rooms.errors import MucError

EXPECTED = {
    "NickConflict": ("conflict", "cancel"),
    "NickInvalid": ("jid-malformed", "modify"),
    "InvisibleNick": ("not-allowed", "modify"),
    "RoomNameInvalid": ("jid-malformed", "modify"),
    "RoomLocked": ("item-not-found", "cancel"),
    "JoinWithoutMucX": ("item-not-found", "cancel"),
    "NoSuchRoom": ("item-not-found", "cancel"),
    "NotOccupant": ("not-acceptable", "cancel"),
    "Forbidden": ("forbidden", "auth"),
    "NotAllowed": ("not-allowed", "cancel"),
    "RoomCreationRestricted": ("not-allowed", "cancel"),
    "RegistrationRequired": ("registration-required", "auth"),
    "PasswordRequired": ("not-authorized", "auth"),
    "RoomFull": ("service-unavailable", "wait"),
    "TooManyRooms": ("resource-constraint", "wait"),
    "Overactive": ("policy-violation", "wait"),
    "TooLarge": ("policy-violation", "modify"),
    "NoSuchOccupant": ("item-not-found", "cancel"),
    "PrivateMessagesRestricted": ("policy-violation", "cancel"),
    "BadRequest": ("bad-request", "modify"),
    "NotAcceptable": ("not-acceptable", "modify"),
    "Conflict": ("conflict", "cancel"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_error_names_its_stanza_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, MucError)
    assert (cls.condition, cls.error_type) == EXPECTED[name]


def test_every_error_class_is_covered():
    defined = {n for n, v in vars(errors).items()
               if isinstance(v, type) and issubclass(v, MucError) and v is not MucError}
    assert defined == set(EXPECTED)


def test_text_is_optional():
    assert errors.Forbidden().text is None
    assert errors.Forbidden("banned").text == "banned"
    assert str(errors.Forbidden()) == "forbidden"
