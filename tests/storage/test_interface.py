"""The `IRoomStore` contract, run against every implementation (the
``store`` fixture is parametrized).  Where persistence matters the test
reads back through ``stores.reopen``: a new object on the same SQLite file,
so what is checked is what a restarted service would see."""

import dataclasses
import math

import pytest
from zope.interface.verify import verifyObject

from mucsvc.rooms import Affiliation, HistoryEntry, NotAcceptable, Room, RoomConfig, Subject
from mucsvc.rooms.avatar import Avatar
from mucsvc.storage import (
    IRoomStore, RoomNotPersistent, RoomNotStored, StoreClosed, StoredRoom, Write,
)
from tests.storage.helpers import (
    AVATAR, EVERY_FIELD_CHANGED, OTHER, PERSISTENT, ROOM, entry, history_rows, only_room,
    payload_numbers, snapshot,
)


def test_provides_the_interface(store):
    assert verifyObject(IRoomStore, store)


def test_a_new_store_holds_no_rooms(store):
    assert store.load_rooms() == []


# ---- configuration ----------------------------------------------------------


def test_the_test_config_changes_every_field():
    default = RoomConfig()
    same = [f.name for f in dataclasses.fields(RoomConfig)
            if getattr(EVERY_FIELD_CHANGED, f.name) == getattr(default, f.name)]
    assert same == [], "give these fields a non-default value in EVERY_FIELD_CHANGED"


@pytest.mark.parametrize("config", [EVERY_FIELD_CHANGED, PERSISTENT], ids=["changed", "default"])
def test_config_round_trips_every_field(stores, store, config):
    store.save_room(ROOM, config)
    room = only_room(stores.reopen(store))
    assert room.jid == ROOM and room.config == config
    assert room.subject == Subject() and room.affiliations == {} and room.history == []


def test_saving_again_updates_the_config_and_keeps_the_rest(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "owner@example.org", Affiliation.OWNER, {"reason": "made it"})
    store.save_subject(ROOM, Subject("Hi", "Owner", 5.0))
    store.append_history(ROOM, entry(1), 10)
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    room = only_room(stores.reopen(store))
    assert room.config == EVERY_FIELD_CHANGED
    assert room.affiliations == {"owner@example.org": (Affiliation.OWNER, {"reason": "made it"})}
    assert room.subject == Subject("Hi", "Owner", 5.0)
    assert payload_numbers(room.history) == [1]


def test_a_temporary_room_is_refused_and_nothing_is_stored(store):
    with pytest.raises(RoomNotPersistent):
        store.save_room(ROOM, RoomConfig(persistent=False))
    assert store.load_rooms() == []


def test_making_a_stored_room_temporary_through_save_is_refused(store):
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    with pytest.raises(RoomNotPersistent):
        store.save_room(ROOM, dataclasses.replace(EVERY_FIELD_CHANGED, persistent=False))
    assert only_room(store).config == EVERY_FIELD_CHANGED


def test_an_invalid_config_is_refused(store):
    with pytest.raises(NotAcceptable):
        store.save_room(ROOM, RoomConfig(persistent=True, whois="everybody"))
    with pytest.raises(TypeError):
        store.save_room(ROOM, {"persistent": True})
    assert store.load_rooms() == []


def test_rooms_are_independent_and_sorted_by_jid(stores, store):
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    store.save_room(OTHER, PERSISTENT)
    store.set_affiliation(OTHER, "a@example.org", Affiliation.MEMBER)
    rooms = stores.reopen(store).load_rooms()
    assert [r.jid for r in rooms] == [OTHER, ROOM]
    assert rooms[0].config == PERSISTENT and rooms[1].config == EVERY_FIELD_CHANGED
    assert list(rooms[0].affiliations) == ["a@example.org"] and rooms[1].affiliations == {}


# ---- affiliations -------------------------------------------------------------


