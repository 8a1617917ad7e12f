"""The room archive's figures, measured in one process on an SQLite file,
or on a PostgreSQL database (``database``: its URL).

- ``query``: a MAM query for the last 50 messages of a room holding
  ``--archive-messages`` messages among ``--archive-rooms`` rooms (the others
  hold ``--archive-others`` each): from the IQ's text arriving at the
  service's room handler to the last result written, median of
  ``--archive-queries`` queries;
- ``paging``: the whole of a room paged through 50 at a time, for two room
  sizes: the cost per message must not grow with the room;
- ``bytes``: file growth per archived message, over the size of that message
  as a client receives it.

Messages go through the service's own edge (`MessageHandler`) with a clock
of our own, so what is archived is exactly what the service archives; the
bulk fill of the large room copies such a message's stored text, numbered,
straight into the archive (a million messages through the edge would only
make the setup slow).

On PostgreSQL the store answers with Deferreds from its database thread:
`_Answers` stands in for the reactor's ``callFromThread`` and each figure
waits for the answer itself (a query's time includes the hand-over to the
database thread and back, as in the service); ``bytes`` is then the
growth of the archive table with its indexes.
"""

from __future__ import annotations

import os
import pathlib
import queue
import statistics
import time

from twisted.internet.task import Clock
from twisted.words.xish import domish

from mucsvc.muc import MUCService
from mucsvc.storage import SQLiteRoomStore
from mucsvc.storage.archive import ArchivedMessage
from mucsvc.storage.sqlite_archive import SQLiteArchive

DOMAIN = "muc.localhost"
T0 = 1_700_000_000
OWNER = "owner@load.localhost/r"


class _Wire:
    """Parses stanza text as the component's stream would, for the handler."""

    def __init__(self, handler):
        self.handler = handler
        self._stanzas = []
        self._stream = domish.elementStream()
        self._stream.DocumentStartEvent = lambda root: None
        self._stream.ElementEvent = self._stanzas.append
        self._stream.DocumentEndEvent = lambda: None
        self._stream.parse(b"<stream xmlns='jabber:component:accept'>")

    def receive(self, text: str) -> None:
        self._stream.parse(text.encode("utf-8"))
        while self._stanzas:
            stanza = self._stanzas.pop(0)
            from twisted.words.protocols.jabber.jid import JID
            self.handler.handle(stanza, JID(stanza["to"]))


class _Answers:
    """The database thread's answers, run in this thread when waited for."""

    def __init__(self):
        self.calls = queue.Queue()

    def deliver(self, f, *args):
        self.calls.put((f, args))

    def until(self, done, timeout: float = 60.0):
        while not done():
            f, args = self.calls.get(timeout=timeout)
            f(*args)

    def wait(self, result):
        from twisted.internet import defer
        if not isinstance(result, defer.Deferred):
            return result
        box = []
        result.addBoth(box.append)
        self.until(lambda: box)
        return box[0]


