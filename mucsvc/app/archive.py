"""`RoomArchive`: the application's side of the room archive.

It listens to the application's events: every archived groupchat message
(`MessageBroadcast` with a ``record``) is queued and written in batches,
one transaction every ``flush_interval`` seconds, so that the fan-out never
waits for the disk and a busy room costs one commit per interval rather
than one per message.  The price, stated in the README: a ``kill -9`` (or
a power loss) may lose the messages of the last ``flush_interval``; a clean
stop writes everything.  Readers never see that gap: every query and
lookup writes the queue first.

A write that fails keeps its batch for the next attempt (and counts the
failure); only when ``max_pending`` messages are waiting are the oldest
given up, with a log line, so a store that is gone for good cannot
exhaust memory.

An archive whose methods return Deferreds (PostgreSQL) is used the same
way: a batch is handed in without waiting (several may be on their way;
the archive's own order keeps every reader behind the writes handed in
before it), and one that fails comes back to the queue in its place.

A room that is destroyed loses its archive (as in Prosody): its queued
messages are dropped and the store forgets the room at once; the rows are
reclaimed by `housekeeping`, in bounded batches, together with messages
older than ``expires_after`` seconds.
"""

from __future__ import annotations

import dataclasses

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from mucsvc.app import events
from mucsvc.storage.archive import MessageIds, seq_at

#: Rows deleted per store call by housekeeping: each call is short enough
#: not to hold up the reactor, whatever has to go.
HOUSEKEEPING_BATCH = 2000


