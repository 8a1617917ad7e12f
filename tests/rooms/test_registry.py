import pytest

from mucsvc.rooms.errors import TooManyRoomsOfUser
from mucsvc.rooms import (
    Affiliation, JoinWithoutMucX, NickInvalid, RoomRegistry, NoSuchRoom, RoomConfig, RoomCreationRestricted, RoomLocked,
    RoomNameInvalid, ServiceLimits, ConfigChanged, Destroyed,
)

ROOM = "room@muc.example"
OWNER = "owner@example.org/desk"
ALICE = "alice@example.com/phone"


def test_first_enter_creates_and_registers_the_room():
    service = RoomRegistry("muc.example")
    room, out = service.enter(ROOM, OWNER, "Owner", 0.0, payload="p")
    assert out.created and service.room(ROOM) is room and ROOM in service and len(service) == 1
    assert room.locked
    again, out2 = service.enter(ROOM, "owner@example.org/phone", "Owner", 1.0)
    assert again is room and len(out2.occupant.sessions) > 1


def test_new_rooms_take_the_default_config_and_history_cap():
    limits = ServiceLimits(default_config=RoomConfig(persistent=True, history_length=50),
                           max_history_messages=10, lock_new_rooms=False)
    room, _ = RoomRegistry("muc.example", limits).enter(ROOM, OWNER, "Owner", 0.0)
    assert room.config.persistent and room.history.limit == 10 and not room.locked


def test_refused_creation_keeps_no_room():
    service = RoomRegistry("muc.example")
    with pytest.raises(JoinWithoutMucX):
        service.enter(ROOM, OWNER, "Owner", 0.0, muc_x=False)
    with pytest.raises(NickInvalid):
        service.enter(ROOM, OWNER, "\U0001F916", 0.0)
    assert ROOM not in service


@pytest.mark.parametrize("room_jid", ["Room@muc.example", "a b@muc.example", "muc.example"])
def test_room_names_must_be_canonical(room_jid):
    with pytest.raises(RoomNameInvalid):
        RoomRegistry("muc.example").enter(room_jid, OWNER, "Owner", 0.0)


@pytest.mark.parametrize("policy, user, allowed", [
    ("anyone", ALICE, True),
    ("admins", ALICE, False),
    ("admins", "root@example.org/r", True),
    (["example.org"], OWNER, True),
    (["example.org"], ALICE, False),
    (["example.org"], "root@example.org/r", True),
])
def test_creation_policy(policy, user, allowed):
    service = RoomRegistry("muc.example", ServiceLimits(room_creation=policy),
                         admins={"root@example.org"})
    assert service.may_create(user) is allowed
    if allowed:
        service.enter(ROOM, user, "Nick", 0.0)
    else:
        with pytest.raises(RoomCreationRestricted):
            service.enter(ROOM, user, "Nick", 0.0)
        assert ROOM not in service


def test_creation_policy_does_not_stop_joining_existing_rooms():
    service = RoomRegistry("muc.example", ServiceLimits(room_creation="admins", lock_new_rooms=False),
                         admins={"root@example.org"})
    service.enter(ROOM, "root@example.org/r", "Root", 0.0)
    _, out = service.enter(ROOM, ALICE, "Alice", 1.0)
    assert len(out.occupant.sessions) == 1


def test_service_admins_are_owners_in_every_room_and_may_change_later():
    admins = set()
    service = RoomRegistry("muc.example", admins=admins)
    room, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    assert room.affiliation_of(ALICE) is Affiliation.NONE
    admins.add("alice@example.com")
    assert room.affiliation_of(ALICE) is Affiliation.OWNER


def test_occupant_ids_depend_on_the_service_secret():
    a, _ = RoomRegistry("m", secret=b"one").enter(ROOM, OWNER, "Owner", 0.0)
    b, _ = RoomRegistry("m", secret=b"one").enter(ROOM, OWNER, "Owner", 0.0)
    c, _ = RoomRegistry("m", secret=b"two").enter(ROOM, OWNER, "Owner", 0.0)
    ids = [r.occupant_by_nick("Owner").occupant_id for r in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]


def test_get_and_forget():
    service = RoomRegistry("muc.example")
    with pytest.raises(NoSuchRoom):
        service.get(ROOM)
    room, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    out = room.presence_unavailable(OWNER, 1.0)
    assert out.destroy_room
    assert service.forget(ROOM) is room and ROOM not in service
    assert service.forget(ROOM) is None


def test_destroy_through_the_service():
    service = RoomRegistry("muc.example")
    service.enter(ROOM, OWNER, "Owner", 0.0)
    out = service.destroy(ROOM, OWNER, 0.0, reason="done")
    assert out.reason == "done" and ROOM not in service
    with pytest.raises(NoSuchRoom):
        service.destroy(ROOM, OWNER, 0.0)


