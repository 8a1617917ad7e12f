"""The SQLite schema and how a database file is brought up to date.

The schema's version is SQLite's ``PRAGMA user_version`` (0 in a new
file).  `MIGRATIONS[n]` takes a version-``n`` database to version ``n+1``;
`migrate` applies the missing steps in order, each in its own transaction
together with the new version number, so a crash mid-migration leaves the
file at the last completed version and the next start resumes from there.
A step may only append to this list: released steps never change, because
databases in the field were built by them.

Notes for writing a step: foreign-key enforcement cannot be switched
inside a transaction, so a step that rebuilds a referenced table must
copy rows in an order that keeps every reference valid (or rebuild the
children too).
"""

import sqlite3

from mucsvc.storage.errors import SchemaTooNew

# v1: rooms (configuration as JSON and the subject), affiliations with
# their data as JSON, history in arrival order, and service-wide settings
# such as the occupant-id secret.
_V1 = """
CREATE TABLE rooms (
    id            INTEGER PRIMARY KEY,
    jid           TEXT NOT NULL UNIQUE,
    config        TEXT NOT NULL,
    subject_text  TEXT NOT NULL DEFAULT '',
    subject_nick  TEXT,
    subject_stamp REAL
);
CREATE TABLE affiliations (
    room_id     INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    user        TEXT NOT NULL,
    affiliation TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_id, user)
) WITHOUT ROWID;
CREATE TABLE history (
    seq     INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    stamp   REAL NOT NULL,
    nick    TEXT NOT NULL,
    payload TEXT NOT NULL,
    chars   INTEGER NOT NULL
);
CREATE INDEX history_by_room ON history (room_id, seq);
CREATE TABLE service (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
"""


# v2: the room archive (see `mucsvc.storage.archive`), and the history's
# message numbers and authors (what moderation looks entries up by).  A message's ``seq``
# is its id and its time; rooms are numbered (``archive_rooms``) so a row
# carries a small integer rather than the room's JID, and a dropped room's
# number is never reused (AUTOINCREMENT) while ``archive_dropped`` lists the
# numbers whose rows are still to be reclaimed; ``messages`` counts a room's
# rows, so that the total of a query over the whole room costs no scan.
_V2 = """
CREATE TABLE archive_rooms (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    jid      TEXT NOT NULL UNIQUE,
    messages INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE archive_dropped (
    room INTEGER PRIMARY KEY
);
CREATE TABLE archive (
    seq       INTEGER PRIMARY KEY,
    room      INTEGER NOT NULL,
    nick      TEXT NOT NULL,
    author    TEXT NOT NULL,
    payload   TEXT NOT NULL,
    retracted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX archive_by_room ON archive (room, seq);
ALTER TABLE history ADD COLUMN seq_id INTEGER;
ALTER TABLE history ADD COLUMN author TEXT;
"""


def _statements(script: str) -> list:
    return [s.strip() for s in script.split(";") if s.strip()]


def _v0_to_v1(conn: sqlite3.Connection) -> None:
    for statement in _statements(_V1):
        conn.execute(statement)


# v3: tombstones of destroyed persistent rooms
# (`mucsvc.rooms.tombstones`), apart from ``rooms``: a tombstone outlives
# its room's rows, and a recreated room may be stored before its tombstone
# is deleted within the same transaction.
_TOMBSTONES = """
CREATE TABLE tombstones (
    jid             TEXT PRIMARY KEY,
    expires_at      REAL NOT NULL,
    reason          TEXT,
    alternate_venue TEXT
) WITHOUT ROWID;
"""


def _add_tombstones(conn: sqlite3.Connection) -> None:
    for statement in _statements(_TOMBSTONES):
        conn.execute(statement)


# v4: room avatars (XEP-0486), one row per room that has one, apart from
# ``rooms`` so that the image (up to tens of KiB) is not read or rewritten
# with every configuration change; it goes with its room (CASCADE).
_AVATARS = """
CREATE TABLE avatars (
    room_id    INTEGER PRIMARY KEY REFERENCES rooms(id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    data       BLOB NOT NULL
);
"""


def _add_avatars(conn: sqlite3.Connection) -> None:
    for statement in _statements(_AVATARS):
        conn.execute(statement)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    for statement in _statements(_V2):
        conn.execute(statement)


#: ``MIGRATIONS[n]`` upgrades version ``n`` to ``n + 1``.
MIGRATIONS = [_v0_to_v1, _v1_to_v2, _add_tombstones, _add_avatars]


def current_version() -> int:
    return len(MIGRATIONS)


def version_of(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def refuse_newer(conn: sqlite3.Connection, migrations=None) -> int:
    """The database's version; `SchemaTooNew` if a newer mucsvc wrote it.
    Called before anything (even the journal mode) changes the file."""
    known = len(MIGRATIONS if migrations is None else migrations)
    found = version_of(conn)
    if found > known:
        raise SchemaTooNew(found, known)
    return found


def migrate(conn: sqlite3.Connection, migrations=None) -> int:
    """Bring the database on ``conn`` (autocommit mode) to the newest version
    and return it.  `SchemaTooNew` if a newer mucsvc wrote it."""
    steps = MIGRATIONS if migrations is None else migrations
    target = len(steps)
    found = refuse_newer(conn, steps)
    while found < target:
        # IMMEDIATE: take the write lock before reading the version, so two
        # processes opening the same file cannot both run a step.
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = version_of(conn)
            if found < target:
                steps[found](conn)
                found += 1
                conn.execute(f"PRAGMA user_version = {found:d}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return found
