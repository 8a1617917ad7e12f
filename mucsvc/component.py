"""The XEP-0114 link to the host server: wokkel's Component, made dependable.

What this adds to ``wokkel.component.Component``:

- a capped reconnect backoff (the host server restarting must not leave us
  waiting minutes) that grows until the link is really up: Twisted resets
  the delay as soon as TCP connects, so a host that accepts the socket and
  then refuses the component (a wrong secret) was retried in a tight loop;
- retrying after a refused handshake instead of giving up for good (wokkel
  stops the service), with one line saying why each attempt failed (and in
  ``/health``), instead of Twisted's connector lines;
- a :class:`~mucsvc.link.LinkState` kept current for ``/health`` and metrics;
- ``stopService`` that works when the link never came up;
- an injectable reactor, so tests drive it with fakes.
"""

from __future__ import annotations

from twisted.application import service
from twisted.logger import Logger
from twisted.words.protocols.jabber import xmlstream
from wokkel import component

from mucsvc.link import LinkState

INITIAL_RECONNECT_DELAY = 0.5
RECONNECT_FACTOR = 1.6
MAX_RECONNECT_DELAY = 5.0


class MUCComponent(component.Component):
    """The external component that carries every stanza of the service."""

    log = Logger()

    def __init__(self, host, port, jid, secret, reactor=None, link=None, log_traffic=False,
                 hold=False):
        super().__init__(host, port, jid, secret)
        #: Do not connect when the service starts, only at `connect` (a
        #: standby connects once it holds a component slot).
        self.hold = hold
        if reactor is None:
            from twisted.internet import reactor
        self._reactor = reactor
        self.jid = jid
        self.link = link if link is not None else LinkState(reactor)
        self.logTraffic = log_traffic
        self._connection = None
        factory = self.factory
        factory.initialDelay = INITIAL_RECONNECT_DELAY
        factory.delay = INITIAL_RECONNECT_DELAY
        factory.factor = RECONNECT_FACTOR
        factory.maxDelay = MAX_RECONNECT_DELAY
        factory.clock = reactor
        factory.noisy = False  # our own lines say what happens (_attempt_failed)
        self._authenticated = False
        self._refusal: str | None = None
        connected = factory.buildProtocol
        lost, failed = factory.clientConnectionLost, factory.clientConnectionFailed

        def build_protocol(addr):
            # Twisted's buildProtocol resets the backoff when TCP connects;
            # only an authenticated link does here (see _authd).
            delay = factory.delay
            self._authenticated, self._refusal = False, None
            xs = connected(addr)
            factory.delay = delay
            xs.addObserver(xmlstream.STREAM_ERROR_EVENT, self._stream_error)
            return xs

        def connection_lost(connector, reason):
            lost(connector, reason)
            if not self._authenticated:
                self._attempt_failed(
                    self._refusal or "the host server closed the component stream before "
                    "accepting it (is component_secret right, and is jid a component there?)")

        def connection_failed(connector, reason):
            failed(connector, reason)
            self._attempt_failed(f"cannot connect: {reason.getErrorMessage()}")

        factory.buildProtocol = build_protocol
        factory.clientConnectionLost = connection_lost
        factory.clientConnectionFailed = connection_failed

    def _stream_error(self, failure) -> None:
        """The host server ended the stream with an error before accepting
        the link: say which (a second process with the same jid gets
        ``conflict``, not a secret problem)."""
        if self._authenticated:
            return
        condition = getattr(failure.value, "condition", None) or "undefined-condition"
        text = getattr(failure.value, "text", None)
        if condition == "conflict":
            why = f"another component is already connected to the host server as {self.jid}"
        elif condition == "not-authorized":
            why = ("the host server refused the component secret for "
                   f"{self.jid} (check component_secret)")
        else:
            why = f"the host server refused the link with the stream error {condition}"
        self._refusal = f"{why} ({text})" if text else why

    def _attempt_failed(self, why: str) -> None:
        if not self.running or not self.factory.continueTrying:
            return
        self.link.failed(why)
        self.log.error("component link to {host}:{port} as {jid} not up: {why}; "
                       "next attempt in {delay:.1f} s",
                       host=self.host, port=self.port, jid=self.jid, why=why,
                       delay=self.factory.delay)
    def _getConnection(self):
        return self._reactor.connectTCP(self.host, self.port, self.factory)

    def _authd(self, xs):
        self._authenticated = True
        self.factory.resetDelay()
        super()._authd(xs)
        self.log.info("component link to {host}:{port} is up as {jid}",
                      host=self.host, port=self.port, jid=self.jid)
        self.link.went_up()

    def _disconnected(self, reason):
        was_up = self.link.is_up
        super()._disconnected(reason)
        self.link.went_down()
        if was_up and self.running:
            self.log.warn("component link lost ({reason}); reconnecting",
                          reason=reason.getErrorMessage() if reason else "closed")

    def initializationFailed(self, reason):
        """The host server refused the handshake: keep trying, and say why
        when the connection closes (`_attempt_failed`).

        wokkel stops the service here, which would leave a running process
        that never reconnects; a host server being reconfigured is more
        likely than a permanent mistake, so we retry with the capped backoff.
        """
        self._refusal = (f"the host server refused the component handshake: "
                         f"{reason.getErrorMessage()} (check jid and component_secret)")
        if self.xmlstream is not None:
            self.xmlstream.transport.loseConnection()

    def startService(self):
        if self.hold:
            service.Service.startService(self)
        else:
            super().startService()

    def connect(self) -> None:
        """Connect now (a held component, once it may)."""
        if self.running and self._connection is None:
            self._connection = self._getConnection()

    def fence(self) -> None:
        """Close the link at once and never reconnect: this process must
        not serve any more (its slot lease ran out)."""
        self.factory.stopTrying()
        if self.xmlstream is not None and self.xmlstream.transport is not None:
            self.xmlstream.transport.abortConnection()
        if self._connection is not None:
            try:
                self._connection.disconnect()
            except Exception:
                self.log.failure("closing the component connection")

    def stopService(self):
        """Stop reconnecting and close the link, whether or not it ever came up."""
        service.Service.stopService(self)
        self.factory.stopTrying()
        if self._connection is not None:
            try:
                self._connection.disconnect()
            except Exception:  # a connector that never connected may refuse
                self.log.failure("closing the component connection")