class _Backend:
    """The SQLite file ``path``, or the PostgreSQL ``database``."""

    def __init__(self, path: pathlib.Path, database: str | None):
        self.path = path
        self.database = database
        self.answers = _Answers()

    def service(self, clock: Clock, sent: list):
        if self.database is None:
            muc = MUCService(DOMAIN, sent.append, clock, store=SQLiteRoomStore(self.path),
                             archive=SQLiteArchive(self.path), archive_flush_interval=1.0)
            return muc, _Wire(muc.handler)
        from mucsvc.storage.pg_archive import PostgreSQLArchive
        from mucsvc.storage.pg_rooms import PostgreSQLRoomStore, open_link
        link = open_link(self.database)
        muc = MUCService(DOMAIN, sent.append, clock, store=PostgreSQLRoomStore(link),
                         archive=PostgreSQLArchive(link), archive_flush_interval=1.0)
        link.start(clock, self.answers.deliver)  # the rooms are loaded: Deferreds from now
        return muc, _Wire(muc.handler)

    def archive(self):
        """An archive for the bulk fill (PostgreSQL: answering at once)."""
        if self.database is None:
            return SQLiteArchive(self.path)
        from mucsvc.storage.pg_archive import PostgreSQLArchive
        return PostgreSQLArchive(self.database)

    def size(self, muc) -> int:
        """Bytes the archive takes now."""
        if self.database is None:
            muc.archive.archive._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return os.path.getsize(self.path)
        return self.answers.wait(muc.archive.archive.link.run(lambda conn: conn.execute(
            "SELECT pg_total_relation_size('muc_archive')").fetchone()[0]))

    def analyze(self, archive) -> None:
        """After a bulk fill: the planner's statistics, as autovacuum keeps
        them in a database that grew the usual way (SQLite needs none)."""
        if self.database is not None:
            archive.link.run(lambda conn: conn.execute("ANALYZE muc_archive"))

    def close(self, muc) -> None:
        self.answers.wait(muc.archive.stop())
        self.answers.wait(muc.app.store.close())
        self.answers.wait(muc.archive.archive.close())

    def answered(self, sent) -> None:
        """Wait until the last request's final answer (``<fin``) was sent."""
        if self.database is not None:
            self.answers.until(lambda: sent and "<fin" in sent[-1])