class RoomArchive:
    """Batches ``archive`` (an ``IArchive``) writes on ``clock``."""

    log = Logger()

    def __init__(self, archive, clock, *, flush_interval: float = 0.1,
                 expires_after: float | None = None, max_pending: int = 100_000):
        self.archive = archive
        self.clock = clock
        self.flush_interval = flush_interval
        self.expires_after = expires_after
        self.max_pending = max_pending
        self.ids = MessageIds(clock, archive.newest_seq())
        self._pending: list = []
        #: Batches handed to an archive that answers later, not yet answered.
        self._inflight: list = []
        self._call = None
        #: Batches the store refused, and messages given up for good.
        self.failures = 0
        #: Whether the last write was refused (logged once, not at every retry).
        self._refusing = False
        self.lost = 0
        #: Processes sharing the store: archives of rooms not stored are not
        #: dropped at start (they may be another live process's), but when
        #: a room of that name is created here.
        self.forget_on_creation = False

    @property
    def pending(self) -> int:
        return len(self._pending) + sum(map(len, self._inflight))

    # ---- listener ---------------------------------------------------------------

    def __call__(self, event) -> None:
        if type(event) is events.MessageBroadcast or type(event) is events.MessageRetracted:
            if event.record is not None:
                self._pending.append(event.record)
                if self._call is None:
                    self._call = self.clock.callLater(self.flush_interval, self._flush_due)
        elif type(event) is events.RoomDestroyed:
            self.forget(event.outcome.room.jid)
        elif (self.forget_on_creation and type(event) is events.OccupantJoined
              and getattr(event.outcome, "created", False)):
            # A new room under the name of a temporary room that died with
            # another process must not read that room's archive.
            self.forget(event.room.jid)
        elif getattr(getattr(event, "outcome", None), "destroy_room", False):
            # The change emptied a temporary room: it is gone, like a destroyed one.
            self.forget(event.room.jid)

    def forget(self, room_jid: str) -> None:
        """The room is gone: so is its archive."""
        self._pending = [m for m in self._pending if m.room_jid != room_jid]
        for batch in self._inflight:
            batch[:] = [m for m in batch if m.room_jid != room_jid]
        dropped = self.archive.drop_room(room_jid)
        if isinstance(dropped, defer.Deferred):
            dropped.addErrback(lambda failure: self.log.failure(
                "could not forget the archive of {room}; it goes at the next start",
                failure, room=room_jid))

    # ---- writing ----------------------------------------------------------------

    def _flush_due(self) -> None:
        self._call = None
        self.flush()

    def flush(self):
        """Write every queued message now; False if the store refused (they
        stay queued and another attempt is scheduled), or a Deferred of
        True/False from an archive that answers later."""
        if not self._pending:
            return True
        batch, self._pending = self._pending, []
        try:
            written = self.archive.append(batch)
        except Exception:
            self._refused(batch, None)
            return False
        if isinstance(written, defer.Deferred):
            self._inflight.append(batch)

            def done(_):
                self._inflight.remove(batch)
                self._written()
                return True

            def failed(failure):
                self._inflight.remove(batch)
                self._refused(batch, failure)
                return False
            return written.addCallbacks(done, failed)
        self._written()
        return True

    def _written(self) -> None:
        if self._refusing:
            self._refusing = False
            self.log.info("the archive takes writes again")

    def _refused(self, batch, failure) -> None:
        self.failures += 1
        if not self._refusing:
            self._refusing = True
            self.log.failure("could not archive {count} messages; will retry until the "
                             "archive takes them", failure, count=len(batch))
        # Back in its place: batches may come back out of order.
        self._pending = sorted(batch + self._pending, key=lambda m: m.seq)
        excess = len(self._pending) - self.max_pending
        if excess > 0:
            del self._pending[:excess]
            self.lost += excess
            self.log.error("gave up archiving {count} messages: the archive has refused "
                           "writes for too long", count=excess)
        if self._call is None:
            self._call = self.clock.callLater(self.flush_interval, self._flush_due)

    def stop(self):
        """Write what is queued (a clean stop loses nothing); a Deferred
        when the archive answers later."""
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        return self.flush()

    # ---- reading ----------------------------------------------------------------

    def query(self, room_jid: str, query):
        self.flush()
        return self.archive.query(room_jid, query)

    def get(self, room_jid: str, seq: int):
        if self.flush() is False:
            queued = self._queued(room_jid, seq)
            if queued is not None:
                return dataclasses.replace(queued)
        found = self.archive.get(room_jid, seq)
        if isinstance(found, defer.Deferred):
            def unwritten(result):
                """Not (yet) in the archive: perhaps still queued."""
                if result is None or isinstance(result, Failure):
                    queued = self._queued(room_jid, seq)
                    if queued is not None:
                        return dataclasses.replace(queued)
                return result
            return found.addBoth(unwritten)
        return found

    def bounds(self, room_jid: str):
        self.flush()
        return self.archive.bounds(room_jid)

    def retract(self, room_jid: str, seq: int, tombstone: str) -> bool:
        """Replace message ``seq``'s payload with ``tombstone``; a message
        still queued (the store refuses writes just now) is changed in the
        queue."""
        return self._replace(room_jid, seq, tombstone, True)

    def restore(self, room_jid: str, seq: int, payload: str) -> bool:
        """Undo a `retract` whose operation failed later."""
        return self._replace(room_jid, seq, payload, False)

    def _replace(self, room_jid: str, seq: int, payload: str, retracted: bool):
        if self.flush() is False:
            queued = self._queued(room_jid, seq)
            if queued is not None:
                queued.payload, queued.retracted = payload, retracted
                return True
        if retracted:
            replaced = self.archive.retract(room_jid, seq, payload)
        else:
            replaced = self.archive.restore(room_jid, seq, payload)
        if isinstance(replaced, defer.Deferred):
            def unwritten(result):
                if result is not True:  # False or a failure: perhaps still queued
                    queued = self._queued(room_jid, seq)
                    if queued is not None:
                        queued.payload, queued.retracted = payload, retracted
                        return True
                return result
            return replaced.addBoth(unwritten)
        return replaced

    def _queued(self, room_jid: str, seq: int):
        for batch in (self._pending, *self._inflight):
            for message in batch:
                if message.seq == seq and message.room_jid == room_jid:
                    return message
        return None

    # ---- upkeep -----------------------------------------------------------------

    def housekeeping(self, now: float) -> int:
        """Reclaim dropped rooms and expired messages, one batch each, and
        another soon while batches come back full; how many rows went."""
        return _then(self.archive.purge(HOUSEKEEPING_BATCH),
                     lambda purged: self._expire(purged, now))

    def _expire(self, gone: int, now: float):
        if self.expires_after is None:
            return self._again(gone)
        return _then(self.archive.expire(seq_at(now - self.expires_after), HOUSEKEEPING_BATCH),
                     lambda expired: self._again(gone + expired))

    def _again(self, gone: int) -> int:
        if gone >= HOUSEKEEPING_BATCH:  # more to do: go on soon, between other work
            self.clock.callLater(0.05, self._more)
        return gone

    def _more(self) -> None:
        done = self.housekeeping(self.clock.seconds())
        if isinstance(done, defer.Deferred):
            done.addErrback(lambda failure: self.log.failure(
                "archive housekeeping failed; will try again", failure))


def _then(result, f):
    """``f(result)``, or the same on the Deferred ``result`` fires with."""
    if isinstance(result, defer.Deferred):
        return result.addCallback(f)
    return f(result)
