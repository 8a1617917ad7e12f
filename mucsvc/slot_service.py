"""The ``slots`` service: serve only while holding a component slot.

With ``component_slots`` above 1, several processes share one PostgreSQL
database behind ejabberd, which has that many connection slots for the
domain.  This service holds the process's `SlotLease` and does what each
change of it means:

- **taking a token** (at start, or later as a standby): read the rooms from
  the database now (`MUCService.load`: what the process that served the
  slot before wrote, up to its last acknowledged change), start the
  database link, then (the lease renewed first if that took most of it)
  connect to ejabberd, which gives the new connection
  the free slot;
- **fenced** (the lease could not be renewed in time): close the component
  link at once and stop the process, before another process may take the
  token.  A new start of the process is a standby with nothing in memory;
  run it under a supervisor that restarts it;
- **the component link lost** while holding, or **a former holder asking
  for a reconnection** (it kept ejabberd's slot after this process
  connected, see `SlotLease`): stop the same way, but releasing the token
  first (see `_link_changed`, `_reconnect`);
- **a clean stop**: the token is released once the component link is closed
  (never before: a standby connecting while this connection still holds
  ejabberd's slot would get nothing, ever).
"""

from __future__ import annotations

import os
import socket

from twisted.application import service
from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.link import UP
from mucsvc.slot_lease import HOLDING, STANDBY, SlotLease

#: Seconds a clean stop waits for the component link to close before it
#: releases the token anyway.
LINK_CLOSE_WAIT = 2.0


def new_holder_id() -> str:
    """Unique to this start of this process: host, pid, and a random part."""
    return f"{socket.gethostname()}/{os.getpid()}/{os.urandom(4).hex()}"


class SlotService(service.Service):
    """``tokens``: a `SlotTokens`; ``component``, ``storage``, ``muc``: the
    services it starts serving with; ``stop_process()``: ends the process
    (``reactor.stop``)."""

    log = Logger()

    def __init__(self, tokens, component, storage, muc, clock, *, renewal: float, lease: float,
                 stop_process, monotonic=None, holder: str | None = None, served=None,
                 former=None):
        self.tokens = tokens
        self.served = served
        self.former = former
        self.component = component
        self.storage = storage
        self.muc = muc
        self.clock = clock
        self.stop_process = stop_process
        self._restarting = False
        #: Stopping without a working link: the occupants were not told.
        self._untold = False
        self.lease = SlotLease(tokens, clock, holder or new_holder_id(), renewal=renewal,
                               lease=lease, on_acquired=self._acquired, on_fenced=self._fenced,
                               on_ready=self.component.connect, on_reconnect=self._reconnect,
                               monotonic=monotonic)

    @property
    def standby(self) -> bool:
        return self.lease.state == STANDBY

    @property
    def serving(self) -> bool:
        return self.lease.state == HOLDING

    def startService(self):
        super().startService()
        self._was_up = False
        self.component.link.observe(self._link_changed)
        self.tokens.start(self.clock, getattr(self.clock, "callFromThread", _now))
        self.log.info("standby until a component slot token is free (holder {holder})",
                      holder=self.lease.holder)
        self.lease.start()

    def _acquired(self, slot: int) -> None:
        try:
            self.muc.load()
        except Exception:
            self.log.failure("could not load the rooms after taking slot token {slot}", slot=slot)
            self._fenced("the rooms could not be loaded")
            return
        self.storage.start_link()

    def _fenced(self, why: str) -> None:
        self._untold = True
        self.component.fence()
        self.clock.callLater(0, self.stop_process)

    def _reconnect(self) -> None:
        """A former holder of the token kept ejabberd's slot after this
        process connected (see `SlotLease`): this connection gets nothing.
        Start again as a standby, so that the next connection, made with
        the slot free, takes it (and reads the rooms as they are then)."""
        self.log.error("a former holder of slot token {slot} kept ejabberd's slot after this "
                       "process connected: releasing it and stopping, to start again as a "
                       "standby", slot=self.lease.slot)
        self._restart()

    def _restart(self) -> None:
        if self._restarting:
            return
        self._restarting = True
        self._untold = True
        self.component.fence()
        self.lease.stop().addBoth(lambda _: self.clock.callLater(0, self.stop_process))

    def _link_changed(self, state: str) -> None:
        """A holder whose link to ejabberd went down stops too, releasing
        its token: ejabberd freed its slot, and the connection that takes
        it next (this process's, reconnecting, or another's) may get
        another slot, whose rooms this process read long ago and others
        changed since.  Started again, it is a standby that reads them
        fresh when it takes a token."""
        if state == UP:
            self._was_up = True
            if self.served is not None:
                self._take_over()
            return
        if not (self._was_up and self.running and self.serving):
            return
        self.log.error("component link to ejabberd lost while holding slot token {slot}: "
                       "releasing it and stopping, to start again as a standby",
                       slot=self.lease.slot)
        self._restart()

    def _take_over(self):
        """Connected with the slot: learn which of the rooms read are this
        process's, tell the sessions a dead holder had in them, and from
        then on keep this process's occupant lists."""
        rooms = [room.jid for room in self.muc.rooms.rooms()]
        if self.former is None:
            return self.served.probe_all(rooms)
        self.former.start()
        return self.served.probe_all(rooms, on_served=self.former.dismiss_soon)

    def stopService(self):
        super().stopService()
        if self.former is not None:
            # Told at a clean stop (332): nobody needs to tell them again.
            self.former.stop(told=not self._untold)
        d = self._link_closed()
        d.addCallback(lambda _: self.lease.stop())
        d.addBoth(lambda _: self.tokens.close())
        return d

    def _link_closed(self):
        link = self.component.link
        if not link.is_up:
            return defer.succeed(None)
        d = defer.Deferred()
        timeout = self.clock.callLater(LINK_CLOSE_WAIT, lambda: d.called or d.callback(None))

        def changed(state):
            if not link.is_up and not d.called:
                if timeout.active():
                    timeout.cancel()
                d.callback(None)
        link.observe(changed)
        return d

    def as_dict(self) -> dict:
        return self.lease.as_dict()


def _now(f, *args):
    """Deliver at once (a clock without threads: the tests')."""
    f(*args)