def test_a_locked_room_in_use_is_unlocked_with_its_defaults_after_the_timeout():
    service = RoomRegistry("muc.example", ServiceLimits(locked_room_timeout=60))
    room, _ = service.enter(ROOM, OWNER, "Owner", 100.0)
    config = room.config
    with pytest.raises(RoomLocked):
        service.enter(ROOM, ALICE, "Alice", 120.0)
    assert expire_locked(service, 159.0) == []
    ((same, out),) = expire_locked(service, 160.0)
    assert same is room and isinstance(out, ConfigChanged) and out.unlocked and not out.status_codes
    assert ROOM in service and not room.locked and room.config == config
    assert [o.nick for o in room.occupants] == ["Owner"]
    service.enter(ROOM, ALICE, "Alice", 161.0)
    assert expire_locked(service, 1000.0) == []


def test_a_locked_room_its_creator_left_is_destroyed_after_the_timeout():
    service = RoomRegistry("muc.example", ServiceLimits(
        locked_room_timeout=60, default_config=RoomConfig(persistent=True)))
    room, _ = service.enter(ROOM, OWNER, "Owner", 100.0)
    room.presence_unavailable(OWNER, 110.0)
    assert ROOM in service  # persistent: it stays, still locked
    assert expire_locked(service, 159.0) == []
    ((same, out),) = expire_locked(service, 160.0)
    assert same is room and isinstance(out, Destroyed) and out.room is room and out.occupants == ()
    assert ROOM not in service and room.destroyed
    assert expire_locked(service, 1000.0) == []


def test_configured_room_does_not_expire():
    service = RoomRegistry("muc.example", ServiceLimits(locked_room_timeout=60))
    room, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    room.configure(OWNER, 10.0)
    assert expire_locked(service, 1000.0) == [] and ROOM in service


def expire_locked(service, now):
    """``(room, outcome)`` for every overdue locked room, as the service's
    housekeeping does it."""
    return [(room, service.expire_lock(room, now)) for room in service.overdue_locked(now)]


def test_forgotten_then_recreated_room_is_judged_afresh():
    service = RoomRegistry("muc.example", ServiceLimits(locked_room_timeout=60))
    old, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    old.presence_unavailable(OWNER, 1.0)
    service.forget(ROOM)
    new, _ = service.enter(ROOM, OWNER, "Owner", 50.0)
    assert expire_locked(service, 100.0) == []
    new.presence_unavailable(OWNER, 51.0)
    assert [room for room, _ in expire_locked(service, 110.0)] == [new]


def test_discoverable_rooms():
    service = RoomRegistry("muc.example")
    locked, _ = service.enter("a@muc.example", OWNER, "O", 0.0)
    open_, _ = service.enter("b@muc.example", OWNER, "O", 0.0)
    open_.configure(OWNER, 0.0, public=True)
    hidden, _ = service.enter("c@muc.example", OWNER, "O", 0.0)
    hidden.configure(OWNER, 0.0)
    assert service.discoverable_rooms() == [open_]


def test_new_room_and_add_restore_a_room():
    service = RoomRegistry("muc.example")
    room = service.new_room(ROOM, RoomConfig(persistent=True),
                            affiliations={"owner@example.org": Affiliation.OWNER})
    service.add(room)
    assert service.get(ROOM) is room and not room.is_pristine


def test_service_caps_rooms_and_occupants():
    import pytest

    from mucsvc.rooms import ServiceLimits
    from mucsvc.rooms.errors import RoomFull, TooManyRooms

    service = RoomRegistry("muc.example", ServiceLimits(max_rooms=1, max_occupants=1,
                                                      lock_new_rooms=False))
    room, _ = service.enter("a@muc.example", OWNER, "O", 0.0)
    with pytest.raises(TooManyRooms):
        service.enter("b@muc.example", OWNER, "O", 0.0)
    with pytest.raises(RoomFull):
        service.enter("a@muc.example", "bob@example.net/x", "B", 0.0)
    service.enter("a@muc.example", OWNER.split("/")[0] + "/other", "O", 0.0)  # same occupant: fine


def test_one_user_creates_at_most_max_rooms_per_user():
    service = RoomRegistry("muc.example", ServiceLimits(max_rooms_per_user=2, lock_new_rooms=False),
                           admins={"admin@example.org"})
    service.enter("a@muc.example", OWNER, "O", 0.0)
    service.enter("b@muc.example", OWNER, "O", 0.0)
    with pytest.raises(TooManyRoomsOfUser):
        service.enter("c@muc.example", "owner@example.org/phone", "O", 0.0)
    assert "c@muc.example" not in service and service.refused == {"service": 0, "per_user": 1}
    # Joining rooms others made is not creating; other users have their own count.
    service.enter("a@muc.example", ALICE, "Alice", 0.0)
    service.enter("c@muc.example", ALICE, "Alice", 0.0)
    # A room that goes frees its place.
    service.destroy("a@muc.example", OWNER, 0.0)
    service.enter("d@muc.example", OWNER, "O", 0.0)
    assert service.rooms_created_by("owner@example.org") == 2
    for i in range(5):  # service admins have no cap
        service.enter(f"x{i}@muc.example", "admin@example.org/a", "A", 0.0)
