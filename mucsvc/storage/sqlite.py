"""`IRoomStore` in an SQLite file, with the standard library's ``sqlite3``.

Calls run synchronously on the caller's thread (the reactor's): each is a
single short transaction on a small, indexed table, which costs far less
than handing work to a thread pool and back, and it keeps the order of
changes exactly the order of calls.

Durability.  Every call commits before it returns.  The file is in WAL
mode with ``synchronous=NORMAL`` by default: a commit is handed to the
operating system (written into the ``-wal`` file) before the call
returns, so killing the process at any moment, ``kill -9`` included,
loses no change a call returned from; what NORMAL does not promise is
that the last commits survive an operating-system crash or a power loss
(the file stays consistent, but may come back a few commits older),
because it does not wait for the disk on each commit.  That is the
trade-off chosen for chat rooms: one ``fsync`` per message would cost
more than everything else a message does.  ``durable=True`` selects
``synchronous=FULL``, which waits for the disk on every commit and so also
survives power loss.

Integrity.  Foreign keys are enforced and every row of a room refers to
it with ``ON DELETE CASCADE``, so deleting a room can never leave orphans.
`check_integrity` returns SQLite's own ``PRAGMA integrity_check`` verdict
("ok" when the file is sound).  The schema migrates itself on open (see
`mucsvc.storage.schema`).
"""

import os
import sqlite3
from contextlib import contextmanager

from twisted.logger import Logger
from zope.interface import implementer

from mucsvc.rooms.roles import Affiliation
from mucsvc.storage import codec, schema
from mucsvc.storage.errors import RoomNotStored, StoreClosed, StoreDamaged
from mucsvc.storage.interface import IRoomStore, StoredRoom, Write

log = Logger()

_SECRET_KEY = "occupant_id_secret"


