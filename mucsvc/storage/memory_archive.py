"""`IArchive` in memory, for tests and for ``storage = "memory:"``.

The same answers as the SQLite archive (the contract suite runs both),
from a sorted list per room; nothing survives the object.
"""

from __future__ import annotations

import bisect
import dataclasses

from zope.interface import implementer

from mucsvc.storage.archive import ArchiveItemNotFound, ArchivePage, IArchive, open_bounds
from mucsvc.storage.errors import StoreClosed


@implementer(IArchive)
class MemoryArchive:
    def __init__(self):
        self._rooms: dict | None = {}  # room JID -> (seqs, messages) in seq order

    def _all(self) -> dict:
        if self._rooms is None:
            raise StoreClosed()
        return self._rooms

    def append(self, messages) -> None:
        rooms = self._all()
        for message in messages:
            seqs, stored = rooms.setdefault(message.room_jid, ([], []))
            i = bisect.bisect_left(seqs, message.seq)
            if i < len(seqs) and seqs[i] == message.seq:
                raise ValueError(f"message {message.seq} is already archived")
            seqs.insert(i, message.seq)
            stored.insert(i, dataclasses.replace(message))

    def query(self, room_jid, query) -> ArchivePage:
        seqs, stored = self._all().get(room_jid, ([], []))
        for bound in (query.after, query.before):
            if bound is not None and not _holds(seqs, bound):
                raise ArchiveItemNotFound(bound)
        low, high = open_bounds(query)
        lo = 0 if low is None else bisect.bisect_right(seqs, low)
        hi = len(seqs) if high is None else bisect.bisect_left(seqs, high)
        ids = None if query.ids is None else set(query.ids)
        matches = [m for m in stored[lo:hi]
                   if (query.nick is None or m.nick == query.nick)
                   and (ids is None or m.seq in ids)]
        if query.last:
            page = matches[-query.max:] if query.max else []
        else:
            page = matches[:query.max]
        complete = len(matches) <= query.max
        count = None
        if query.count:
            count = len([m for m in stored
                         if (query.start is None or m.seq >= query.start)
                         and (query.end is None or m.seq <= query.end)
                         and (query.nick is None or m.nick == query.nick)
                         and (ids is None or m.seq in ids)])
        return ArchivePage([dataclasses.replace(m) for m in page], complete, count)

    def get(self, room_jid, seq):
        seqs, stored = self._all().get(room_jid, ([], []))
        i = bisect.bisect_left(seqs, seq)
        return dataclasses.replace(stored[i]) if i < len(seqs) and seqs[i] == seq else None

    def retract(self, room_jid, seq, tombstone) -> bool:
        return self._replace(room_jid, seq, tombstone, True)

    def restore(self, room_jid, seq, payload) -> bool:
        return self._replace(room_jid, seq, payload, False)

    def _replace(self, room_jid, seq, payload, retracted) -> bool:
        seqs, stored = self._all().get(room_jid, ([], []))
        i = bisect.bisect_left(seqs, seq)
        if i < len(seqs) and seqs[i] == seq:
            stored[i].payload = payload
            stored[i].retracted = retracted
            return True
        return False

    def bounds(self, room_jid):
        seqs, stored = self._all().get(room_jid, ([], []))
        if not seqs:
            return None
        return dataclasses.replace(stored[0]), dataclasses.replace(stored[-1])

    def room_jids(self) -> list:
        return sorted(jid for jid, (seqs, _) in self._all().items() if seqs)

    def newest_seq(self) -> int:
        return max((seqs[-1] for seqs, _ in self._all().values() if seqs), default=0)

    def drop_room(self, room_jid) -> None:
        self._all().pop(room_jid, None)

    def purge(self, limit: int) -> int:
        self._all()
        return 0  # dropping already freed everything

    def expire(self, before_seq: int, limit: int) -> int:
        deleted = 0
        for room_jid, (seqs, stored) in list(self._all().items()):
            n = min(bisect.bisect_left(seqs, before_seq), limit - deleted)
            if n > 0:
                del seqs[:n]
                del stored[:n]
                deleted += n
            if deleted >= limit:
                break
        return deleted

    def close(self) -> None:
        self._rooms = None


def _holds(seqs, seq) -> bool:
    i = bisect.bisect_left(seqs, seq)
    return i < len(seqs) and seqs[i] == seq