def test_affiliations_round_trip_with_their_data(stores, store):
    store.save_room(ROOM, PERSISTENT)
    hats = {"reason": "helps", "nick": "Ali",
            "hats": [{"uri": "urn:h:1", "title": "Host", "hue": 120.5}], "n": None, "ok": True}
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.ADMIN, hats)
    store.set_affiliation(ROOM, "bob@example.net", Affiliation.MEMBER, None)
    store.set_affiliation(ROOM, "owner@example.org", Affiliation.OWNER, {})
    store.set_affiliation(ROOM, "spam.example", Affiliation.OUTCAST, {"reason": "spam server"})
    room = only_room(stores.reopen(store))
    assert room.affiliations == {
        "alice@example.org": (Affiliation.ADMIN, hats),
        "bob@example.net": (Affiliation.MEMBER, {}),
        "owner@example.org": (Affiliation.OWNER, {}),
        "spam.example": (Affiliation.OUTCAST, {"reason": "spam server"}),
    }


def test_setting_again_replaces_level_and_data(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER, {"nick": "Ali", "x": 1})
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.ADMIN, {"reason": "promoted"})
    assert only_room(stores.reopen(store)).affiliations == {
        "alice@example.org": (Affiliation.ADMIN, {"reason": "promoted"})}


def test_none_removes_the_entry_and_its_data(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER, {"nick": "Ali"})
    store.set_affiliation(ROOM, "bob@example.net", Affiliation.MEMBER)
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.NONE, {"reason": "bye"})
    store.set_affiliation(ROOM, "nobody@example.org", Affiliation.NONE)
    store = stores.reopen(store)
    assert only_room(store).affiliations == {"bob@example.net": (Affiliation.MEMBER, {})}
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER)
    assert only_room(store).affiliations["alice@example.org"] == (Affiliation.MEMBER, {})


@pytest.mark.parametrize("data, error", [
    ({"when": (1, 2)}, TypeError),          # would come back a list
    ({1: "one"}, TypeError),                # would come back "1"
    ({"x": float("nan")}, ValueError),
    ({"x": object()}, TypeError),
    (["reason"], TypeError),
    ({"x": {"y": {2: "z"}}}, TypeError),
], ids=["tuple", "int-key", "nan", "object", "list", "nested-int-key"])
def test_data_that_would_not_come_back_equal_is_refused(store, data, error):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER, {"nick": "Ali"})
    with pytest.raises(error):
        store.set_affiliation(ROOM, "alice@example.org", Affiliation.ADMIN, data)
    assert only_room(store).affiliations == {
        "alice@example.org": (Affiliation.MEMBER, {"nick": "Ali"})}


@pytest.mark.parametrize("user, affiliation", [
    ("alice@example.org", "owner"), ("", Affiliation.OWNER), (None, Affiliation.OWNER)])
def test_bad_users_or_levels_are_refused(store, user, affiliation):
    store.save_room(ROOM, PERSISTENT)
    with pytest.raises(TypeError):
        store.set_affiliation(ROOM, user, affiliation)
    assert only_room(store).affiliations == {}


def test_data_is_copied_in_and_out(store):
    store.save_room(ROOM, PERSISTENT)
    data = {"reason": "r", "hats": [{"uri": "u"}]}
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER, data)
    data["hats"].append({"uri": "later"})
    data["reason"] = "changed"
    loaded = only_room(store).affiliations
    loaded["alice@example.org"][1]["hats"].clear()
    loaded["bob@example.net"] = (Affiliation.OWNER, {})
    assert only_room(store).affiliations == {
        "alice@example.org": (Affiliation.MEMBER, {"reason": "r", "hats": [{"uri": "u"}]})}


def test_a_stored_room_rebuilds_a_domain_room(store):
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    store.set_affiliation(ROOM, "owner@example.org", Affiliation.OWNER)
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER, {"reason": "friend"})
    stored = only_room(store)
    room = Room(stored.jid, stored.config, affiliations=stored.affiliation_levels,
                affiliation_data=stored.affiliation_data)
    assert room.affiliation_of("owner@example.org/desk") is Affiliation.OWNER
    assert room.affiliation_data("alice@example.org") == {"reason": "friend"}
    assert room.affiliation_list(Affiliation.MEMBER) == [("alice@example.org",
                                                           {"reason": "friend"})]


