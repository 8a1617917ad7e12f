"""`IArchive` in the PostgreSQL database, beside the rooms.

The same contract as `mucsvc.storage.sqlite_archive` (the archive suite
runs against both), on the room store's `DatabaseLink`: a batch of
archived messages is one transaction of its own, queued on the link's
thread after every room change handed in before it; every method returns
a Deferred once the link is started.  Queries are ranges of the
``(room, seq)`` primary key, and "the last 50" reads 51 rows whatever the
room's size.

A message's key is ``(room, seq)``.  Should a batch hold a number the
room already has (a room moved to a process whose clock is behind, and
it handed out the very same microsecond), the message is not lost nor is
the batch refused for ever: it is stored under the next number above the
room's newest, with a log line (the stanza id clients saw live then
differs from the archive's for that one message).  A number taken by a
message of the same nick and author is that message (recovered from the
history by the process a room moved to, see `MucApplication.restore`):
it is not stored twice.  A room's rows are
found by its number, looked up by JID in each transaction (nothing is
cached), so another process's changes to the room numbers are seen.
"""

from __future__ import annotations

from dataclasses import replace

from twisted.logger import Logger
from zope.interface import implementer

from mucsvc.storage.archive import (
    ArchivedMessage, ArchiveItemNotFound, ArchivePage, IArchive, open_bounds, page_rows,
)
from mucsvc.storage.errors import StoreClosed
from mucsvc.storage.pg_rooms import open_link

_COLUMNS = "seq, nick, author, payload, retracted"

log = Logger()


@implementer(IArchive)
class PostgreSQLArchive:
    """The archive in the database ``link`` reaches (a `DatabaseLink`, or
    a conninfo string for a link of its own)."""

    def __init__(self, link):
        if isinstance(link, str):
            link = open_link(link)
        self.link = link.acquire()
        self._closed = False

    def _run(self, work):
        if self._closed:
            raise StoreClosed()
        return self.link.run(work)

    # ---- IArchive --------------------------------------------------------------

    def append(self, messages):
        messages = list(messages)
        if not messages:
            return self._run(lambda conn: None)
        return self._run(lambda conn: _append(conn, messages))

    def query(self, room_jid, query):
        return self._run(lambda conn: _query(conn, room_jid, query))

    def get(self, room_jid, seq):
        def work(conn):
            row = conn.execute(f"SELECT {_COLUMNS} FROM muc_archive a JOIN muc_archive_rooms r"
                               " ON r.id = a.room WHERE r.jid = %s AND a.seq = %s",
                               (room_jid, seq)).fetchone()
            return None if row is None else _message(room_jid, row)
        return self._run(work)

    def retract(self, room_jid, seq, tombstone):
        return self._replace(room_jid, seq, tombstone, True)

    def restore(self, room_jid, seq, payload):
        return self._replace(room_jid, seq, payload, False)

    def _replace(self, room_jid, seq, payload, retracted: bool):
        return self._run(lambda conn: conn.execute(
            "UPDATE muc_archive SET payload = %s, retracted = %s FROM muc_archive_rooms r"
            " WHERE r.jid = %s AND muc_archive.room = r.id AND muc_archive.seq = %s",
            (payload, retracted, room_jid, seq)).rowcount > 0)

    def bounds(self, room_jid):
        def work(conn):
            rows = conn.execute(
                f"(SELECT {_COLUMNS} FROM muc_archive WHERE room = (SELECT id FROM"
                " muc_archive_rooms WHERE jid = %(jid)s) ORDER BY seq LIMIT 1) UNION ALL"
                f" (SELECT {_COLUMNS} FROM muc_archive WHERE room = (SELECT id FROM"
                " muc_archive_rooms WHERE jid = %(jid)s) ORDER BY seq DESC LIMIT 1)",
                {"jid": room_jid}).fetchall()
            if not rows:
                return None
            return _message(room_jid, rows[0]), _message(room_jid, rows[-1])
        return self._run(work)

    def room_jids(self):
        return self._run(lambda conn: [row[0] for row in conn.execute(
            "SELECT jid FROM muc_archive_rooms ORDER BY jid COLLATE \"C\"")])

    def newest_seq(self):
        return self._run(lambda conn: conn.execute(
            "SELECT coalesce(max(seq), 0) FROM muc_archive").fetchone()[0])

    def drop_room(self, room_jid):
        def work(conn):
            row = conn.execute("DELETE FROM muc_archive_rooms WHERE jid = %s RETURNING id",
                               (room_jid,)).fetchone()
            if row is not None:
                conn.execute("INSERT INTO muc_archive_dropped (room) VALUES (%s)"
                             " ON CONFLICT DO NOTHING", (row[0],))
        return self._run(work)

    def purge(self, limit: int):
        def work(conn):
            deleted = 0
            for (number,) in conn.execute("SELECT room FROM muc_archive_dropped").fetchall():
                if deleted >= limit:
                    break
                budget = limit - deleted
                gone = conn.execute("DELETE FROM muc_archive WHERE room = %(room)s AND seq IN"
                                    " (SELECT seq FROM muc_archive WHERE room = %(room)s"
                                    " LIMIT %(budget)s)",
                                    {"room": number, "budget": budget}).rowcount
                if gone < budget:
                    conn.execute("DELETE FROM muc_archive_dropped WHERE room = %s", (number,))
                deleted += gone
            return deleted
        return self._run(work)

    def expire(self, before_seq: int, limit: int):
        def work(conn):
            gone = conn.execute(
                "WITH gone AS (DELETE FROM muc_archive WHERE (room, seq) IN (SELECT room, seq"
                " FROM muc_archive WHERE seq < %s ORDER BY seq LIMIT %s) RETURNING room)"
                " SELECT room, count(*) FROM gone GROUP BY room", (before_seq, limit)).fetchall()
            with conn.cursor() as cursor:
                if gone:
                    cursor.executemany("UPDATE muc_archive_rooms SET messages = messages - %s"
                                       " WHERE id = %s", [(n, number) for number, n in gone])
            return sum(n for _, n in gone)
        return self._run(work)

    def close(self):
        if self._closed:
            return None
        self._closed = True
        return self.link.release()


