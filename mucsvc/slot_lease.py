"""`SlotLease`: hold one of ejabberd's component slots, or wait for one.

A process with ``component_slots`` above 1 serves rooms only while it holds
a token (`mucsvc.storage.pg_slots`).  Without one it is a **standby**: it
tries to claim one every `STANDBY_ATTEMPT` seconds (or ``renewal``, if
shorter), so that a token a clean stop releases is taken, and its slot
served, before the clients that stop told to come back (Gajim: 2 s later,
once) try.  Once it has one it renews it every ``renewal`` seconds for
``lease`` seconds from the database's now.

Fencing.  The database lets another process claim a token ``lease``
seconds after its holder's last renewal.  A holder that cannot renew (the
database is gone, or the process was paused) must have stopped serving
before then, or two processes would serve one slot's rooms.  So the holder
counts, by its own monotonic clock, from the *start* of its last renewal
that succeeded (the database's expiry is later than that), and at
``lease - renewal`` seconds without a success it fences itself
(``on_fenced``): the process disconnects from ejabberd and stops.  A
renewal the database answers "not yours" fences at once.

Everything runs on ``clock`` (the reactor, or ``task.Clock`` in tests);
``monotonic`` reads the time that fencing is measured in (the reactor's
clock in tests, ``time.monotonic`` in the service).  At most one database
call is on its way at a time: a tick that finds one pending waits for the
next.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.storage.pg_slots import LOST, RECONNECT

#: Seconds between a standby's claims: one small statement each.
STANDBY_ATTEMPT = 0.5

STANDBY = "standby"
HOLDING = "holding"
FENCED = "fenced"
STOPPED = "stopped"


class SlotLease:
    """``tokens``: ``claim(holder)``, ``renew(slot, holder)`` (`HELD`,
    `LOST` or `RECONNECT`), ``release(slot, holder)``, ``ask_reconnect(slot,
    holder)``, each returning a Deferred (a `SlotTokens`).
    ``on_acquired(slot)``: the process now holds ``slot`` (it reads the
    rooms, blocking); ``on_ready()``: then, with the lease still fresh
    (renewed first if the reading took most of it), it may connect;
    ``on_fenced(why)``: it must stop serving now;
    ``on_reconnect()``: a former holder of the token, fenced late, asks
    this one to connect again.

    A holder fenced later than the lease (it could not act at all: paused)
    asks the token's new holder to reconnect: its own connection kept
    ejabberd's slot until now, so the new holder's connection, made
    meanwhile, is one beyond the slots and gets nothing, ever."""

    log = Logger()

    def __init__(self, tokens, clock, holder: str, *, renewal: float, lease: float,
                 on_acquired, on_fenced, on_ready=None, on_reconnect=None, monotonic=None):
        if lease <= 2 * renewal:
            raise ValueError("the lease must outlast two renewals")
        self.tokens = tokens
        self.clock = clock
        self.holder = holder
        self.renewal = renewal
        self.attempt = min(renewal, STANDBY_ATTEMPT)
        self.lease = lease
        self.on_acquired = on_acquired
        self.on_fenced = on_fenced
        self.on_reconnect = on_reconnect or (lambda: None)
        self.on_ready = on_ready or (lambda: None)
        #: Holding, and the lease was fresh once the rooms were read: serving.
        self.ready = False
        self.monotonic = monotonic if monotonic is not None else clock.seconds
        self.state = STANDBY
        self.slot: int | None = None
        #: When (``monotonic``) the last successful renewal or claim began.
        self.renewed_at: float | None = None
        self.last_error: str | None = None
        self._tick_call = None
        self._fence_call = None
        self._pending = False

    @property
    def window(self) -> float:
        """Seconds after the start of the last successful renewal at which
        the holder fences itself: one renewal before the lease ends."""
        return self.lease - self.renewal

    def start(self) -> None:
        self._schedule(0)

    # ---- the loop ---------------------------------------------------------------------

    def _schedule(self, delay: float) -> None:
        if self.state in (FENCED, STOPPED):
            return
        self._tick_call = self.clock.callLater(delay, self._tick)

    def _tick(self) -> None:
        self._tick_call = None
        if self.state == HOLDING and self._must_fence():
            self._fence("no renewal of the slot lease succeeded for "
                        f"{self.monotonic() - self.renewed_at:.1f} s")
            return
        self._schedule(self.renewal if self.state == HOLDING else self.attempt)
        if self._pending:
            return
        if self.state == STANDBY:
            self._call(self.tokens.claim, self.holder).addCallbacks(
                self._claimed, self._failed, callbackArgs=(self.monotonic(),))
        elif self.state == HOLDING:
            self._call(self.tokens.renew, self.slot, self.holder).addCallbacks(
                self._renewed, self._failed, callbackArgs=(self.monotonic(),))

    def _call(self, method, *args):
        self._pending = True
        try:
            d = defer.maybeDeferred(method, *args)
        except Exception:  # pragma: no cover - maybeDeferred catches
            d = defer.fail()

        def done(result):
            self._pending = False
            return result
        return d.addBoth(done)

    def _claimed(self, slot, began: float) -> None:
        self.last_error = None  # the database answered
        if slot is None:
            return
        if self.state != STANDBY:  # stopped while claiming: give it back
            defer.maybeDeferred(self.tokens.release, slot, self.holder).addErrback(
                lambda failure: None)
            return
        self.state, self.slot, self.renewed_at = HOLDING, slot, began
        self.last_error = None
        self.log.info("holding component slot token {slot} as {holder}", slot=slot,
                      holder=self.holder)
        self.on_acquired(slot)  # reads the rooms: may take a while
        if self.state != HOLDING:
            return
        if not self._overdue():
            self.ready = True
            self._arm_fence()
            self.on_ready()
            return
        # The reading took most of the lease: renew before serving.
        self.log.info("reading the rooms took {took:.1f} s: renewing the slot lease before "
                      "connecting", took=self.monotonic() - began)
        self._arm_fence()
        if not self._pending:
            self._call(self.tokens.renew, self.slot, self.holder).addCallbacks(
                self._renewed, self._failed, callbackArgs=(self.monotonic(),))


    def _renewed(self, answer: str, began: float) -> None:
        if self.state != HOLDING:
            return
        if answer == LOST:
            self._fence(f"slot token {self.slot} is no longer ours")
            return
        self.renewed_at = max(self.renewed_at, began)
        self.last_error = None
        became_ready = not self.ready and not self._overdue()
        self.ready = self.ready or became_ready
        self._arm_fence()
        if became_ready:
            self.on_ready()
        if answer == RECONNECT:
            self.on_reconnect()

    def _failed(self, failure) -> None:
        why = str(failure.value) or type(failure.value).__name__
        if why != self.last_error:
            self.log.warn("slot lease: the database call failed: {why}", why=why)
        self.last_error = why

    # ---- fencing ----------------------------------------------------------------------

    def _overdue(self) -> bool:
        return self.monotonic() - self.renewed_at >= self.window

    def _must_fence(self) -> bool:
        """Overdue while serving; before that (not connected yet: the rooms
        took long to read) only once the lease itself may have run out."""
        if self.ready:
            return self._overdue()
        return self.monotonic() - self.renewed_at >= self.lease

    def _arm_fence(self) -> None:
        if self._fence_call is not None and self._fence_call.active():
            self._fence_call.cancel()
        limit = self.window if self.ready else self.lease
        delay = max(0.0, self.renewed_at + limit - self.monotonic())
        self._fence_call = self.clock.callLater(delay, self._fence_due)

    def _fence_due(self) -> None:
        self._fence_call = None
        if self.state != HOLDING:
            return
        if not self._must_fence():  # the reactor's clock ran ahead of the monotonic one
            self._arm_fence()
            return
        self._fence("no renewal of the slot lease succeeded for "
                    f"{self.monotonic() - self.renewed_at:.1f} s")

    def _fence(self, why: str) -> None:
        self.state = FENCED
        self._cancel()
        self.log.error("fenced: {why}; stopping service on slot token {slot} before another "
                       "process may take it", why=why, slot=self.slot)
        self.on_fenced(why)
        if self.renewed_at is not None and self.monotonic() - self.renewed_at >= self.lease:
            # Fenced late: this process could not act for longer than the
            # lease (paused), while its connection kept ejabberd's slot.
            self.log.warn("fenced {late:.1f} s after the last renewal, later than the lease: "
                          "asking the process that took slot token {slot} to connect again",
                          late=self.monotonic() - self.renewed_at, slot=self.slot)
            defer.maybeDeferred(self.tokens.ask_reconnect, self.slot, self.holder).addErrback(
                lambda failure: self.log.warn("could not ask for a reconnection: {why}",
                                              why=failure.getErrorMessage()))

    def _cancel(self) -> None:
        for call in (self._tick_call, self._fence_call):
            if call is not None and call.active():
                call.cancel()
        self._tick_call = self._fence_call = None

    # ---- stopping ---------------------------------------------------------------------

    def stop(self):
        """Stop claiming and renewing; a held token is released (a Deferred
        of that), so the next standby takes it at its next attempt."""
        held = self.state == HOLDING
        self.state = STOPPED
        self._cancel()
        if not held:
            return defer.succeed(None)
        d = defer.maybeDeferred(self.tokens.release, self.slot, self.holder)
        return d.addErrback(lambda failure: self.log.warn(
            "could not release slot token {slot}: {why}; it expires by itself",
            slot=self.slot, why=failure.getErrorMessage()))

    def as_dict(self) -> dict:
        """For ``/health``."""
        document = {"state": self.state, "holder": self.holder}
        if self.slot is not None:
            document["token"] = self.slot
        if self.last_error is not None:
            document["last_error"] = self.last_error
        return document
