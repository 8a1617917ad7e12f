"""Which rooms this process serves, as ejabberd routes them.

Behind ejabberd with bare-destination balancing, every stanza for
``room@domain`` goes to the connection holding the room's slot.  A process
cannot work that out itself (the slot is an Erlang hash of the room's
JID, and which slot its own connection took is ejabberd's to know), yet
it must: with several processes on one database, each holder has read
every persistent room, and an HTTP change made to a copy the process does
not serve would write that stale copy over the database's while the
room's real server goes on without it.

So it asks ejabberd.  A *probe* is an IQ result from the service's own
domain to the room, with an id nobody else makes: ejabberd routes it like
any stanza for the room, to the connection serving it.  Back here within
`PROBE_TIMEOUT`: served here; not back: served by another process, whose
router drops it unanswered (an IQ result nobody waits for needs no
answer, RFC 6120 8.2.3) and learns from it that the room is its own.
Any stanza ejabberd gives this process for a room proves the same.  The answer holds while the connection does: a
holder whose component link drops stops and starts again as a standby
(`mucsvc.slot_service`), so answers are kept; a probe's late arrival
still counts.
"""

from __future__ import annotations

import os

from twisted.internet import defer

from mucsvc.protocol.xmltext import escape_attr

#: How long a probe may take to come back before the room counts as
#: another process's.  A round trip through ejabberd takes milliseconds.
PROBE_TIMEOUT = 2.0
#: What every probe id starts with; then this process's part, then a number.
PROBE_PREFIX = "served-probe-"


class NotConnected(Exception):
    """A probe needs the component link: ejabberd routes it."""


class ServedRooms:
    """``send(xml)``: the component's send; ``clock``: `callLater`;
    ``is_connected()``: whether the component link is up."""

    def __init__(self, domain: str, send, clock, is_connected, *,
                 timeout: float = PROBE_TIMEOUT, nonce: str | None = None):
        self.domain = domain
        self._send = send
        self._clock = clock
        self._is_connected = is_connected
        self.timeout = timeout
        self._prefix = f"{PROBE_PREFIX}{nonce or os.urandom(6).hex()}-"
        self._count = 0
        self._known: dict[str, bool] = {}
        #: probe id -> (room JID, its timeout call); room JID -> who waits
        self._probes: dict[str, tuple[str, object]] = {}
        self._waiting: dict[str, list] = {}

    def served(self, room_jid: str) -> bool | None:
        """True: served here; False: by another process; None: not known yet."""
        return self._known.get(room_jid)

    def mark(self, room_jid: str) -> None:
        """A stanza for ``room_jid`` reached this process: served here."""
        self._known[room_jid] = True

    def probe(self, room_jid: str):
        """A Deferred of whether ``room_jid`` is served here (asked of
        ejabberd unless known); fails with `NotConnected` while the link
        is down."""
        known = self._known.get(room_jid)
        if known is not None:
            return defer.succeed(known)
        d = defer.Deferred()
        waiting = self._waiting.get(room_jid)
        if waiting is not None:  # asked already: the same answer
            waiting.append(d)
            return d
        if not self._is_connected():
            return defer.fail(NotConnected())
        self._count += 1
        probe_id = f"{self._prefix}{self._count}"
        self._probes[probe_id] = (room_jid, self._clock.callLater(
            self.timeout, self._expired, probe_id))
        self._waiting[room_jid] = [d]
        self._send(f"<iq type='result' from='{escape_attr(self.domain)}'"
                   f" to='{escape_attr(room_jid)}' id='{probe_id}'/>")
        return d

    def probe_all(self, room_jids, on_served=None):
        """Ask about every room not known yet (after connecting: the rooms
        read when the token was taken), so that later requests need not
        wait; ``on_served(room_jid)`` is called for each served here, as
        soon as that is known.  A Deferred of those served here."""
        rooms = list(room_jids)

        def answered(here, room_jid):
            if here and on_served is not None:
                on_served(room_jid)
            return here
        asked = [self.probe(room_jid).addCallbacks(answered, lambda failure: False,
                                                   callbackArgs=(room_jid,))
                 for room_jid in rooms]
        d = defer.gatherResults(asked)
        return d.addCallback(lambda here: [jid for jid, is_here in zip(rooms, here) if is_here])

    def is_probe(self, stanza) -> bool:
        """Whether ``stanza`` (an IQ result from the service's own domain)
        is a probe, this process's or another's; this process's answers."""
        probe_id = stanza.getAttribute("id") or ""
        if not probe_id.startswith(PROBE_PREFIX):
            return False
        to = stanza.getAttribute("to") or ""
        if probe_id.startswith(self._prefix):
            room_jid, call = self._probes.pop(probe_id, (to, None))
            if call is not None and call.active():
                call.cancel()
            self._answer(room_jid, True)  # late or not: served here
        elif to:
            self._answer(to, True)  # ejabberd routed another's question here
        return True

    def _expired(self, probe_id: str) -> None:
        room_jid, _ = self._probes.pop(probe_id)
        self._answer(room_jid, self._known.get(room_jid, False))

    def _answer(self, room_jid: str, served: bool) -> None:
        self._known[room_jid] = served
        for d in self._waiting.pop(room_jid, ()):
            d.callback(served)
