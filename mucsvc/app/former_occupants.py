"""Who was in the rooms, kept where the process taking over can read it.

With several processes behind ejabberd (``component_slots``), a process
that dies takes its occupants with it: the process that takes over its
slot reads the rooms but not who was in them, and ejabberd tells the
clients nothing.  A client that self-pings (XEP-0410) finds out by its
next ping; one that does not (Gajim 1.7) looks joined for ever, and what
it sends is refused unseen.  So each holder keeps in the database who is
in its rooms (`mucsvc.storage.pg_occupants`), and the process that takes
over a slot, once it knows which rooms are its own, tells each session
still listed there what a clean stop would have told it: the unavailable
presence with status 332 ("the service is shutting down"), which clients
answer by joining again (Gajim two seconds later).  Then those lists go.

The lists are written a moment after they change, not with each change:
a room whose occupants changed is marked (the events that can change
them), and every `FLUSH_INTERVAL` seconds the marked rooms' lists are
written whole in one transaction, on the store's thread, never waited
for.  What a ``kill -9`` may lose is that last moment: a session that
joined then is not told (its self-ping, if it has one, still works); one
that left then is told although gone (an unavailable presence from a room
it is not in, which clients ignore).  A clean stop has told its occupants
already and drops its lists.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.app import events
from mucsvc.rooms import Occupant, Role

#: Seconds between two writes of the changed rooms' occupant lists.
FLUSH_INTERVAL = 0.5

#: The events after which a room's occupants may differ.
_CHANGES = frozenset((events.OccupantJoined, events.NickChanged, events.OccupantLeft,
                      events.RoleChanged, events.AffiliationChanged, events.ConfigChanged))


class FormerOccupants:
    """``app``: the `MucApplication`; ``lists``: an `OccupantLists`;
    ``holder``: this start's holder id; ``clock``: `callLater`."""

    log = Logger()

    def __init__(self, app, lists, holder: str, clock, *, interval: float = FLUSH_INTERVAL):
        self.app = app
        self.lists = lists
        self.holder = holder
        self.clock = clock
        self.interval = interval
        self._changed: set[str] = set()
        self._call = None
        self._writing = False
        self._recording = False
        self._to_dismiss: list[str] = []
        self._dismissing = None
        app.listen(self)

    # ---- recording ---------------------------------------------------------------

    def __call__(self, event) -> None:
        kind = type(event)
        if kind in _CHANGES:
            self._changed.add(event.room.jid)
        elif kind is events.RoomDestroyed:
            self._changed.add(event.outcome.room_jid)
        else:
            return
        if self._recording and self._call is None:
            self._call = self.clock.callLater(self.interval, self._flush)

    def start(self) -> None:
        """Record from now on (what other holders wrote is theirs: it is
        read and dropped by `dismiss` alone)."""
        self._recording = True
        if self._changed and self._call is None:
            self._call = self.clock.callLater(self.interval, self._flush)

    def _flush(self) -> None:
        self._call = None
        if self._writing:  # one write at a time; the next follows it
            self._call = self.clock.callLater(self.interval, self._flush)
            return
        changed, self._changed = self._changed, set()
        lists = {}
        for room_jid in changed:
            room = self.app.rooms.room(room_jid)
            lists[room_jid] = [] if room is None else [
                (full_jid, occupant.nick)
                for occupant in room.occupants for full_jid in occupant.sessions]
        self._writing = True
        d = defer.maybeDeferred(self.lists.replace, self.holder, lists)

        def failed(failure):
            self._changed |= changed  # written with the next ones
            self.log.warn("could not keep the occupant lists: {why}", why=failure.value)

        def done(_):
            self._writing = False
            if self._changed and self._call is None and self._recording:
                self._call = self.clock.callLater(self.interval, self._flush)
        d.addErrback(failed).addBoth(done)

    def stop(self, told: bool = True):
        """Stop recording; ``told``: a clean stop told the occupants (332),
        so this holder's lists are dropped; otherwise (fenced, the link
        lost) they stay for the process that takes over."""
        started, self._recording = self._recording, False
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
        if not (told and started):  # a standby wrote nothing
            return defer.succeed(None)
        d = defer.maybeDeferred(self.lists.clear, self.holder)
        return d.addErrback(lambda failure: self.log.warn(
            "could not drop the occupant lists: {why}", why=failure.value))

    # ---- taking over -------------------------------------------------------------

    def dismiss_soon(self, room_jid: str) -> None:
        """`dismiss` ``room_jid`` with the others found served here in the
        same moment (the probes' answers come in a burst): one read each."""
        self._to_dismiss.append(room_jid)
        if self._dismissing is None:
            self._dismissing = self.clock.callLater(0, self._dismiss_now)

    def _dismiss_now(self) -> None:
        rooms, self._to_dismiss, self._dismissing = self._to_dismiss, [], None
        self.dismiss(rooms).addErrback(lambda failure: self.log.failure(
            "telling the former occupants of {rooms} rooms", failure, rooms=len(rooms)))

    def dismiss(self, room_jids):
        """Tell the sessions other holders listed in ``room_jids`` (the
        rooms now served here) that the room has gone away for them, then
        drop those lists; a Deferred of how many were told."""
        rooms = list(room_jids)
        if not rooms:
            return defer.succeed(0)
        d = defer.maybeDeferred(self.lists.former, self.holder, rooms)
        d.addCallback(self._tell)
        d.addCallback(lambda told: defer.maybeDeferred(self.lists.forget, self.holder, rooms)
                      .addCallback(lambda _: told))
        return d

    def _tell(self, rows) -> int:
        by_room: dict[str, dict[str, Occupant]] = {}
        told = 0
        for room_jid, full_jid, nick in rows:
            room = self.app.rooms.room(room_jid)
            if room is None or room.occupant_by_jid(full_jid) is not None:
                continue  # gone, or back already
            occupants = by_room.setdefault(room_jid, {})
            occupant = occupants.get(nick)
            if occupant is None:
                bare = full_jid.split("/", 1)[0]
                occupant = occupants[nick] = Occupant(nick, bare, Role.NONE,
                                                      room.occupant_id_for(bare))
            occupant.set_session(full_jid, "")
            told += 1
        if by_room:
            self.app.listeners.emit(events.FormerOccupantsDismissed(tuple(
                (self.app.rooms.room(room_jid), tuple(occupants.values()))
                for room_jid, occupants in by_room.items())))
        self.log.info("told {told} sessions of a former holder that their rooms moved here "
                      "({listed} listed)", told=told, listed=len(rows))
        return told
