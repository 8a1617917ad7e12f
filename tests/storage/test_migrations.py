"""The schema version and self-migration on open.

`V1_SCHEMA` is a frozen copy of the first released schema, written out
here rather than imported, so that a later change to the migration steps
is checked against the databases version 1 really left on disk."""

import sqlite3

import pytest

from mucsvc.rooms import Affiliation, RoomConfig, Subject
from mucsvc.storage import SchemaTooNew, SQLiteRoomStore, schema
from tests.storage.helpers import AVATAR, ROOM, history_rows, only_room

V1_SCHEMA = """
CREATE TABLE rooms (
    id INTEGER PRIMARY KEY, jid TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
    subject_text TEXT NOT NULL DEFAULT '', subject_nick TEXT, subject_stamp REAL);
CREATE TABLE affiliations (
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user TEXT NOT NULL, affiliation TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_id, user)) WITHOUT ROWID;
CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    stamp REAL NOT NULL, nick TEXT NOT NULL, payload TEXT NOT NULL, chars INTEGER NOT NULL);
CREATE INDEX history_by_room ON history (room_id, seq);
CREATE TABLE service (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""

V1_CONFIG = ('{"allow_invites": false, "allow_modpm": false, "allow_private_messages": "anyone",'
             ' "change_subject": true, "description": "", "get_member_list": [],'
             ' "history_length": 20, "language": "", "max_users": null, "members_only": false,'
             ' "moderated": false, "name": "Old lounge", "password": null, "persistent": true,'
             ' "presence_broadcast": ["moderator", "participant", "visitor"], "public": true,'
             ' "whois": "moderators"}')


def build_v1(path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V1_SCHEMA)
    conn.execute("INSERT INTO rooms VALUES (1, ?, ?, 'Welcome', 'Owner', 100.5)", (ROOM, V1_CONFIG))
    conn.execute("INSERT INTO affiliations VALUES (1, 'owner@example.org', 'owner', '{}')")
    conn.execute("INSERT INTO affiliations VALUES"
                 " (1, 'alice@example.org', 'member', '{\"nick\": \"Ali\"}')")
    conn.execute("INSERT INTO history (room_id, stamp, nick, payload, chars)"
                 " VALUES (1, 101.0, 'Owner', '<message><body>hi</body></message>', 34)")
    conn.execute("INSERT INTO service VALUES ('occupant_id_secret', ?)", (b"k" * 32,))
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def user_version(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_a_new_file_gets_the_current_version(tmp_path):
    store = SQLiteRoomStore(tmp_path / "new.sqlite")
    assert store.schema_version == schema.current_version() == len(schema.MIGRATIONS)
    store.close()
    assert user_version(tmp_path / "new.sqlite") == schema.current_version()


def test_a_version_1_database_migrates_to_the_current_version_keeping_its_rooms(tmp_path):
    path = tmp_path / "v1.sqlite"
    build_v1(path)
    store = SQLiteRoomStore(path)
    try:
        assert store.schema_version == schema.current_version()
        room = only_room(store)
        assert room.config == RoomConfig(persistent=True, public=True, name="Old lounge",
                                         change_subject=True)
        assert room.subject == Subject("Welcome", "Owner", 100.5)
        assert room.affiliations == {"owner@example.org": (Affiliation.OWNER, {}),
                                     "alice@example.org": (Affiliation.MEMBER, {"nick": "Ali"})}
        assert history_rows(room.history) == [
            (101.0, "Owner", "<message><body>hi</body></message>", 34)]
        assert store.legacy_secret() == b"k" * 32
        # The tombstones' step added their table, empty; the room has no
        # avatar, and takes one like a new room.
        assert store.load_tombstones() == []
        assert room.avatar is None
        store.save_avatar(ROOM, AVATAR)
        assert only_room(store).avatar == AVATAR
        # The migrated file works like a new one.
        store.append_history(ROOM, room.history[0], 1)
        assert store.delete_room(ROOM) and store.load_rooms() == []
        assert store.check_integrity() == "ok"
    finally:
        store.close()
    assert user_version(path) == schema.current_version()


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    build_v1(path)
    newer = schema.current_version() + 1
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {newer}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as caught:
        SQLiteRoomStore(path)
    assert (caught.value.found, caught.value.known) == (newer, schema.current_version())
    assert user_version(path) == newer and path.read_bytes() == before


# ---- the migration machinery, with steps made up for the test ----------------------


def _add_notes(conn):
    conn.execute("CREATE TABLE notes (room_id INTEGER REFERENCES rooms(id) ON DELETE CASCADE,"
                 " text TEXT)")
    conn.execute("INSERT INTO notes SELECT id, 'migrated ' || jid FROM rooms")


def _broken(conn):
    conn.execute("CREATE TABLE half_done (x)")
    raise RuntimeError("step failed")


def open_raw(path):
    return sqlite3.connect(path, isolation_level=None)


def test_each_missing_step_runs_once_in_order(tmp_path):
    path = tmp_path / "v1.sqlite"
    build_v1(path)
    steps = [*schema.MIGRATIONS, _add_notes]
    conn = open_raw(path)
    try:
        assert schema.migrate(conn, steps) == len(steps)
        assert schema.migrate(conn, steps) == len(steps)  # nothing left to do
        assert conn.execute("SELECT text FROM notes").fetchall() == [(f"migrated {ROOM}",)]
        assert schema.version_of(conn) == len(steps)
    finally:
        conn.close()


def test_a_failing_step_leaves_the_last_completed_version(tmp_path):
    path = tmp_path / "v1.sqlite"
    build_v1(path)
    conn = open_raw(path)
    try:
        with pytest.raises(RuntimeError):
            schema.migrate(conn, [*schema.MIGRATIONS, _add_notes, _broken])
        assert schema.version_of(conn) == len(schema.MIGRATIONS) + 1
        assert not conn.in_transaction
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
        assert "notes" in tables and "half_done" not in tables
    finally:
        conn.close()
