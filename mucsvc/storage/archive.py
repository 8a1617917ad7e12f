"""The room archive (XEP-0313 on a room's JID) as the service sees it.

An archived message is a neutral record: its sequence number, the room,
the sender's nick and real bare JID, and the reflected stanza as text with
an empty ``to`` and without the parts the room adds on the way out (stanza
id, delay), so one stored copy serves every reader.

Sequence numbers are the messages' identity.  They are microseconds since
the epoch, made strictly increasing by `MessageIds` (two messages in one
microsecond, or a clock stepping back, take the next free number), so one
integer is at once the stanza id clients see (its decimal text, as ejabberd
does), the time the room received the message, and the archive's order.
Paging by id, by time and "the last N" are then all ranges of one index.

The archive is never held in memory: queries read the store.  Stores may
return Deferreds from any method (the PostgreSQL archive does, once its
link is started); the SQLite and memory archives return plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zope.interface import Interface


class ArchiveItemNotFound(LookupError):
    """A query names an id (``after``/``before``) the room's archive lacks."""


@dataclass(slots=True)
class ArchivedMessage:
    """One message of a room's archive.  ``retracted``: the payload is a
    tombstone (moderation or self-retraction replaced the original)."""

    seq: int
    room_jid: str
    nick: str
    author: str
    payload: str
    retracted: bool = False

    @property
    def stamp(self) -> float:
        """When the room received it, in seconds since the epoch."""
        return self.seq / 1_000_000

    @property
    def sid(self) -> str:
        return sid_text(self.seq)


@dataclass(slots=True)
class ArchiveQuery:
    """One page request.  Bounds are sequence numbers: ``start``/``end``
    inclusive (times, turned into numbers by `seq_at`), ``after``/``before``
    exclusive (ids of messages that must exist in the room).  ``last``: the
    page at the end of the range rather than its start (RSM's ``<before/>``).
    ``nick``: only messages sent under this nick.  ``ids``: only these
    messages.  ``max``: page size; one more is read to know whether the page
    is the last."""

    max: int = 20
    start: int | None = None
    end: int | None = None
    after: int | None = None
    before: int | None = None
    last: bool = False
    nick: str | None = None
    ids: tuple | None = None
    count: bool = False


def open_bounds(query: "ArchiveQuery") -> tuple:
    """``(low, high)``: the query's range as exclusive sequence bounds (None:
    unbounded), its times and its paging ids together; every archive reads
    the same range from these."""
    low = None if query.start is None else query.start - 1
    if query.after is not None:
        low = query.after if low is None else max(low, query.after)
    high = None if query.end is None else query.end + 1
    if query.before is not None:
        high = query.before if high is None else min(high, query.before)
    return low, high


def page_rows(rows: list, query: "ArchiveQuery") -> tuple[list, bool]:
    """Rows a SQL archive read for ``query`` (at most ``max + 1``, in the
    direction of paging): the page's rows oldest first, and whether it is
    complete (the one row more told whether anything lies beyond)."""
    complete = len(rows) <= query.max
    rows = rows[:query.max]
    if query.last:
        rows.reverse()
    return rows, complete


@dataclass(slots=True)
class ArchivePage:
    """``messages`` oldest first; ``complete``: nothing further in the
    direction of paging; ``count``: matches in the whole range (only when
    asked for: counting a large room is not free)."""

    messages: list = field(default_factory=list)
    complete: bool = True
    count: int | None = None


def sid_text(seq: int) -> str:
    return str(seq)


def seq_of(sid: str) -> int | None:
    """The sequence number a stanza id names; None for text that no room of
    this service gave out."""
    if not sid or len(sid) > 19 or not sid.isdigit() or not sid.isascii():
        return None
    return int(sid)


def seq_at(stamp: float) -> int:
    """The first sequence number at or after ``stamp`` seconds."""
    return int(round(stamp * 1_000_000))


class MessageIds:
    """Hands out sequence numbers: microseconds of ``clock``, never repeating
    or going back, starting above ``floor`` (the archive's newest)."""

    __slots__ = ("clock", "_last")

    def __init__(self, clock, floor: int = 0):
        self.clock = clock
        self._last = floor

    def next(self) -> int:
        seq = int(self.clock.seconds() * 1_000_000)
        if seq <= self._last:
            seq = self._last + 1
        self._last = seq
        return seq

    def raise_floor(self, floor: int) -> None:
        if floor > self._last:
            self._last = floor


class IArchive(Interface):
    """The archives of every room of one service."""

    def append(messages):
        """Store ``messages`` (`ArchivedMessage`, in order) in one transaction."""

    def query(room_jid, query):
        """An `ArchivePage` of the room's messages; `ArchiveItemNotFound` when
        ``query.after``/``before`` names no message of the room."""

    def get(room_jid, seq):
        """The room's message ``seq``, or None."""

    def retract(room_jid, seq, tombstone):
        """Replace message ``seq``'s payload with ``tombstone`` (text); False
        if the room holds no such message."""

    def restore(room_jid, seq, payload):
        """Put ``payload`` back as message ``seq``'s and clear its
        ``retracted`` mark: the undo of a `retract` whose operation failed
        later; False if the room holds no such message."""

    def bounds(room_jid):
        """``(first, last)`` messages of the room, or None when it has none."""

    def room_jids():
        """The rooms that have an archive."""

    def newest_seq():
        """The highest sequence number stored (0 when empty)."""

    def drop_room(room_jid):
        """Forget the room's archive at once for every reader; its rows are
        reclaimed later by `purge`, in bounded batches."""

    def purge(limit):
        """Delete at most ``limit`` rows of dropped rooms; how many went."""

    def expire(before_seq, limit):
        """Delete at most ``limit`` messages older than ``before_seq``; how many."""

    def close():
        """Release the archive."""
