import pytest

from mucsvc.rooms import NotAcceptable, Role, Room, RoomConfig, ServiceLimits


def test_prosody_defaults():
    c = RoomConfig()
    assert (c.persistent, c.public, c.members_only, c.moderated, c.allow_invites) == (
        False, False, False, False, False)  # Prosody: muc_room_default_public = false
    assert c.password is None and c.whois == "moderators" and c.anonymous
    assert c.change_subject is False and c.history_length == 20 and c.max_users is None
    assert c.presence_broadcast == {Role.VISITOR, Role.PARTICIPANT, Role.MODERATOR}
    assert c.allow_private_messages == "anyone"


def test_updated_returns_a_new_config_and_leaves_the_old_one():
    c = RoomConfig()
    new = c.updated(moderated=True, whois="anyone", history_length=5)
    assert new.moderated and new.whois == "anyone" and new.history_length == 5
    assert not new.anonymous
    assert c == RoomConfig()


def test_roles_may_be_given_as_strings():
    new = RoomConfig().updated(presence_broadcast=["moderator"], get_member_list=("participant",))
    assert new.presence_broadcast == {Role.MODERATOR}
    assert new.get_member_list == {Role.PARTICIPANT}


def test_empty_password_means_no_password():
    assert RoomConfig().updated(password="").password is None
    assert RoomConfig().updated(password="s3cret").password == "s3cret"


@pytest.mark.parametrize("changes", [
    {"history_length": -1},
    {"history_length": 2.5},
    {"history_length": True},
    {"whois": "nobody"},
    {"allow_private_messages": "everyone"},
    {"max_users": 0},
    {"max_users": -3},
    {"moderated": "yes"},
    {"name": 3},
    {"password": 1234},
    {"presence_broadcast": "moderator"},
    {"presence_broadcast": ["wizard"]},
    {"get_member_list": [42]},
    {"no_such_option": 1},
])
def test_bad_values_are_not_acceptable(changes):
    c = RoomConfig()
    with pytest.raises(NotAcceptable):
        c.updated(**changes)
    assert c == RoomConfig()


def test_config_is_immutable():
    with pytest.raises(AttributeError):
        RoomConfig().moderated = True


def test_service_limits_cap_history():
    def kept(cap, length):
        room = Room("r@m", RoomConfig(history_length=length), history_cap=cap)
        return room.history.limit
    assert (kept(10, 50), kept(10, 5), kept(None, 500)) == (10, 5, 500)


def test_service_limits_defaults():
    limits = ServiceLimits()
    assert limits.room_creation == "anyone"
    assert limits.lock_new_rooms and limits.locked_room_timeout == 300.0
    assert limits.default_config == RoomConfig()


def test_creation_policy_domains_become_a_frozenset():
    assert ServiceLimits(room_creation=["example.org"]).room_creation == frozenset({"example.org"})


@pytest.mark.parametrize("kwargs", [
    {"room_creation": "everyone"},
    {"max_history_messages": -1},
    {"locked_room_timeout": 0},
    {"default_config": RoomConfig(whois="bogus")},
])
def test_bad_service_limits_are_refused(kwargs):
    with pytest.raises(ValueError):
        ServiceLimits(**kwargs)
