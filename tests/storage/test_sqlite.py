"""What only the SQLite store has: a file, its settings, its integrity
check, and rows that must really be gone when a room is."""

import sqlite3

import pytest
from twisted.logger import capturedLogs

from mucsvc.rooms import Affiliation, RoomConfig, Subject
from mucsvc.storage import SQLiteRoomStore, StoreClosed
from tests.storage.helpers import EVERY_FIELD_CHANGED, OTHER, PERSISTENT, ROOM, entry, only_room


@pytest.fixture
def path(tmp_path):
    return tmp_path / "rooms.sqlite"


@pytest.fixture
def store(path):
    store = SQLiteRoomStore(path)
    yield store
    store.close()


def raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def query(path, sql) -> list:
    conn = raw(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(path, table) -> int:
    return query(path, f"SELECT count(*) FROM {table}")[0][0]


def test_the_file_is_in_wal_mode_with_normal_sync_and_foreign_keys(store, path):
    assert store.journal_mode == "wal"
    assert query(path, "PRAGMA journal_mode") == [("wal",)]  # recorded in the file
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_durable_selects_full_sync(path):
    store = SQLiteRoomStore(path, durable=True)
    try:
        assert store.durable and store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    finally:
        store.close()


def test_a_path_may_be_text(path):
    store = SQLiteRoomStore(str(path))
    store.save_room(ROOM, PERSISTENT)
    store.close()
    store = SQLiteRoomStore(path)
    assert only_room(store).config == PERSISTENT
    store.close()


def test_another_object_on_the_same_file_sees_every_change_without_reopening(store, path):
    reader = SQLiteRoomStore(path)
    try:
        store.save_room(ROOM, EVERY_FIELD_CHANGED)
        store.set_affiliation(ROOM, "owner@example.org", Affiliation.OWNER, {"nick": "O"})
        store.save_subject(ROOM, Subject("T", "O", 1.0))
        store.append_history(ROOM, entry(1), 5)
        room = only_room(reader)
        assert room.config == EVERY_FIELD_CHANGED and room.subject == Subject("T", "O", 1.0)
        assert room.affiliations == {"owner@example.org": (Affiliation.OWNER, {"nick": "O"})}
        assert len(room.history) == 1
    finally:
        reader.close()


def test_deleting_a_room_leaves_no_row_behind(store, path):
    for jid in (ROOM, OTHER):
        store.save_room(jid, PERSISTENT)
        store.set_affiliation(jid, "a@example.org", Affiliation.OWNER)
        store.append_history(jid, entry(1), 5)
    store.delete_room(ROOM)
    assert [count(path, t) for t in ("rooms", "affiliations", "history")] == [1, 1, 1]
    store.delete_room(OTHER)
    assert [count(path, t) for t in ("rooms", "affiliations", "history")] == [0, 0, 0]
    assert query(path, "PRAGMA foreign_key_check") == []


def test_trimmed_history_rows_are_deleted(store, path):
    store.save_room(ROOM, PERSISTENT)
    for i in range(50):
        store.append_history(ROOM, entry(i), 3)
    assert count(path, "history") == 3


def test_check_integrity_says_ok(store):
    store.save_room(ROOM, EVERY_FIELD_CHANGED)
    store.append_history(ROOM, entry(1), 5)
    assert store.check_integrity() == "ok"
    store.close()
    with pytest.raises(StoreClosed):
        store.check_integrity()


def test_a_config_written_by_another_version_loads(store, path):
    store.save_room(ROOM, PERSISTENT)
    conn = raw(path)
    conn.execute("UPDATE rooms SET config = ? WHERE jid = ?",
                 ('{"persistent": true, "name": "Old", "future_option": 1}', ROOM))
    conn.close()
    with capturedLogs() as events:
        room = only_room(store)
    assert room.config == RoomConfig(persistent=True, name="Old")
    assert any(e.get("options") == ["future_option"] for e in events)
    assert any("history_length" in e.get("options", ()) for e in events)


def test_an_affiliation_this_version_does_not_know_is_skipped(store, path):
    store.save_room(ROOM, PERSISTENT)
    store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)
    conn = raw(path)
    conn.execute("INSERT INTO affiliations (room_id, user, affiliation, data)"
                 " SELECT id, 'b@example.org', 'superowner', '{}' FROM rooms")
    conn.close()
    with capturedLogs() as events:
        room = only_room(store)
    assert room.affiliations == {"a@example.org": (Affiliation.OWNER, {})}
    assert [e["user"] for e in events] == ["b@example.org"]


def test_a_failed_call_leaves_no_transaction_open(store, path):
    store.save_room(ROOM, PERSISTENT)
    # A failure inside the transaction (a constraint here) rolls it back...
    conn = raw(path)
    conn.execute("CREATE TRIGGER no_bob BEFORE INSERT ON affiliations"
                 " WHEN NEW.user = 'bob@example.org' BEGIN SELECT RAISE(ABORT, 'no bob'); END")
    conn.close()
    with pytest.raises(sqlite3.IntegrityError):
        store.set_affiliation(ROOM, "bob@example.org", Affiliation.MEMBER)
    # ...and the store goes on working.
    assert not store._conn.in_transaction
    store.set_affiliation(ROOM, "alice@example.org", Affiliation.MEMBER)
    reopened = SQLiteRoomStore(path)
    assert list(only_room(reopened).affiliations) == ["alice@example.org"]
    reopened.close()