def _append(conn, messages) -> None:
    numbers = {}
    added = {}
    rows = []
    for message in messages:
        number = numbers.get(message.room_jid)
        if number is None:
            number = numbers[message.room_jid] = conn.execute(
                "INSERT INTO muc_archive_rooms (jid) VALUES (%s) ON CONFLICT (jid)"
                " DO UPDATE SET jid = excluded.jid RETURNING id", (message.room_jid,)).fetchone()[0]
        rows.append((number, message.seq, message.nick, message.author, message.payload,
                     bool(message.retracted)))
    with conn.cursor() as cursor:
        # One round trip for the batch (psycopg pipelines executemany);
        # each row's RETURNING says whether its (room, seq) was free.
        cursor.executemany("INSERT INTO muc_archive (room, seq, nick, author, payload, retracted)"
                           " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (room, seq) DO NOTHING"
                           " RETURNING seq", rows, returning=True)
        taken = []
        for row in rows:
            if cursor.fetchone() is None:
                taken.append(row)
            cursor.nextset()
        stored = [row for row in rows if row not in taken]
        stored += [row for row in taken if _renumbered(conn, row)]
        for row in stored:
            added[row[0]] = added.get(row[0], 0) + 1
        cursor.executemany("UPDATE muc_archive_rooms SET messages = messages + %s WHERE id = %s",
                           [(n, number) for number, n in added.items()])


def _renumbered(conn, row) -> bool:
    """Store ``row`` whose (room, seq) is taken under the room's next free
    number; or, when the row there has the same nick and author, take it
    for the same message (a process that took the room over recovered it
    from the history first) and give it this payload: False then."""
    number, seq, *rest = row
    same = conn.execute("UPDATE muc_archive SET payload = %s, retracted = %s WHERE room = %s"
                        " AND seq = %s AND nick = %s AND author = %s",
                        (row[4], row[5], number, seq, row[2], row[3])).rowcount
    if same:
        return False
    new = conn.execute("INSERT INTO muc_archive (room, seq, nick, author, payload, retracted)"
                       " SELECT %s, max(seq) + 1, %s, %s, %s, %s FROM muc_archive WHERE room = %s"
                       " RETURNING seq", (number, *rest, number)).fetchone()[0]
    log.warn("archive: message number {seq} was taken in room {room}; stored as {new}",
             seq=seq, room=number, new=new)
    return True


def _query(conn, room_jid, query) -> ArchivePage:
    # Two round trips: the room's number, its counter and whether the
    # paging ids exist, in one; then the page.
    row = conn.execute(
        "SELECT id, messages,"
        " %(after)s::bigint IS NULL OR EXISTS (SELECT 1 FROM muc_archive"
        "   WHERE room = r.id AND seq = %(after)s),"
        " %(before)s::bigint IS NULL OR EXISTS (SELECT 1 FROM muc_archive"
        "   WHERE room = r.id AND seq = %(before)s)"
        " FROM muc_archive_rooms r WHERE jid = %(jid)s",
        {"jid": room_jid, "after": query.after, "before": query.before}).fetchone()
    number, messages, after_found, before_found = row if row is not None else (None, 0,
                                                                                False, False)
    for bound, found in ((query.after, after_found), (query.before, before_found)):
        if bound is not None and not found:
            raise ArchiveItemNotFound(bound)
    if number is None:
        return ArchivePage([], True, 0 if query.count else None)
    where, args = _range(number, query)
    order = "DESC" if query.last else "ASC"
    rows = conn.execute(f"SELECT {_COLUMNS} FROM muc_archive WHERE {where}"
                        f" ORDER BY seq {order} LIMIT %s", (*args, query.max + 1)).fetchall()
    rows, complete = page_rows(rows, query)
    count = None
    if query.count:
        if query.start is None and query.end is None and query.nick is None and query.ids is None:
            count = messages
        else:
            where, args = _range(number, replace(query, after=None, before=None))
            count = conn.execute(f"SELECT count(*) FROM muc_archive WHERE {where}",
                                 args).fetchone()[0]
    return ArchivePage([_message(room_jid, row) for row in rows], complete, count)


def _range(number: int, query):
    clauses, args = ["room = %s"], [number]
    low, high = open_bounds(query)
    if low is not None:
        clauses.append("seq > %s")
        args.append(low)
    if high is not None:
        clauses.append("seq < %s")
        args.append(high)
    if query.nick is not None:
        clauses.append("nick = %s")
        args.append(query.nick)
    if query.ids is not None:
        clauses.append("seq = ANY(%s)")
        args.append(list(query.ids))
    return " AND ".join(clauses), args


def _message(room_jid: str, row) -> ArchivedMessage:
    seq, nick, author, payload, retracted = row
    return ArchivedMessage(seq, room_jid, nick, author, payload, bool(retracted))
