"""`IArchive` in the service's SQLite file, beside the rooms.

It has a connection of its own to the same file (WAL mode: readers never
wait for the writer), so a batch of archived messages is its own short
transaction, never part of a room change's.  Every query is a range of
the ``(room, seq)`` index: "the last 50" reads 51 index entries and rows
whatever the room's size, and paging through a room reads each row once.
Durability is the room store's (``synchronous=NORMAL``, see
`mucsvc.storage.sqlite`): a committed batch survives ``kill -9``.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import replace

from zope.interface import implementer

from mucsvc.storage import schema
from mucsvc.storage.archive import (
    ArchivedMessage, ArchiveItemNotFound, ArchivePage, IArchive, open_bounds, page_rows,
)
from mucsvc.storage.errors import StoreClosed

_COLUMNS = "seq, nick, author, payload, retracted"


@implementer(IArchive)
class SQLiteArchive:
    """The archive in the SQLite file at ``path`` (migrated if needed)."""

    def __init__(self, path, *, durable: bool = False, timeout: float = 5.0):
        self.path = os.fspath(path)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = " + ("FULL" if durable else "NORMAL"))
            schema.migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        #: room JID -> its number, for rooms that have an archive.
        self._ids: dict = dict((jid, id_) for id_, jid in
                               conn.execute("SELECT id, jid FROM archive_rooms"))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosed()
        return self._conn

    def _write(self, work):
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _room_number(self, conn, room_jid: str) -> int:
        number = self._ids.get(room_jid)
        if number is None:
            number = conn.execute("INSERT INTO archive_rooms (jid) VALUES (?)",
                                  (room_jid,)).lastrowid
        return number

    # ---- IArchive --------------------------------------------------------------

    def append(self, messages) -> None:
        messages = list(messages)
        if not messages:
            return
        created = {}

        def work(conn):
            rows = []
            added = {}
            for message in messages:
                number = created.get(message.room_jid)
                if number is None:
                    number = created[message.room_jid] = self._room_number(conn, message.room_jid)
                added[number] = added.get(number, 0) + 1
                rows.append((message.seq, number, message.nick, message.author, message.payload,
                             int(message.retracted)))
            conn.executemany("INSERT INTO archive (seq, room, nick, author, payload, retracted)"
                             " VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.executemany("UPDATE archive_rooms SET messages = messages + ? WHERE id = ?",
                             [(n, number) for number, n in added.items()])
        self._write(work)
        self._ids.update(created)  # only once committed

    def query(self, room_jid, query) -> ArchivePage:
        conn = self._connection()
        number = self._ids.get(room_jid)
        for bound in (query.after, query.before):
            if bound is not None and (number is None or conn.execute(
                    "SELECT 1 FROM archive WHERE seq = ? AND room = ?",
                    (bound, number)).fetchone() is None):
                raise ArchiveItemNotFound(bound)
        if number is None:
            return ArchivePage([], True, 0 if query.count else None)
        where, args = _range(number, query)
        order = "DESC" if query.last else "ASC"
        rows = conn.execute(f"SELECT {_COLUMNS} FROM archive WHERE {where}"
                            f" ORDER BY seq {order} LIMIT ?", (*args, query.max + 1)).fetchall()
        rows, complete = page_rows(rows, query)
        count = None
        if query.count:
            count = self._count(conn, number, query)
        return ArchivePage([_message(room_jid, row) for row in rows], complete, count)

    @staticmethod
    def _count(conn, number: int, query) -> int:
        """The messages the query selects, paging bounds aside (RSM's
        count): the room's counter when nothing else narrows it."""
        if query.start is None and query.end is None and query.nick is None and query.ids is None:
            return conn.execute("SELECT messages FROM archive_rooms WHERE id = ?",
                                (number,)).fetchone()[0]
        where, args = _range(number, replace(query, after=None, before=None))
        return conn.execute(f"SELECT count(*) FROM archive WHERE {where}", args).fetchone()[0]

    def get(self, room_jid, seq):
        number = self._ids.get(room_jid)
        if number is None:
            return None
        row = self._connection().execute(
            f"SELECT {_COLUMNS} FROM archive WHERE seq = ? AND room = ?", (seq, number)).fetchone()
        return None if row is None else _message(room_jid, row)

    def retract(self, room_jid, seq, tombstone) -> bool:
        return self._replace(room_jid, seq, tombstone, 1)

    def restore(self, room_jid, seq, payload) -> bool:
        return self._replace(room_jid, seq, payload, 0)

    def _replace(self, room_jid, seq, payload, retracted: int) -> bool:
        number = self._ids.get(room_jid)
        if number is None:
            return False
        return self._write(lambda conn: conn.execute(
            "UPDATE archive SET payload = ?, retracted = ? WHERE seq = ? AND room = ?",
            (payload, retracted, seq, number)).rowcount > 0)

    def bounds(self, room_jid):
        number = self._ids.get(room_jid)
        if number is None:
            return None
        conn = self._connection()
        first = conn.execute(f"SELECT {_COLUMNS} FROM archive WHERE room = ? ORDER BY seq"
                             " LIMIT 1", (number,)).fetchone()
        if first is None:
            return None
        last = conn.execute(f"SELECT {_COLUMNS} FROM archive WHERE room = ? ORDER BY seq DESC"
                            " LIMIT 1", (number,)).fetchone()
        return _message(room_jid, first), _message(room_jid, last)

    def room_jids(self) -> list:
        self._connection()
        return sorted(self._ids)

    def newest_seq(self) -> int:
        row = self._connection().execute("SELECT max(seq) FROM archive").fetchone()
        return row[0] or 0

    def drop_room(self, room_jid) -> None:
        number = self._ids.get(room_jid)
        if number is None:
            return

        def work(conn):
            conn.execute("INSERT OR IGNORE INTO archive_dropped (room) VALUES (?)", (number,))
            conn.execute("DELETE FROM archive_rooms WHERE id = ?", (number,))
        self._write(work)
        del self._ids[room_jid]

    def purge(self, limit: int) -> int:
        conn = self._connection()
        deleted = 0
        for (number,) in conn.execute("SELECT room FROM archive_dropped").fetchall():
            if deleted >= limit:
                break

            def work(conn, number=number, budget=limit - deleted):
                gone = conn.execute("DELETE FROM archive WHERE seq IN (SELECT seq FROM archive"
                                    " WHERE room = ? LIMIT ?)", (number, budget)).rowcount
                if gone < budget:
                    conn.execute("DELETE FROM archive_dropped WHERE room = ?", (number,))
                return gone
            deleted += self._write(work)
        return deleted

    def expire(self, before_seq: int, limit: int) -> int:
        def work(conn):
            # seq is the rowid: the oldest rows are the first of the table.
            gone = conn.execute("SELECT room, count(*), max(seq) FROM (SELECT room, seq FROM archive"
                                " WHERE seq < ? ORDER BY seq LIMIT ?) GROUP BY room",
                                (before_seq, limit)).fetchall()
            if not gone:
                return 0
            last = max(row[2] for row in gone)
            deleted = conn.execute("DELETE FROM archive WHERE seq <= ?", (last,)).rowcount
            conn.executemany("UPDATE archive_rooms SET messages = messages - ? WHERE id = ?",
                             [(n, number) for number, n, _ in gone])
            return deleted
        return self._write(work)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _range(number: int, query):
    """The WHERE clause and its arguments for ``query`` in room ``number``."""
    clauses, args = ["room = ?"], [number]
    low, high = open_bounds(query)
    if low is not None:
        clauses.append("seq > ?")
        args.append(low)
    if high is not None:
        clauses.append("seq < ?")
        args.append(high)
    if query.nick is not None:
        clauses.append("nick = ?")
        args.append(query.nick)
    if query.ids is not None:
        clauses.append(f"seq IN ({','.join('?' * len(query.ids))})")
        args.extend(query.ids)
    return " AND ".join(clauses), args


def _message(room_jid: str, row) -> ArchivedMessage:
    seq, nick, author, payload, retracted = row
    return ArchivedMessage(seq, room_jid, nick, author, payload, bool(retracted))
