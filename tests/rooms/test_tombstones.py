"""The domain's tombstones: laid by the registry when a persistent room is
destroyed, refusing everything but a service admin's creation, lifted by a
creation, and found by the sweep only once expired."""

import pytest

from mucsvc.rooms import RoomConfig, RoomGone, RoomRegistry, ServiceLimits, Tombstone, Tombstones

ROOM = "room@muc.example"
OWNER = "owner@example.org/desk"
ADMIN = "admin@example.org/desk"
ALICE = "alice@example.com/phone"
TTL = 100.0


def persistent_room(**limits):
    service = RoomRegistry("muc.example", ServiceLimits(tombstone_ttl=TTL, **limits),
                           admins={"admin@example.org"})
    room, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    room.configure(OWNER, 0.0, persistent=True)
    return service


def test_destroying_a_persistent_room_lays_a_tombstone():
    service = persistent_room()
    out = service.destroy(ROOM, OWNER, 10.0, reason="Moved", alternate_venue="new@muc.example")
    assert out.tombstone == Tombstone(ROOM, 110.0, "Moved", "new@muc.example")
    assert list(service.tombstones) == [out.tombstone] and ROOM not in service


@pytest.mark.parametrize("how", ["temporary", "locked", "off"])
def test_rooms_never_established_or_tombstones_off_lay_none(how):
    limits = ServiceLimits(tombstone_ttl=None if how == "off" else TTL,
                           default_config=RoomConfig(persistent=how == "locked"))
    service = RoomRegistry("muc.example", limits)
    room, _ = service.enter(ROOM, OWNER, "Owner", 0.0)
    if how != "locked":
        room.configure(OWNER, 0.0, persistent=how == "off")
    assert service.destroy(ROOM, OWNER, 1.0).tombstone is None
    assert len(service.tombstones) == 0


def test_a_standing_tombstone_refuses_creation_with_reason_and_venue():
    service = persistent_room()
    service.destroy(ROOM, OWNER, 0.0, reason="Moved", alternate_venue="new@muc.example")
    with pytest.raises(RoomGone) as refused:
        service.enter(ROOM, ALICE, "Alice", TTL)
    assert (refused.value.text, refused.value.alternate_venue) == ("Moved", "new@muc.example")
    assert ROOM not in service and ROOM in service.tombstones


def test_an_admin_creates_the_room_and_lifts_the_tombstone():
    service = persistent_room()
    service.destroy(ROOM, OWNER, 0.0)
    with pytest.raises(RoomGone):
        service.check_tombstone(ROOM, ADMIN, 1.0, creating=False)
    assert service.check_tombstone(ROOM, ADMIN, 1.0, creating=True) is None
    room, out = service.enter(ROOM, ADMIN, "Admin", 1.0)
    assert out.created and ROOM not in service.tombstones


def test_a_refused_admin_creation_keeps_the_tombstone():
    service = persistent_room()
    service.destroy(ROOM, OWNER, 0.0)
    with pytest.raises(Exception):
        service.enter(ROOM, ADMIN, "\U0001F916", 1.0)
    assert ROOM in service.tombstones


def test_an_expired_tombstone_is_returned_to_be_deleted_and_creation_lifts_it():
    service = persistent_room()
    service.destroy(ROOM, OWNER, 0.0)
    stone = service.check_tombstone(ROOM, ALICE, TTL + 0.5, creating=False)
    assert stone is not None and stone.expired(TTL + 0.5) and not stone.expired(TTL)
    _, out = service.enter(ROOM, ALICE, "Alice", TTL + 0.5)
    assert out.created and ROOM not in service.tombstones


def test_the_sweep_finds_only_expired_tombstones_soonest_first():
    stones = Tombstones()
    for jid, expires_at in (("c@m", 30.0), ("a@m", 10.0), ("b@m", 20.0)):
        stones.lay(Tombstone(jid, expires_at))
    assert stones.expired(10.0) == []
    assert [s.room_jid for s in stones.expired(25.0)] == ["a@m", "b@m"]
    # Still kept until lifted: a failed deletion is found again.
    assert [s.room_jid for s in stones.expired(25.0)] == ["a@m", "b@m"]
    stones.lift("a@m")
    stones.lay(Tombstone("b@m", 50.0))  # replaced: its old expiry no longer counts
    assert [s.room_jid for s in stones.expired(31.0)] == ["c@m"]
    assert [s.room_jid for s in stones] == ["b@m", "c@m"]
