import pytest

import mucsvc.rooms.errors as errors
from mucsvc.app.errors import StoreFailed
from mucsvc.protocol.errors import stanza_error
from mucsvc.rooms.errors import MucError

EXPECTED = {
    "NickConflict": ("conflict", "cancel"),
    "NickInvalid": ("jid-malformed", "modify"),
    "InvisibleNick": ("not-allowed", "modify"),
    "RoomNameInvalid": ("jid-malformed", "modify"),
    "RoomLocked": ("item-not-found", "cancel"),
    "JoinWithoutMucX": ("item-not-found", "cancel"),
    "NoSuchRoom": ("item-not-found", "cancel"),
    "RoomGone": ("gone", "cancel"),
    "NotOccupant": ("not-acceptable", "cancel"),
    "Forbidden": ("forbidden", "auth"),
    "NotAllowed": ("not-allowed", "cancel"),
    "RoomCreationRestricted": ("not-allowed", "cancel"),
    "RegistrationRequired": ("registration-required", "auth"),
    "PasswordRequired": ("not-authorized", "auth"),
    "RoomFull": ("service-unavailable", "wait"),
    "TooManyRooms": ("resource-constraint", "wait"),
    "TooManyRoomsOfUser": ("policy-violation", "cancel"),
    "Overactive": ("policy-violation", "wait"),
    "TooLarge": ("policy-violation", "modify"),
    "NoSuchOccupant": ("item-not-found", "cancel"),
    "NoSuchMessage": ("item-not-found", "modify"),
    "NoSuchHat": ("item-not-found", "cancel"),
    "PrivateMessagesRestricted": ("policy-violation", "cancel"),
    "BadRequest": ("bad-request", "modify"),
    "NotAcceptable": ("not-acceptable", "modify"),
    "Conflict": ("conflict", "cancel"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_error_becomes_its_stanza_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, MucError)
    assert stanza_error(cls("why")) == EXPECTED[name] + ("why",)


def test_domain_errors_carry_no_xmpp_words():
    for name in EXPECTED:
        cls = getattr(errors, name)
        assert not hasattr(cls, "condition") and not hasattr(cls, "error_type"), name


def test_a_failed_store_write_is_internal_server_error():
    assert stanza_error(StoreFailed()) == ("internal-server-error", "wait", None)


def test_a_subclass_takes_its_base_entry():
    class Particular(errors.Forbidden):
        pass
    assert stanza_error(Particular()) == ("forbidden", "auth", None)


def test_every_error_class_is_covered():
    defined = {n for n, v in vars(errors).items()
               if isinstance(v, type) and issubclass(v, MucError) and v is not MucError}
    assert defined == set(EXPECTED)


def test_text_is_optional():
    assert errors.Forbidden().text is None
    assert errors.Forbidden("banned").text == "banned"
    assert str(errors.Forbidden()) == "Forbidden"
