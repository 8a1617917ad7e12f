"""The component link: capped reconnects, link state, and a safe stopService."""

from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python import failure
from twisted.trial import unittest
from twisted.words.protocols.jabber import xmlstream
from twisted.words.protocols.jabber.error import StreamError
from wokkel.test.helpers import XmlStreamStub

from mucsvc.component import MAX_RECONNECT_DELAY, MUCComponent


def make_component():
    reactor = MemoryReactorClock()
    return reactor, MUCComponent("127.0.0.1", 5347, "muc.example.org", "secret", reactor=reactor)


class ConnectTests(unittest.TestCase):
    def test_start_connects_to_configured_host(self):
        reactor, comp = make_component()
        comp.startService()
        host, port, factory, _, _ = reactor.tcpClients[0]
        self.assertEqual((host, port), ("127.0.0.1", 5347))
        self.assertIs(factory, comp.factory)

    def test_reconnect_backoff_is_capped(self):
        reactor, comp = make_component()
        comp.startService()
        connector = reactor.connectors[0]
        delays = []
        for _ in range(30):
            comp.factory.clientConnectionFailed(connector, failure.Failure(ConnectionRefusedError()))
            delays.append(comp.factory.delay)
        self.assertLessEqual(max(delays), MAX_RECONNECT_DELAY)
        # and a retry really is scheduled on our reactor
        self.assertTrue(reactor.getDelayedCalls())


    def component_lines(self) -> list:
        from twisted.logger import formatEvent, globalLogPublisher
        seen = []

        def observe(event):
            if "next attempt in" in formatEvent(event):
                seen.append(event)
        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)
        return seen

    def test_the_backoff_grows_when_the_host_accepts_the_socket_but_not_the_component(self):
        reactor, comp = make_component()
        comp.startService()
        connector = reactor.connectors[0]
        seen = self.component_lines()
        delays = []
        for _ in range(5):
            comp.factory.buildProtocol(None)  # TCP connected (Twisted would reset here)
            comp.factory.clientConnectionLost(connector, failure.Failure(ConnectionRefusedError()))
            delays.append(comp.factory.delay)
        self.assertEqual(delays, sorted(delays))
        self.assertGreater(delays[-1], delays[0] * 3)
        self.assertEqual(len(seen), 5)
        self.assertIn("component_secret", comp.link.last_error)
        # An authenticated link starts the backoff afresh and clears the reason.
        stub = XmlStreamStub()
        stub.xmlstream.thisEntity = None
        comp._connected(stub.xmlstream)
        comp._authd(stub.xmlstream)
        self.assertEqual(comp.factory.delay, comp.factory.initialDelay)
        self.assertIsNone(comp.link.last_error)

    def test_a_second_component_with_the_same_jid_is_told_apart_from_a_wrong_secret(self):
        reactor, comp = make_component()
        comp.startService()
        xs = comp.factory.buildProtocol(None)
        xs.dispatch(failure.Failure(StreamError("conflict", "Component already connected")),
                    xmlstream.STREAM_ERROR_EVENT)
        comp.factory.clientConnectionLost(reactor.connectors[0],
                                          failure.Failure(ConnectionRefusedError()))
        self.assertIn("another component is already connected", comp.link.last_error)
        self.assertIn("Component already connected", comp.link.last_error)
        self.assertNotIn("component_secret", comp.link.last_error)
        xs = comp.factory.buildProtocol(None)  # the next attempt starts without a reason
        xs.dispatch(failure.Failure(StreamError("host-unknown")), xmlstream.STREAM_ERROR_EVENT)
        comp.factory.clientConnectionLost(reactor.connectors[0],
                                          failure.Failure(ConnectionRefusedError()))
        self.assertIn("stream error host-unknown", comp.link.last_error)
        xs = comp.factory.buildProtocol(None)
        xs.dispatch(failure.Failure(StreamError("not-authorized")), xmlstream.STREAM_ERROR_EVENT)
        comp.factory.clientConnectionLost(reactor.connectors[0],
                                          failure.Failure(ConnectionRefusedError()))
        self.assertIn("component_secret", comp.link.last_error)

    def test_a_refused_connection_says_so(self):
        reactor, comp = make_component()
        comp.startService()
        seen = self.component_lines()
        comp.factory.clientConnectionFailed(reactor.connectors[0],
                                            failure.Failure(ConnectionRefusedError()))
        self.assertIn("cannot connect", comp.link.last_error)
        self.assertEqual(len(seen), 1)


class StopTests(unittest.TestCase):
    def test_stop_when_never_started(self):
        _, comp = make_component()
        comp.running = True  # as after a failed start
        comp.stopService()
        self.assertFalse(comp.running)

    def test_stop_while_link_never_came_up(self):
        reactor, comp = make_component()
        comp.startService()
        connector = reactor.connectors[0]
        comp.factory.clientConnectionFailed(connector, failure.Failure(ConnectionRefusedError()))
        comp.stopService()
        self.assertFalse(comp.running)
        self.assertFalse(comp.factory.continueTrying)
        self.assertEqual([c for c in reactor.getDelayedCalls() if c.active()], [])


class LinkStateTests(unittest.TestCase):
    def test_authenticated_stream_marks_link_up_then_down(self):
        reactor, comp = make_component()
        comp.startService()
        stub = XmlStreamStub()
        stub.xmlstream.thisEntity = None
        comp._connected(stub.xmlstream)
        self.assertFalse(comp.link.is_up)
        comp._authd(stub.xmlstream)
        self.assertTrue(comp.link.is_up)
        reactor.advance(3)
        comp._disconnected(failure.Failure(ConnectionRefusedError()))
        self.assertFalse(comp.link.is_up)
        self.assertEqual(comp.link.since, reactor.seconds())

    def test_refused_handshake_keeps_the_service_running(self):
        reactor, comp = make_component()
        comp.startService()
        comp.initializationFailed(failure.Failure(StreamError("not-authorized")))
        self.assertTrue(comp.running)
        self.assertTrue(comp.factory.continueTrying)
        self.flushLoggedErrors()