def _create(wire, room: str) -> None:
    wire.receive(f"<presence from='{OWNER}' to='{room}/owner'>"
                 "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    wire.receive(f"<iq type='set' id='c' from='{OWNER}' to='{room}'>"
                 "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                 "<x xmlns='jabber:x:data' type='submit'/></query></iq>")


def _create_persistent(wire, room: str) -> None:
    """A room that is kept (and so is its archive) across a restart."""
    _create(wire, room)
    wire.receive(f"<iq type='set' id='p' from='{OWNER}' to='{room}'>"
                 "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                 "<x xmlns='jabber:x:data' type='submit'>"
                 "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
                 "<field var='muc#roomconfig_persistentroom'><value>1</value></field>"
                 "</x></query></iq>")


def _message(room: str, n: int) -> str:
    return (f"<message from='{OWNER}' to='{room}' type='groupchat' id='m{n}'>"
            f"<body>Message {n}: the quick brown fox jumps over the lazy dog.</body></message>")


def _fill(archive, room: str, template: ArchivedMessage, count: int, start: int) -> int:
    """``count`` numbered copies of ``template`` in ``room``, in batches."""
    seq = start
    batch = []
    for i in range(count):
        seq += 1_000
        batch.append(ArchivedMessage(seq, room, template.nick, template.author,
                                     template.payload.replace("Message 0:", f"Message {i}:")))
        if len(batch) == 20_000:
            archive.append(batch)
            batch = []
    archive.append(batch)
    return seq


def measure(workdir: pathlib.Path, *, rooms: int = 100, messages: int = 1_000_000,
            others: int = 10_000, queries: int = 200, progress=print,
            databases=None) -> dict:
    """The figures; ``databases()``: the URL of a new, empty PostgreSQL
    database, for each phase (None: SQLite files in ``workdir``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    figures = {}

    def backend(name):
        return _Backend(workdir / name, databases() if databases is not None else None)

    # -- bytes per message, through the edge --------------------------------------
    where = backend("bytes.sqlite")
    clock, sent = Clock(), []
    clock.advance(T0)
    muc, wire = where.service(clock, sent)
    room = f"bytes@{DOMAIN}"
    _create(wire, room)
    where.answers.wait(muc.archive.flush())
    before = where.size(muc)
    del sent[:]
    count = 20_000
    xml_chars = 0
    for n in range(count):
        clock.advance(0.01)
        wire.receive(_message(room, n))
        xml_chars += sum(len(s.encode("utf-8")) for s in sent)  # the owner's own copy
        del sent[:]
    where.answers.wait(muc.archive.flush())
    grown = where.size(muc) - before
    figures["bytes_per_message"] = grown / count
    figures["xml_per_message"] = xml_chars / count
    figures["bytes_ratio"] = figures["bytes_per_message"] / figures["xml_per_message"]
    template = where.answers.wait(muc.archive.archive.query(room, _last(1))).messages[0]
    where.close(muc)
    progress(f"    bytes: {figures['bytes_per_message']:.0f} B on disk per message of "
             f"{figures['xml_per_message']:.0f} B XML ({figures['bytes_ratio']:.2f}x)")

    # -- the large room among many ------------------------------------------------
    # Persistent rooms: a restarted service drops the archives of rooms that
    # did not come back.
    where = backend("large.sqlite")
    big = f"big@{DOMAIN}"
    names = [f"room{k}@{DOMAIN}" for k in range(rooms - 1)]
    clock, sent = Clock(), []
    clock.advance(T0 - 10)
    muc, wire = where.service(clock, sent)
    for name in names + [big, f"p10k@{DOMAIN}", f"p100k@{DOMAIN}"]:
        _create_persistent(wire, name)
    where.close(muc)
    archive = where.archive()
    started = time.perf_counter()
    seq = T0 * 1_000_000
    for name in names:
        seq = _fill(archive, name, template, others, seq)
    seq = _fill(archive, big, template, messages, seq)
    where.analyze(archive)
    archive.close()
    progress(f"    filled {messages:,} + {rooms - 1} x {others:,} messages in "
             f"{time.perf_counter() - started:.0f} s")

    clock, sent = Clock(), []
    clock.advance(seq / 1_000_000 + 1)
    muc, wire = where.service(clock, sent)
    query = (f"<iq type='set' id='q' from='{OWNER}' to='{big}'>"
             "<query xmlns='urn:xmpp:mam:2' queryid='last'>"
             "<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set>"
             "</query></iq>")
    timings = []
    for _ in range(queries):
        del sent[:]
        t = time.perf_counter()
        wire.receive(query)
        where.answered(sent)
        timings.append(time.perf_counter() - t)
        if not sent or "<fin" not in sent[-1] or sent[0].count("<result") != 50:
            raise RuntimeError(f"unexpected answer to the query: {sent[-1][:200]!r}")
    figures["last50_ms"] = statistics.median(timings) * 1000

    # -- paging through whole rooms -------------------------------------------------
    # SQLite: the service's own archive (it knows its rooms' numbers);
    # PostgreSQL: one answering at once beside it.
    filler = where.archive() if where.database is not None else muc.archive.archive
    for name, size in ((f"p10k@{DOMAIN}", 10_000), (f"p100k@{DOMAIN}", 100_000)):
        seq = _fill(filler, name, template, size, seq)
        where.analyze(filler)
        figures[f"page_us_{size}"] = _page_through(wire, sent, name, size,
                                                   where) / size * 1e6
    figures["paging_growth"] = figures["page_us_100000"] / figures["page_us_10000"]
    if filler is not muc.archive.archive:
        filler.close()
    where.close(muc)
    progress(f"    last 50 of {messages:,}: {figures['last50_ms']:.2f} ms median; paging: "
             f"{figures['page_us_10000']:.1f} us/message (10k), "
             f"{figures['page_us_100000']:.1f} us/message (100k)")
    return figures


def _last(n):
    from mucsvc.storage.archive import ArchiveQuery
    return ArchiveQuery(max=n, last=True)


def _page_through(wire, sent, room: str, size: int, where) -> float:
    """Seconds to read the whole room, 50 at a time."""
    seen, after = 0, None
    started = time.perf_counter()
    while True:
        rsm = "<max>50</max>" + (f"<after>{after}</after>" if after else "")
        del sent[:]
        wire.receive(f"<iq type='set' id='p' from='{OWNER}' to='{room}'>"
                     f"<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>"
                     f"{rsm}</set></query></iq>")
        where.answered(sent)
        fin = sent[-1]
        seen += sent[0].count("<result") if len(sent) > 1 else 0
        if 'complete="true"' in fin:
            break
        after = fin.split("<last>", 1)[1].split("</last>", 1)[0]
    elapsed = time.perf_counter() - started
    if seen != size:
        raise RuntimeError(f"paged {seen} of {size} messages")
    return elapsed
