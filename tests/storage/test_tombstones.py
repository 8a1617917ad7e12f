"""The store contract for tombstones (`save_tombstone`, `delete_tombstone`,
`load_tombstones`), run against every store; what a restarted service would
see is read back through ``stores.reopen``."""

import math

import pytest

from mucsvc.rooms import Tombstone
from mucsvc.storage import StoreClosed, StoredRoom, Write
from tests.storage.helpers import OTHER, PERSISTENT, ROOM, snapshot

STONE = Tombstone(ROOM, 1_700_000_000.5, "Moved on", "new@muc.example")


def test_a_new_store_holds_no_tombstones(store):
    assert store.load_tombstones() == []


def test_a_tombstone_round_trips_every_field(stores, store):
    store.save_tombstone(STONE)
    store.save_tombstone(Tombstone(OTHER, 5.0))
    assert stores.reopen(store).load_tombstones() == [Tombstone(OTHER, 5.0), STONE]


def test_saving_again_replaces_it(stores, store):
    store.save_tombstone(STONE)
    store.save_tombstone(Tombstone(ROOM, 9.0, None, None))
    assert stores.reopen(store).load_tombstones() == [Tombstone(ROOM, 9.0)]


def test_delete_says_whether_there_was_one(stores, store):
    store.save_tombstone(STONE)
    assert store.delete_tombstone(OTHER) is False
    assert store.delete_tombstone(ROOM) is True
    assert store.delete_tombstone(ROOM) is False
    assert stores.reopen(store).load_tombstones() == []


def test_rooms_and_tombstones_are_independent(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_tombstone(STONE)
    assert store.delete_room(ROOM)
    store = stores.reopen(store)
    assert store.load_tombstones() == [STONE]
    store.save_room(ROOM, PERSISTENT)
    assert store.delete_tombstone(ROOM)
    assert [r.jid for r in stores.reopen(store).load_rooms()] == [ROOM]


def test_a_destruction_is_one_apply(stores, store):
    store.replace_room(StoredRoom(ROOM, PERSISTENT))
    assert store.apply([Write("delete_room", (ROOM,)), Write("save_tombstone", (STONE,))]) == [
        True, None]
    reopened = stores.reopen(store)
    assert (reopened.load_rooms(), reopened.load_tombstones()) == ([], [STONE])


@pytest.mark.parametrize("bad", [
    Write("save_tombstone", (Tombstone(OTHER, math.inf),)),
    Write("save_tombstone", (Tombstone(OTHER, "soon"),)),
    Write("save_tombstone", (Tombstone("", 1.0),)),
    Write("save_tombstone", (Tombstone(OTHER, 1.0, reason=b"bytes"),)),
    Write("save_tombstone", (("not", "a", "tombstone"),)),
    Write("set_affiliation", (OTHER, "a@b", None)),  # a later write refused
])
def test_apply_with_a_refused_write_stores_no_tombstone_and_keeps_the_room(stores, store, bad):
    store.replace_room(StoredRoom(ROOM, PERSISTENT))
    before = snapshot(store)
    with pytest.raises((TypeError, ValueError, LookupError)):
        store.apply([Write("delete_room", (ROOM,)), Write("save_tombstone", (STONE,)), bad])
    reopened = stores.reopen(store)
    assert (snapshot(reopened), reopened.load_tombstones()) == (before, [])


def test_a_failed_apply_keeps_a_tombstone_it_would_have_deleted(stores, store):
    store.save_tombstone(STONE)
    with pytest.raises(TypeError):
        store.apply([Write("delete_tombstone", (ROOM,)),
                     Write("save_tombstone", (Tombstone(OTHER, math.nan),))])
    assert stores.reopen(store).load_tombstones() == [STONE]


@pytest.mark.parametrize("call", [
    lambda s: s.load_tombstones(),
    lambda s: s.save_tombstone(STONE),
    lambda s: s.delete_tombstone(ROOM),
], ids=["load_tombstones", "save_tombstone", "delete_tombstone"])
def test_a_closed_store_refuses_tombstone_calls(store, call):
    store.close()
    with pytest.raises(StoreClosed):
        call(store)
