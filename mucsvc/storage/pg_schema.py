"""The PostgreSQL schema and how a database is brought up to date.

The version lives in ``mucsvc_schema`` (one row; no table: version 0).
`MIGRATIONS[n]` takes version ``n`` to ``n + 1``; `migrate` applies the
missing steps at start-up, all in one transaction that first takes a
transaction-level advisory lock, so two processes starting at once on the
same database never both run a step: the second waits for the first to
commit, then finds the database current.  Released steps never change;
new ones are appended.

Every table name starts with ``muc_`` so the service can share a database
(and a schema) with other software.

Message numbers.  An archived message's key is ``(room, seq)``, not
``seq`` alone: numbers come from each process's clock (`MessageIds`), so
two processes writing different rooms of one database may hand out the
same number, and that is no conflict.  Within one room a number is unique
as long as one process at a time serves the room; if a room moves to a
process whose clock is behind, its new messages may sort before older
ones but are still stored (see `mucsvc.storage.pg_archive` for an exact
collision).
"""

from __future__ import annotations

from mucsvc.storage.errors import SchemaTooNew

#: The advisory lock key of migrations (``'mucsvc'`` as a number).
MIGRATION_LOCK = 0x6D75637376630001

# v1: rooms (configuration as JSON, the subject), affiliations with their
# data as JSON, the history in arrival order (``id``) with message numbers
# and authors, tombstones of destroyed rooms, and the service secret (one
# row, made by the first process to need it).
_V1 = """
CREATE TABLE muc_rooms (
    id            bigserial PRIMARY KEY,
    jid           text NOT NULL UNIQUE,
    config        text NOT NULL,
    subject_text  text NOT NULL DEFAULT '',
    subject_nick  text,
    subject_stamp double precision
);
CREATE TABLE muc_affiliations (
    room_id     bigint NOT NULL REFERENCES muc_rooms (id) ON DELETE CASCADE,
    jid         text NOT NULL,
    affiliation text NOT NULL,
    data        text NOT NULL DEFAULT '{}',
    PRIMARY KEY (room_id, jid)
);
CREATE TABLE muc_history (
    id      bigserial PRIMARY KEY,
    room_id bigint NOT NULL REFERENCES muc_rooms (id) ON DELETE CASCADE,
    stamp   double precision NOT NULL,
    nick    text NOT NULL,
    payload text NOT NULL,
    chars   integer NOT NULL,
    seq     bigint,
    author  text
);
CREATE INDEX muc_history_by_room ON muc_history (room_id, id);
CREATE TABLE muc_tombstones (
    jid             text PRIMARY KEY,
    expires_at      double precision NOT NULL,
    reason          text,
    alternate_venue text
);
CREATE TABLE muc_service_secret (
    id    boolean PRIMARY KEY DEFAULT true CHECK (id),
    value bytea NOT NULL CHECK (length(value) = 32)
)
"""

# v2: the room archive.  Rooms are numbered (``muc_archive_rooms``), a
# dropped room's number is never reused and ``muc_archive_dropped`` lists
# the numbers whose rows are still to be reclaimed; ``messages`` counts a
# room's rows, so the total of a query over a whole room costs no scan.
_V2 = """
CREATE TABLE muc_archive_rooms (
    id       bigserial PRIMARY KEY,
    jid      text NOT NULL UNIQUE,
    messages bigint NOT NULL DEFAULT 0
);
CREATE TABLE muc_archive_dropped (
    room bigint PRIMARY KEY
);
CREATE TABLE muc_archive (
    room      bigint NOT NULL,
    seq       bigint NOT NULL,
    nick      text NOT NULL,
    author    text NOT NULL,
    payload   text NOT NULL,
    retracted boolean NOT NULL DEFAULT false,
    PRIMARY KEY (room, seq)
);
CREATE INDEX muc_archive_by_seq ON muc_archive (seq)
"""


# v3: room avatars (XEP-0486), one row per room that has one, apart from
# the configuration so that reading a room's options never reads an image.
_V3 = """
CREATE TABLE muc_avatars (
    room_id    bigint PRIMARY KEY REFERENCES muc_rooms (id) ON DELETE CASCADE,
    media_type text NOT NULL,
    data       bytea NOT NULL
)
"""


# v4: the component slot leases of several processes behind ejabberd
# (`mucsvc.storage.pg_slots`): one row per slot, made when first claimed;
# ``expires`` is in the database's time, so no two processes' clocks are
# ever compared; ``reconnect``: a former holder asks the present one to
# connect again (its own connection kept ejabberd's slot too long).
_V4 = """
CREATE TABLE muc_component_slots (
    slot      integer PRIMARY KEY,
    holder    text,
    expires   timestamptz NOT NULL DEFAULT '-infinity',
    reconnect boolean NOT NULL DEFAULT false
)
"""


# v5: who is in the rooms of each holder (`mucsvc.storage.pg_occupants`),
# so that the process taking over a dead holder's slot can tell them.
_V5 = """
CREATE TABLE muc_occupants (
    room_jid text NOT NULL,
    full_jid text NOT NULL,
    nick     text NOT NULL,
    holder   text NOT NULL,
    PRIMARY KEY (room_jid, full_jid, holder)
);
CREATE INDEX muc_occupants_by_holder ON muc_occupants (holder)
"""


def _script(text: str):
    def step(conn):
        for statement in (s.strip() for s in text.split(";")):
            if statement:
                conn.execute(statement)
    return step


#: ``MIGRATIONS[n]`` upgrades version ``n`` to ``n + 1``.
MIGRATIONS = [_script(_V1), _script(_V2), _script(_V3), _script(_V4), _script(_V5)]


def current_version() -> int:
    return len(MIGRATIONS)


def version_of(conn) -> int:
    """The database's schema version (0: nothing of ours yet)."""
    exists = conn.execute("SELECT to_regclass('mucsvc_schema')").fetchone()[0]
    if exists is None:
        return 0
    row = conn.execute("SELECT version FROM mucsvc_schema").fetchone()
    return 0 if row is None else row[0]


def migrate(conn, migrations=None) -> int:
    """Bring the database on ``conn`` (autocommit mode) to the newest
    version and return it; `SchemaTooNew` if a newer mucsvc wrote it."""
    steps = MIGRATIONS if migrations is None else migrations
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        found = version_of(conn)
        if found > len(steps):
            raise SchemaTooNew(found, len(steps))
        if found == 0:
            conn.execute("CREATE TABLE IF NOT EXISTS mucsvc_schema (version integer NOT NULL)")
        while found < len(steps):
            steps[found](conn)
            found += 1
        conn.execute("DELETE FROM mucsvc_schema")
        conn.execute("INSERT INTO mucsvc_schema (version) VALUES (%s)", (found,))
    return found
