"""`IRoomStore` in a PostgreSQL database (psycopg 3).

Every call is one transaction on the `DatabaseLink`'s thread, so the
reactor never waits for the database: once the link is started, every
method returns a Deferred (before that, at start-up, the plain result).
Values are checked and encoded by `mucsvc.storage.codec` in the caller's
thread, before anything is sent, so this store accepts, refuses and gives
back exactly what the SQLite and memory stores do (the contract suite and
the equivalence test run against all three).

Durability is PostgreSQL's: a call's Deferred fires once its transaction
committed (with the server's ``synchronous_commit``, on by default, the
commit is on the server's disk).  Deleting a room cascades to its
affiliations and history (foreign keys with ``ON DELETE CASCADE``).
"""

from __future__ import annotations

from twisted.internet import defer
from zope.interface import implementer

from mucsvc.rooms.roles import Affiliation
from mucsvc.storage import codec
from mucsvc.storage.errors import RoomNotStored, StoreClosed
from mucsvc.storage.interface import IRoomStore, StoredRoom, Write
from mucsvc.storage.pg_link import DatabaseLink


def open_link(conninfo: str, **options) -> DatabaseLink:
    """A link to ``conninfo`` whose first connection brings the schema up
    to date (`mucsvc.storage.pg_schema`); connects at once, so a wrong
    setting shows at start-up."""
    from mucsvc.storage import pg_schema
    link = DatabaseLink(conninfo, on_connect=lambda conn: pg_schema.migrate(conn), **options)
    try:
        link.run(lambda conn: None)
    except BaseException:
        link.close()
        raise
    return link


def _then(result, f):
    """``f(result)``, or the same on the Deferred ``result`` fires with."""
    if isinstance(result, defer.Deferred):
        return result.addCallback(f)
    return f(result)