@implementer(IRoomStore)
class SQLiteRoomStore:
    """The rooms of one service in the SQLite file at ``path`` (created if
    missing; ``":memory:"`` gives a private in-memory database).

    ``durable``: wait for the disk on every commit (see module docstring).
    ``timeout``: seconds to wait for another connection's write lock.
    """

    def __init__(self, path, *, durable: bool = False, timeout: float = 5.0):
        self.path = os.fspath(path)
        self.durable = durable
        # isolation_level=None: no implicit transactions; we BEGIN ourselves.
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        try:
            _check_header(conn, self.path)
            schema.refuse_newer(conn)
            self.journal_mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if self.journal_mode != "wal" and self.path != ":memory:":
                log.warn("SQLite could not use WAL for {path} (journal mode {mode})",
                         path=self.path, mode=self.journal_mode)
            conn.execute("PRAGMA synchronous = " + ("FULL" if durable else "NORMAL"))
            conn.execute("PRAGMA foreign_keys = ON")
            self.schema_version = schema.migrate(conn)
        except sqlite3.DatabaseError as e:
            conn.close()
            if isinstance(e, sqlite3.OperationalError):
                raise
            raise StoreDamaged(self.path, str(e)) from None
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # ---- plumbing ----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosed()
        return self._conn

    @contextmanager
    def _transaction(self, write: bool = True):
        """One transaction, committed on success (the commit is what makes
        a call's change durable), rolled back on any error."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # Some errors end the transaction themselves; a second ROLLBACK
            # would then hide the real error.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _room_id(conn, room_jid: str) -> int:
        row = conn.execute("SELECT id FROM rooms WHERE jid = ?", (room_jid,)).fetchone()
        if row is None:
            raise RoomNotStored(room_jid)
        return row[0]

    # ---- IRoomStore ----------------------------------------------------------

    def load_rooms(self) -> list:
        try:
            return self._load_rooms()
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError):
                raise
            raise StoreDamaged(self.path, str(e)) from None

    def _load_rooms(self) -> list:
        with self._transaction(write=False) as conn:
            rooms = conn.execute(
                "SELECT id, jid, config, subject_text, subject_nick, subject_stamp"
                " FROM rooms ORDER BY jid").fetchall()
            affiliations = conn.execute(
                "SELECT room_id, user, affiliation, data FROM affiliations"
                " ORDER BY room_id, user").fetchall()
            history = conn.execute(
                "SELECT room_id, stamp, nick, payload, chars, seq_id, author FROM history"
                " ORDER BY room_id, seq").fetchall()
            avatars = conn.execute("SELECT room_id, media_type, data FROM avatars").fetchall()
        by_id = {}
        result = []
        for room_id, jid, config, text, nick, stamp in rooms:
            stored = StoredRoom(jid, codec.decode_config(jid, config),
                                subject=codec.subject_from_row(text, nick, stamp))
            by_id[room_id] = stored
            result.append(stored)
        for room_id, user, affiliation, data in affiliations:
            stored = by_id[room_id]
            try:
                level = Affiliation(affiliation)
                data = codec.decode_data(data)
            except ValueError:
                log.warn("Room {room}: skipping unreadable affiliation of {user}",
                         room=stored.jid, user=user)
                continue
            stored.affiliations[user] = (level, data)
        for room_id, *row in history:
            by_id[room_id].history.append(codec.history_from_row(*row))
        for room_id, media_type, data in avatars:
            stored = by_id[room_id]
            stored.avatar = codec.avatar_from_row(stored.jid, media_type, data)
        return result

    def load_tombstones(self) -> list:
        try:
            with self._transaction(write=False) as conn:
                rows = conn.execute("SELECT jid, expires_at, reason, alternate_venue"
                                    " FROM tombstones ORDER BY jid").fetchall()
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError):
                raise
            raise StoreDamaged(self.path, str(e)) from None
        return [codec.tombstone_from_row(*row) for row in rows]

    def save_room(self, room_jid, config) -> None:
        self.apply([Write("save_room", (room_jid, config))])

    def replace_room(self, stored) -> None:
        self.apply([Write("replace_room", (stored,))])

    def delete_room(self, room_jid) -> bool:
        return self.apply([Write("delete_room", (room_jid,))])[0]

    def set_affiliation(self, room_jid, user, affiliation, data=None) -> None:
        self.apply([Write("set_affiliation", (room_jid, user, affiliation, data))])

    def save_subject(self, room_jid, subject) -> None:
        self.apply([Write("save_subject", (room_jid, subject))])

    def save_avatar(self, room_jid, avatar) -> None:
        self.apply([Write("save_avatar", (room_jid, avatar))])

    def append_history(self, room_jid, entry, limit) -> None:
        self.apply([Write("append_history", (room_jid, entry, limit))])

    def clear_history(self, room_jid) -> None:
        self.apply([Write("clear_history", (room_jid,))])

    def save_tombstone(self, tombstone) -> None:
        self.apply([Write("save_tombstone", (tombstone,))])

    def delete_tombstone(self, room_jid) -> bool:
        return self.apply([Write("delete_tombstone", (room_jid,))])[0]

    def retract_history(self, room_jid, seq, payload, chars) -> bool:
        return self.apply([Write("retract_history", (room_jid, seq, payload, chars))])[0]

    def apply(self, writes) -> list:
        """Every write in one transaction: all of them or, on any error,
        none.  Values are checked and encoded before the transaction
        begins.  Returns each write's result (True/False for
        ``delete_room``, ``delete_tombstone`` and ``retract_history``, None
        for the others)."""
        steps = [getattr(self, "_" + write.method)(*write.args) for write in map(_write, writes)]
        if not steps:
            return []
        with self._transaction() as conn:
            return [step(conn) for step in steps]

    # Each _name checks and encodes its arguments, and returns the step
    # that writes them inside the caller's transaction.

    def _save_room(self, room_jid, config):
        text = codec.encode_config(room_jid, config)

        def step(conn):
            conn.execute("INSERT INTO rooms (jid, config) VALUES (?, ?)"
                         " ON CONFLICT (jid) DO UPDATE SET config = excluded.config",
                         (room_jid, text))
        return step

    def _replace_room(self, stored):
        config, subject, affiliations, history = codec.encode_room(stored)
        avatar = codec.avatar_row(stored.avatar)

        def step(conn):
            # An upsert, not INSERT OR REPLACE: replacing the row would
            # cascade-delete and renumber the room.
            conn.execute("INSERT INTO rooms (jid, config, subject_text, subject_nick,"
                         " subject_stamp) VALUES (?, ?, ?, ?, ?) ON CONFLICT (jid) DO UPDATE"
                         " SET config = excluded.config, subject_text = excluded.subject_text,"
                         " subject_nick = excluded.subject_nick,"
                         " subject_stamp = excluded.subject_stamp",
                         (stored.jid, config, *subject))
            room_id = self._room_id(conn, stored.jid)
            conn.execute("DELETE FROM affiliations WHERE room_id = ?", (room_id,))
            conn.execute("DELETE FROM history WHERE room_id = ?", (room_id,))
            conn.executemany("INSERT INTO affiliations (room_id, user, affiliation, data)"
                             " VALUES (?, ?, ?, ?)",
                             [(room_id, user, affiliation.value, data)
                              for user, affiliation, data in affiliations])
            conn.executemany("INSERT INTO history (room_id, stamp, nick, payload, chars,"
                             " seq_id, author) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(room_id, *row) for row in history])
            self._write_avatar(conn, room_id, avatar)
        return step

    @staticmethod
    def _write_avatar(conn, room_id: int, row) -> None:
        if row is None:
            conn.execute("DELETE FROM avatars WHERE room_id = ?", (room_id,))
        else:
            conn.execute("INSERT OR REPLACE INTO avatars (room_id, media_type, data)"
                         " VALUES (?, ?, ?)", (room_id, row[0], row[1]))

    def _delete_room(self, room_jid):
        def step(conn):
            return conn.execute("DELETE FROM rooms WHERE jid = ?", (room_jid,)).rowcount > 0
        return step

    def _set_affiliation(self, room_jid, user, affiliation, data=None):
        codec.check_user(user)
        codec.check_affiliation(affiliation)
        text = codec.encode_data(data)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            if affiliation is Affiliation.NONE:
                conn.execute("DELETE FROM affiliations WHERE room_id = ? AND user = ?",
                             (room_id, user))
            else:
                conn.execute("INSERT OR REPLACE INTO affiliations"
                             " (room_id, user, affiliation, data) VALUES (?, ?, ?, ?)",
                             (room_id, user, affiliation.value, text))
        return step

    def _save_subject(self, room_jid, subject):
        row = codec.subject_row(subject)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("UPDATE rooms SET subject_text = ?, subject_nick = ?,"
                         " subject_stamp = ? WHERE id = ?", (*row, room_id))
        return step

    def _save_avatar(self, room_jid, avatar):
        row = codec.avatar_row(avatar)

        def step(conn):
            self._write_avatar(conn, self._room_id(conn, room_jid), row)
        return step

    def _append_history(self, room_jid, entry, limit):
        row = codec.history_row(entry)
        limit = codec.check_limit(limit)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("INSERT INTO history (room_id, stamp, nick, payload, chars, seq_id,"
                         " author) VALUES (?, ?, ?, ?, ?, ?, ?)", (room_id, *row))
            # Everything at or below the (limit+1)-th newest goes; the index
            # on (room_id, seq) makes this a short range scan.
            conn.execute("DELETE FROM history WHERE room_id = ?1 AND seq <= ("
                         " SELECT seq FROM history WHERE room_id = ?1"
                         " ORDER BY seq DESC LIMIT 1 OFFSET ?2)", (room_id, limit))
        return step

    def _clear_history(self, room_jid):
        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("DELETE FROM history WHERE room_id = ?", (room_id,))
        return step

    def _save_tombstone(self, tombstone):
        row = codec.tombstone_row(tombstone)

        def step(conn):
            conn.execute("INSERT OR REPLACE INTO tombstones (jid, expires_at, reason,"
                         " alternate_venue) VALUES (?, ?, ?, ?)", row)
        return step

    def _delete_tombstone(self, room_jid):
        def step(conn):
            return conn.execute("DELETE FROM tombstones WHERE jid = ?",
                                (room_jid,)).rowcount > 0
        return step

    def _retract_history(self, room_jid, seq, payload, chars):
        seq, payload, chars = codec.check_retraction(seq, payload, chars)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            # A room's history is short (its limit): the (room_id, seq) index
            # narrows this to it.
            return conn.execute("UPDATE history SET payload = ?, chars = ? WHERE room_id = ?"
                                " AND seq_id = ?", (payload, chars, room_id, seq)).rowcount > 0
        return step

    def legacy_secret(self) -> bytes | None:
        """The service secret older versions kept in this file (None if
        none): it now lives in a file of its own (`mucsvc.storage.secret`)."""
        try:
            with self._transaction(write=False) as conn:
                row = conn.execute("SELECT value FROM service WHERE key = ?",
                                   (_SECRET_KEY,)).fetchone()
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError):
                raise
            raise StoreDamaged(self.path, str(e)) from None
        return None if row is None else bytes(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ---- SQLite only ----------------------------------------------------------

    def check_integrity(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` verdict: ``"ok"``, or its list
        of problems one per line."""
        rows = self._connection().execute("PRAGMA integrity_check").fetchall()
        return "\n".join(row[0] for row in rows)


def _write(write) -> Write:
    """A `Write` (checked against the store's write methods) from a record or a pair."""
    return write if isinstance(write, Write) else Write(*write)


def _check_header(conn, path: str) -> None:
    """Reading the schema is the first thing that touches the file's pages:
    a damaged header shows here."""
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
