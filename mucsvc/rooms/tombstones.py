"""Tombstones: what a destroyed persistent room leaves behind for a while.

A persistent room has a name that people know, bookmark and link to.  If
anyone could create a room of that name the moment it is destroyed, its
former visitors would walk into a stranger's room.  So the name stays
taken for a period (Prosody's ``muc_tombstones``): every stanza to it is
answered "gone", with the alternate venue and the reason the owner gave,
until the tombstone expires; service admins may recreate the room at
once, which lifts it.

Rooms that were never stored (temporary ones, ones still locked since
their creation) leave none: their names were never established.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The room ``room_jid`` was destroyed and its name is kept until
    ``expires_at`` (seconds since the epoch); ``reason`` and
    ``alternate_venue`` (a room JID) are those of the destruction."""

    room_jid: str
    expires_at: float
    reason: str | None = None
    alternate_venue: str | None = None

    def expired(self, now: float) -> bool:
        """Prosody keeps a tombstone through its last second."""
        return now > self.expires_at


class Tombstones:
    """The tombstones of one service, by room JID.

    A heap of expiry times beside the mapping lets `expired` answer from
    the soonest ones alone, so the periodic sweep costs nothing while no
    tombstone is due, however many there are.
    """

    __slots__ = ("_by_jid", "_due")

    def __init__(self):
        self._by_jid: dict = {}
        self._due: list = []  # (expires_at, room_jid); stale entries are skipped

    def __len__(self):
        return len(self._by_jid)

    def __contains__(self, room_jid: str) -> bool:
        return room_jid in self._by_jid

    def __iter__(self):
        return iter(sorted(self._by_jid.values(), key=lambda t: t.room_jid))

    def get(self, room_jid: str) -> Tombstone | None:
        return self._by_jid.get(room_jid)

    def lay(self, tombstone: Tombstone) -> None:
        """Keep ``tombstone`` (replacing any for the same room)."""
        self._by_jid[tombstone.room_jid] = tombstone
        heapq.heappush(self._due, (tombstone.expires_at, tombstone.room_jid))

    def lift(self, room_jid: str) -> Tombstone | None:
        """Remove the room's tombstone; returns it (None if there was none)."""
        return self._by_jid.pop(room_jid, None)

    def expired(self, now: float) -> list:
        """The tombstones expired at ``now``, soonest first (still kept:
        the caller lifts them once their deletion is stored)."""
        due, found, seen = self._due, [], set()
        while due and due[0][0] < now:
            expires_at, room_jid = due[0]
            stone = self._by_jid.get(room_jid)
            if stone is None or stone.expires_at != expires_at or room_jid in seen:
                heapq.heappop(due)  # lifted or replaced since
                continue
            # Left on the heap until lifted, so a failed deletion is seen again.
            found.append(stone)
            seen.add(room_jid)
            heapq.heappop(due)
        for stone in found:
            heapq.heappush(due, (stone.expires_at, stone.room_jid))
        return found