@implementer(IRoomStore)
class PostgreSQLRoomStore:
    """The rooms of one service in the database ``link`` reaches (a
    `DatabaseLink`; or a conninfo string, for which a link of its own is
    opened)."""

    def __init__(self, link):
        if isinstance(link, str):
            link = open_link(link)
        self.link = link.acquire()
        self._closed = False

    # ---- plumbing -----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def _run(self, work):
        if self._closed:
            raise StoreClosed()
        return self.link.run(work)

    @staticmethod
    def _room_id(conn, room_jid: str) -> int:
        row = conn.execute("SELECT id FROM muc_rooms WHERE jid = %s", (room_jid,)).fetchone()
        if row is None:
            raise RoomNotStored(room_jid)
        return row[0]

    # ---- IRoomStore ---------------------------------------------------------------

    def load_rooms(self):
        return self._run(_load_rooms)

    def load_tombstones(self):
        def work(conn):
            rows = conn.execute("SELECT jid, expires_at, reason, alternate_venue"
                                " FROM muc_tombstones ORDER BY jid COLLATE \"C\"").fetchall()
            return [codec.tombstone_from_row(*row) for row in rows]
        return self._run(work)

    def save_room(self, room_jid, config):
        return _then(self.apply([Write("save_room", (room_jid, config))]), _none)

    def replace_room(self, stored):
        return _then(self.apply([Write("replace_room", (stored,))]), _none)

    def delete_room(self, room_jid):
        return _then(self.apply([Write("delete_room", (room_jid,))]), _first)

    def set_affiliation(self, room_jid, user, affiliation, data=None):
        return _then(self.apply([Write("set_affiliation", (room_jid, user, affiliation, data))]),
                     _none)

    def save_subject(self, room_jid, subject):
        return _then(self.apply([Write("save_subject", (room_jid, subject))]), _none)

    def append_history(self, room_jid, entry, limit):
        return _then(self.apply([Write("append_history", (room_jid, entry, limit))]), _none)

    def save_avatar(self, room_jid, avatar):
        return _then(self.apply([Write("save_avatar", (room_jid, avatar))]), _none)

    def clear_history(self, room_jid):
        return _then(self.apply([Write("clear_history", (room_jid,))]), _none)

    def save_tombstone(self, tombstone):
        return _then(self.apply([Write("save_tombstone", (tombstone,))]), _none)

    def delete_tombstone(self, room_jid):
        return _then(self.apply([Write("delete_tombstone", (room_jid,))]), _first)

    def retract_history(self, room_jid, seq, payload, chars):
        return _then(self.apply([Write("retract_history", (room_jid, seq, payload, chars))]),
                     _first)

    def apply(self, writes):
        """Every write in one transaction: all of them or, on any error,
        none.  Values are checked and encoded before anything is sent."""
        if self._closed:
            raise StoreClosed()
        writes = [w if isinstance(w, Write) else Write(*w) for w in writes]
        steps = [getattr(self, "_" + write.method)(*write.args) for write in writes]
        if not steps:
            return [] if not self.link.started else defer.succeed([])
        return self._run(lambda conn: [step(conn) for step in steps])

    def close(self):
        if self._closed:
            return None
        self._closed = True
        return self.link.release()

    # Each _name checks and encodes its arguments (raising at once) and
    # returns the step that writes them inside the transaction.

    def _save_room(self, room_jid, config):
        text = codec.encode_config(room_jid, config)

        def step(conn):
            conn.execute("INSERT INTO muc_rooms (jid, config) VALUES (%s, %s)"
                         " ON CONFLICT (jid) DO UPDATE SET config = excluded.config",
                         (room_jid, text))
        return step

    def _replace_room(self, stored):
        config, subject, affiliations, history = codec.encode_room(stored)
        avatar = codec.avatar_row(stored.avatar)

        def step(conn):
            room_id = conn.execute(
                "INSERT INTO muc_rooms (jid, config, subject_text, subject_nick, subject_stamp)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (jid) DO UPDATE"
                " SET config = excluded.config, subject_text = excluded.subject_text,"
                " subject_nick = excluded.subject_nick, subject_stamp = excluded.subject_stamp"
                " RETURNING id", (stored.jid, config, *subject)).fetchone()[0]
            conn.execute("DELETE FROM muc_affiliations WHERE room_id = %s", (room_id,))
            conn.execute("DELETE FROM muc_history WHERE room_id = %s", (room_id,))
            with conn.cursor() as cursor:
                if affiliations:
                    cursor.executemany(
                        "INSERT INTO muc_affiliations (room_id, jid, affiliation, data)"
                        " VALUES (%s, %s, %s, %s)",
                        [(room_id, user, affiliation.value, data)
                         for user, affiliation, data in affiliations])
                if history:
                    cursor.executemany(
                        "INSERT INTO muc_history (room_id, stamp, nick, payload, chars, seq,"
                        " author) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(room_id, *row) for row in history])
            _write_avatar(conn, room_id, avatar)
        return step

    def _delete_room(self, room_jid):
        def step(conn):
            return conn.execute("DELETE FROM muc_rooms WHERE jid = %s",
                                (room_jid,)).rowcount > 0
        return step

    def _set_affiliation(self, room_jid, user, affiliation, data=None):
        codec.check_user(user)
        codec.check_affiliation(affiliation)
        text = codec.encode_data(data)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            if affiliation is Affiliation.NONE:
                conn.execute("DELETE FROM muc_affiliations WHERE room_id = %s AND jid = %s",
                             (room_id, user))
            else:
                conn.execute("INSERT INTO muc_affiliations (room_id, jid, affiliation, data)"
                             " VALUES (%s, %s, %s, %s) ON CONFLICT (room_id, jid) DO UPDATE"
                             " SET affiliation = excluded.affiliation, data = excluded.data",
                             (room_id, user, affiliation.value, text))
        return step

    def _save_subject(self, room_jid, subject):
        row = codec.subject_row(subject)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("UPDATE muc_rooms SET subject_text = %s, subject_nick = %s,"
                         " subject_stamp = %s WHERE id = %s", (*row, room_id))
        return step

    def _save_avatar(self, room_jid, avatar):
        row = codec.avatar_row(avatar)

        def step(conn):
            _write_avatar(conn, self._room_id(conn, room_jid), row)
        return step

    def _append_history(self, room_jid, entry, limit):
        row = codec.history_row(entry)
        limit = codec.check_limit(limit)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("INSERT INTO muc_history (room_id, stamp, nick, payload, chars, seq,"
                         " author) VALUES (%s, %s, %s, %s, %s, %s, %s)", (room_id, *row))
            # Everything at or below the (limit+1)-th newest goes: a short
            # range of the (room_id, id) index.
            conn.execute("DELETE FROM muc_history WHERE room_id = %(room)s AND id <= ("
                         " SELECT id FROM muc_history WHERE room_id = %(room)s"
                         " ORDER BY id DESC LIMIT 1 OFFSET %(limit)s)",
                         {"room": room_id, "limit": limit})
        return step

    def _clear_history(self, room_jid):
        def step(conn):
            room_id = self._room_id(conn, room_jid)
            conn.execute("DELETE FROM muc_history WHERE room_id = %s", (room_id,))
        return step

    def _save_tombstone(self, tombstone):
        row = codec.tombstone_row(tombstone)

        def step(conn):
            conn.execute("INSERT INTO muc_tombstones (jid, expires_at, reason, alternate_venue)"
                         " VALUES (%s, %s, %s, %s) ON CONFLICT (jid) DO UPDATE"
                         " SET expires_at = excluded.expires_at, reason = excluded.reason,"
                         " alternate_venue = excluded.alternate_venue", row)
        return step

    def _delete_tombstone(self, room_jid):
        def step(conn):
            return conn.execute("DELETE FROM muc_tombstones WHERE jid = %s",
                                (room_jid,)).rowcount > 0
        return step

    def _retract_history(self, room_jid, seq, payload, chars):
        seq, payload, chars = codec.check_retraction(seq, payload, chars)

        def step(conn):
            room_id = self._room_id(conn, room_jid)
            return conn.execute("UPDATE muc_history SET payload = %s, chars = %s"
                                " WHERE room_id = %s AND seq = %s",
                                (payload, chars, room_id, seq)).rowcount > 0
        return step


def _load_rooms(conn) -> list:
    # COLLATE "C": the same order as Python's sort (and SQLite's), whatever
    # the database's collation.
    rooms = conn.execute("SELECT id, jid, config, subject_text, subject_nick, subject_stamp"
                         " FROM muc_rooms ORDER BY jid COLLATE \"C\"").fetchall()
    affiliations = conn.execute("SELECT room_id, jid, affiliation, data FROM muc_affiliations"
                                " ORDER BY room_id, jid COLLATE \"C\"").fetchall()
    history = conn.execute("SELECT room_id, stamp, nick, payload, chars, seq, author"
                           " FROM muc_history ORDER BY room_id, id").fetchall()
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
            continue
        stored.affiliations[user] = (level, data)
    for room_id, *row in history:
        by_id[room_id].history.append(codec.history_from_row(*row))
    for room_id, media_type, data in conn.execute(
            "SELECT room_id, media_type, data FROM muc_avatars").fetchall():
        stored = by_id[room_id]
        stored.avatar = codec.avatar_from_row(stored.jid, media_type, bytes(data))
    return result


def _write_avatar(conn, room_id: int, row) -> None:
    """The room's avatar row as ``row`` says: ``(media type, bytes)``, or
    None for none."""
    if row is None:
        conn.execute("DELETE FROM muc_avatars WHERE room_id = %s", (room_id,))
    else:
        conn.execute("INSERT INTO muc_avatars (room_id, media_type, data) VALUES (%s, %s, %s)"
                     " ON CONFLICT (room_id) DO UPDATE SET media_type = excluded.media_type,"
                     " data = excluded.data", (room_id, row[0], row[1]))


def _none(_):
    return None


def _first(results):
    return results[0]