# ---- subject -------------------------------------------------------------------


def test_subject_round_trips_and_is_replaced(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_subject(ROOM, Subject("First", "Owner", 10.25))
    assert only_room(stores.reopen(store)).subject == Subject("First", "Owner", 10.25)
    store = stores.reopen(store)
    store.save_subject(ROOM, Subject("Set by the room", None, 11))
    assert only_room(stores.reopen(store)).subject == Subject("Set by the room", None, 11.0)


def test_subject_can_be_cleared(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_subject(ROOM, Subject("First", "Owner", 10.0))
    store.save_subject(ROOM, Subject("", "Owner", 12.0))
    assert only_room(stores.reopen(store)).subject == Subject("", "Owner", 12.0)


@pytest.mark.parametrize("subject", [
    "plain text", Subject(None), Subject("t", 5), Subject("t", "n", "noon"),
    Subject("t", "n", math.inf)])
def test_bad_subjects_are_refused(store, subject):
    store.save_room(ROOM, PERSISTENT)
    with pytest.raises(TypeError):
        store.save_subject(ROOM, subject)
    assert only_room(store).subject == Subject()


# ---- history ---------------------------------------------------------------------


def test_history_keeps_arrival_order_and_every_field(stores, store):
    store.save_room(ROOM, PERSISTENT)
    entries = [entry(1, "alice"), entry(2, "bob", chars=0), HistoryEntry(999.5, "é", "<x/>", 4),
               HistoryEntry(999.5, "carol", "<y/>", 4)]  # stamps need not grow
    for e in entries:
        store.append_history(ROOM, e, 20)
    assert history_rows(only_room(stores.reopen(store)).history) == history_rows(entries)


def test_history_keeps_the_newest_limit_entries(stores, store):
    store.save_room(ROOM, PERSISTENT)
    for i in range(8):
        store.append_history(ROOM, entry(i), 5)
    assert payload_numbers(only_room(stores.reopen(store)).history) == [3, 4, 5, 6, 7]


def test_a_smaller_limit_trims_at_the_next_append(store):
    store.save_room(ROOM, PERSISTENT)
    for i in range(6):
        store.append_history(ROOM, entry(i), 10)
    store.append_history(ROOM, entry(6), 2)
    assert payload_numbers(only_room(store).history) == [5, 6]


def test_a_zero_limit_keeps_nothing(store):
    store.save_room(ROOM, PERSISTENT)
    store.append_history(ROOM, entry(0), 3)
    store.append_history(ROOM, entry(1), 0)
    assert only_room(store).history == []


def test_trimming_one_room_leaves_the_others(store):
    store.save_room(ROOM, PERSISTENT)
    store.save_room(OTHER, PERSISTENT)
    for i in range(4):
        store.append_history(OTHER, entry(i), 10)
        store.append_history(ROOM, entry(10 + i), 1)
    garden, lounge = store.load_rooms()
    assert payload_numbers(garden.history) == [0, 1, 2, 3]
    assert payload_numbers(lounge.history) == [13]


def test_retract_history_replaces_one_entry_by_its_message_number(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_room(OTHER, PERSISTENT)
    entries = [HistoryEntry(1000.0 + i, "alice", f"<m>{i}</m>", 5, 70 + i, "alice@example.org")
               for i in range(3)]
    for e in entries:
        store.append_history(ROOM, e, 10)
        store.append_history(OTHER, e, 10)
    assert store.retract_history(ROOM, 71, "<tombstone/>", 12) is True
    assert store.retract_history(ROOM, 99, "<tombstone/>", 12) is False
    garden, lounge = stores.reopen(store).load_rooms()
    assert [(e.payload, e.chars, e.seq, e.author) for e in lounge.history] == [
        ("<m>0</m>", 5, 70, "alice@example.org"), ("<tombstone/>", 12, 71, "alice@example.org"),
        ("<m>2</m>", 5, 72, "alice@example.org")]
    assert [e.payload for e in garden.history] == ["<m>0</m>", "<m>1</m>", "<m>2</m>"]


def test_retract_history_checks_its_arguments_and_the_room(store):
    store.save_room(ROOM, PERSISTENT)
    for args in (("71", "<t/>", 1), (71, b"<t/>", 1), (71, "<t/>", -1), (True, "<t/>", 1)):
        with pytest.raises(TypeError):
            store.retract_history(ROOM, *args)
    with pytest.raises(RoomNotStored):
        store.retract_history(OTHER, 71, "<t/>", 1)


def test_clear_history(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_room(OTHER, PERSISTENT)
    for i in range(3):
        store.append_history(ROOM, entry(i), 10)
    store.append_history(OTHER, entry(9), 10)
    store.clear_history(ROOM)
    store = stores.reopen(store)
    garden, lounge = store.load_rooms()
    assert lounge.history == [] and payload_numbers(garden.history) == [9]
    store.append_history(ROOM, entry(5), 10)
    assert payload_numbers(store.load_rooms()[1].history) == [5]


@pytest.mark.parametrize("bad", [
    HistoryEntry(1.0, "n", b"<message/>", 10),      # payload must be text
    HistoryEntry(1.0, "n", object(), 10),
    HistoryEntry(1.0, None, "<m/>", 10),
    HistoryEntry("now", "n", "<m/>", 10),
    HistoryEntry(1.0, "n", "<m/>", 1.5),
    HistoryEntry(1.0, "n", "<m/>", -1),
    ("1.0", "n", "<m/>", 1),
], ids=["bytes", "object", "nick", "stamp", "float-chars", "negative-chars", "tuple"])
def test_bad_entries_are_refused(store, bad):
    store.save_room(ROOM, PERSISTENT)
    with pytest.raises(TypeError):
        store.append_history(ROOM, bad, 10)
    assert only_room(store).history == []


@pytest.mark.parametrize("limit", [-1, 2.0, None, True])
def test_bad_limits_are_refused(store, limit):
    store.save_room(ROOM, PERSISTENT)
    with pytest.raises(ValueError):
        store.append_history(ROOM, entry(0), limit)
    assert only_room(store).history == []


def test_entries_are_copied_in_and_out(store):
    store.save_room(ROOM, PERSISTENT)
    e = entry(1)
    store.append_history(ROOM, e, 10)
    e.payload = "<changed/>"
    loaded = only_room(store).history
    loaded[0].nick = "mallory"
    loaded.append(entry(2))
    assert history_rows(only_room(store).history) == history_rows([entry(1)])


# ---- deleting ------------------------------------------------------------------------


def test_delete_removes_every_row_of_the_room_and_only_it(stores, store):
    for jid in (ROOM, OTHER):
        store.save_room(jid, EVERY_FIELD_CHANGED)
        store.set_affiliation(jid, "alice@example.org", Affiliation.OWNER, {"reason": "r"})
        store.save_subject(jid, Subject("Topic", "Alice", 3.0))
        store.append_history(jid, entry(1), 10)
    before_other = [r for r in snapshot(store) if r[0] == OTHER]
    assert store.delete_room(ROOM) is True
    store = stores.reopen(store)
    assert snapshot(store) == before_other
    # Created again, the room starts from nothing: no row of the old one remains.
    store.save_room(ROOM, PERSISTENT)
    room = [r for r in store.load_rooms() if r.jid == ROOM][0]
    assert (room.affiliations, room.subject, room.history) == ({}, Subject(), [])


def test_deleting_a_room_that_is_not_stored_is_not_an_error(store):
    assert store.delete_room(ROOM) is False
    store.save_room(ROOM, PERSISTENT)
    assert store.delete_room(ROOM) is True
    assert store.delete_room(ROOM) is False


# ---- the room's avatar ------------------------------------------------------------------


def test_avatar_round_trips_is_replaced_and_removed(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_room(OTHER, PERSISTENT)
    store = stores.reopen(store)
    assert only_avatar(store) is None
    store.save_avatar(ROOM, AVATAR)
    store = stores.reopen(store)
    assert only_avatar(store) == AVATAR
    other = Avatar("image/jpeg", b"\xff\xd8\xff" + b"\0" * 70000)
    store.save_avatar(ROOM, other)
    store = stores.reopen(store)
    assert only_avatar(store) == other and only_avatar(store).sha1 == other.sha1
    store.save_avatar(ROOM, None)
    assert only_avatar(stores.reopen(store)) is None


def only_avatar(store):
    """The avatar of ``ROOM``; ``OTHER`` never has one."""
    avatars = {r.jid: r.avatar for r in store.load_rooms()}
    assert avatars[OTHER] is None
    return avatars[ROOM]


def test_the_avatar_goes_with_its_room(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_room(OTHER, PERSISTENT)
    store.save_avatar(ROOM, AVATAR)
    store.delete_room(ROOM)
    store.save_room(ROOM, PERSISTENT)  # a new room of the same name has none
    assert only_avatar(stores.reopen(store)) is None


@pytest.mark.parametrize("bad", [b"\x89PNG", "image/png", ("image/png", b"x")])
def test_an_avatar_must_be_an_avatar(store, bad):
    store.save_room(ROOM, PERSISTENT)
    with pytest.raises(TypeError):
        store.save_avatar(ROOM, bad)
    assert only_room(store).avatar is None


def test_saving_the_config_keeps_the_avatar(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.save_avatar(ROOM, AVATAR)
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    assert only_room(stores.reopen(store)).avatar == AVATAR


# ---- rooms that are not stored ---------------------------------------------------------

CALLS_ON_A_ROOM = {
    "set_affiliation": lambda s: s.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER),
    "set_affiliation_none": lambda s: s.set_affiliation(ROOM, "a@example.org", Affiliation.NONE),
    "save_subject": lambda s: s.save_subject(ROOM, Subject("t", "n", 1.0)),
    "append_history": lambda s: s.append_history(ROOM, entry(1), 10),
    "clear_history": lambda s: s.clear_history(ROOM),
    "save_avatar": lambda s: s.save_avatar(ROOM, AVATAR),
    "save_avatar_none": lambda s: s.save_avatar(ROOM, None),
}


@pytest.mark.parametrize("call", CALLS_ON_A_ROOM.values(), ids=CALLS_ON_A_ROOM.keys())
@pytest.mark.parametrize("history", ["never-saved", "deleted"])
def test_calls_on_a_room_that_is_not_stored_raise(store, call, history):
    store.save_room(OTHER, PERSISTENT)
    if history == "deleted":
        store.save_room(ROOM, PERSISTENT)
        store.delete_room(ROOM)
    with pytest.raises(RoomNotStored) as caught:
        call(store)
    assert caught.value.room_jid == ROOM and isinstance(caught.value, LookupError)
    assert [r.jid for r in store.load_rooms()] == [OTHER]


# ---- replacing a whole room --------------------------------------------------------------


def full_room(jid=ROOM) -> StoredRoom:
    return StoredRoom(
        jid, EVERY_FIELD_CHANGED,
        affiliations={"owner@example.org": (Affiliation.OWNER, {}),
                      "alice@example.org": (Affiliation.MEMBER, {"nick": "Ali"}),
                      "gone@example.org": (Affiliation.NONE, {"reason": "ignored"})},
        subject=Subject("Topic", "Owner", 7.0),
        history=[entry(1), entry(2)], avatar=AVATAR)


def test_replace_room_stores_everything(stores, store):
    store.replace_room(full_room())
    room = only_room(stores.reopen(store))
    assert room.config == EVERY_FIELD_CHANGED and room.subject == Subject("Topic", "Owner", 7.0)
    assert room.affiliations == {"alice@example.org": (Affiliation.MEMBER, {"nick": "Ali"}),
                                 "owner@example.org": (Affiliation.OWNER, {})}
    assert history_rows(room.history) == history_rows([entry(1), entry(2)])
    assert room.avatar == AVATAR and room.avatar.sha1 == AVATAR.sha1


def test_replace_room_drops_what_the_room_had(stores, store):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "old@example.org", Affiliation.ADMIN)
    store.save_subject(ROOM, Subject("Old", "x", 1.0))
    store.append_history(ROOM, entry(0), 10)
    store.save_avatar(ROOM, AVATAR)
    store.replace_room(StoredRoom(ROOM, PERSISTENT))
    room = only_room(stores.reopen(store))
    assert (room.config, room.affiliations, room.subject, room.history, room.avatar) == (
        PERSISTENT, {}, Subject(), [], None)


def test_a_refused_replace_changes_nothing(store):
    store.replace_room(full_room())
    before = snapshot(store)
    bad = [
        dataclasses.replace(full_room(), config=RoomConfig()),
        dataclasses.replace(full_room(), affiliations={"a@b": (Affiliation.OWNER, {"t": (1,)})}),
        dataclasses.replace(full_room(), affiliations={"a@b": ("owner", {})}),
        dataclasses.replace(full_room(), history=[entry(1), HistoryEntry(1.0, "n", b"x", 1)]),
        dataclasses.replace(full_room(), subject=Subject(3)),
        dataclasses.replace(full_room(), avatar=b"not an Avatar"),
    ]
    for stored in bad:
        with pytest.raises((TypeError, ValueError)):
            store.replace_room(stored)
    assert snapshot(store) == before


# ---- closing -----------------------------------------------------------------------------------

EVERY_CALL = {
    "load_rooms": lambda s: s.load_rooms(),
    "save_room": lambda s: s.save_room(ROOM, PERSISTENT),
    "replace_room": lambda s: s.replace_room(StoredRoom(ROOM, PERSISTENT)),
    "delete_room": lambda s: s.delete_room(ROOM),
    **CALLS_ON_A_ROOM,
}


@pytest.mark.parametrize("call", EVERY_CALL.values(), ids=EVERY_CALL.keys())
def test_a_closed_store_refuses_every_call(store, call):
    store.save_room(ROOM, PERSISTENT)
    assert store.closed is False
    store.close()
    store.close()  # closing twice is harmless
    assert store.closed is True
    with pytest.raises(StoreClosed):
        call(store)


# ---- several writes as one -----------------------------------------------------------------


def test_apply_makes_every_write_in_order(stores, store):
    results = store.apply([
        Write("save_room", (ROOM, PERSISTENT)),
        Write("set_affiliation", (ROOM, "owner@example.org", Affiliation.OWNER)),
        Write("save_subject", (ROOM, Subject("Topic", "Owner", 7.0))),
        Write("append_history", (ROOM, entry(1), 10)),
        Write("save_avatar", (ROOM, AVATAR)),
        Write("delete_room", (OTHER,)),
    ])
    assert results == [None, None, None, None, None, False]
    room = only_room(stores.reopen(store))
    assert room.affiliations == {"owner@example.org": (Affiliation.OWNER, {})}
    assert room.subject == Subject("Topic", "Owner", 7.0)
    assert history_rows(room.history) == history_rows([entry(1)])
    assert room.avatar == AVATAR


@pytest.mark.parametrize("bad", [
    Write("set_affiliation", (ROOM, "a@b", Affiliation.OWNER, {"t": (1,)})),  # refused data
    Write("set_affiliation", (OTHER, "a@b", Affiliation.OWNER)),  # room not stored
    Write("append_history", (ROOM, entry(2), -1)),  # refused limit
])
def test_apply_is_all_or_nothing(stores, store, bad):
    store.replace_room(full_room())
    before = snapshot(store)
    with pytest.raises((TypeError, ValueError, LookupError)):
        store.apply([Write("set_affiliation", (ROOM, "new@example.org", Affiliation.ADMIN)),
                     Write("save_subject", (ROOM, Subject("Changed", None, None))),
                     Write("save_avatar", (ROOM, None)),
                     bad])
    assert snapshot(stores.reopen(store)) == before


def test_apply_of_nothing_writes_nothing(store):
    assert store.apply([]) == []
    assert store.load_rooms() == []


def test_a_write_names_a_store_method():
    with pytest.raises(ValueError):
        Write("close", ())
