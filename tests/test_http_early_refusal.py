"""Over a real socket: a request without the right header is answered 401
when its headers end, and not a byte of its body is waited for."""

import base64
import json

from twisted.internet import defer, protocol, reactor
from twisted.trial import unittest

import mucsvc  # noqa: F401
from mucsvc.config import parse_config
from mucsvc.tap import service_from_config

KICK = "Bearer kick"
HATS = "Bearer hats"
MODERATE = "Bearer moderate"
ADMIN = "Bearer admin"


class RawClient(protocol.Protocol):
    """Sends ``request`` bytes, collects the answer until the server closes."""

    def __init__(self, request: bytes):
        self.request = request
        self.received = b""
        self.closed = defer.Deferred()

    def connectionMade(self):
        self.transport.write(self.request)

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason):
        self.closed.callback(self.received)


class EarlyRefusalTests(unittest.TestCase):
    timeout = 15  # a service that waited for the body would never answer
    def setUp(self):
        config = parse_config({
            "jid": "muc.example.org", "component_secret": "x",
            "http_muc_kick_authorization_header": KICK,
            "http_muc_hats_authorization_header": HATS,
            "http_muc_moderate_authorization_header": MODERATE,
            "http_muc_admin_authorization_header": ADMIN,
            "http_endpoint": "tcp:0:interface=127.0.0.1",
            "storage": "memory:"}, environ={})
        self.root = service_from_config(config, reactor=reactor)
        self.site = self.root.getServiceNamed("web").factory
        self.port = reactor.listenTCP(0, self.site, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)

    async def exchange(self, request: bytes) -> bytes:
        client = RawClient(request)
        factory = protocol.ClientFactory.forProtocol(lambda: client)
        connector = reactor.connectTCP("127.0.0.1", self.port.getHost().port, factory)
        self.addCleanup(connector.disconnect)
        return await client.closed

    def head(self, path: bytes, auth: bytes | None, length: int, method: bytes = b"POST") -> bytes:
        lines = [method + b" " + path + b" HTTP/1.1", b"Host: localhost",
                 b"Content-Type: application/json", b"Content-Length: %d" % length,
                 b"Connection: close"]
        if auth is not None:
            lines.append(b"Authorization: " + auth)
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def test_a_wrong_header_is_answered_before_the_body(self):
        for path in (b"/muc_kick", b"/muc_hats/add", b"/muc_moderate", b"/muc_admin/rooms",
                     b"/muc_admin/rooms/garden/destroy"):
            for auth in (b"Bearer wrong", None):
                # Only the headers are sent: a service waiting for the
                # megabyte announced would never answer, and the test time out.
                answer = await self.exchange(self.head(path, auth, 1024 * 1024))
                self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer)
                self.assertEqual(json.loads(answer.split(b"\r\n\r\n", 1)[1]),
                                 {"error": "Authorization failed"})

    async def test_early_refusals_are_counted_as_unauthorized_kicks(self):
        await self.exchange(self.head(b"/muc_kick", b"Bearer wrong", 1000))
        metrics = await self.exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b'mucsvc_http_kicks_total{result="unauthorized"} 1.0', metrics)

    async def test_the_right_header_still_reaches_the_endpoint(self):
        body = json.dumps({"nickname": "juliet", "muc": "garden@muc.example.org"}).encode()
        answer = await self.exchange(self.head(b"/muc_kick", KICK.encode(), len(body)) + body)
        self.assertTrue(answer.startswith(b"HTTP/1.1 404"), answer)
        self.assertIn(b"MUC not found", answer)

    async def test_the_admin_header_reaches_the_admin_api(self):
        body = json.dumps({"reason": "x"}).encode()
        answer = await self.exchange(self.head(b"/muc_admin/rooms/garden/destroy", ADMIN.encode(),
                                               len(body)) + body)
        self.assertTrue(answer.startswith(b"HTTP/1.1 404"), answer)
        self.assertIn(b"Room not found: garden", answer)

    async def test_only_a_room_avatar_takes_a_body_over_64_kib(self):
        room = json.dumps({"room": "garden", "owner": "romeo@example.org"}).encode()
        answer = await self.exchange(self.head(b"/muc_admin/rooms", ADMIN.encode(), len(room))
                                     + room)
        self.assertTrue(answer.startswith(b"HTTP/1.1 201"), answer)
        image = base64.b64encode(b"x" * 60000).decode()
        body = json.dumps({"type": "image/png", "data": image}).encode()
        self.assertGreater(len(body), 64 * 1024)
        answer = await self.exchange(self.head(b"/muc_admin/rooms/garden/avatar", ADMIN.encode(),
                                               len(body), b"PUT") + body)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer)
        self.assertIn(b'"bytes": 60000', answer)
        answer = await self.exchange(self.head(b"/muc_admin/rooms/garden/config", ADMIN.encode(),
                                               len(body)) + body)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer)

    async def test_other_paths_are_not_guarded(self):
        answer = await self.exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 503"), answer)  # no link to the host yet

    async def test_the_refusal_is_logged_without_the_header(self):
        from twisted.logger import globalLogPublisher, formatEvent
        seen = []
        globalLogPublisher.addObserver(seen.append)
        self.addCleanup(globalLogPublisher.removeObserver, seen.append)
        await self.exchange(self.head(b"/muc_kick", b"Bearer wrong-secret", 1000))
        lines = [formatEvent(e) for e in seen]
        self.assertTrue(any('"POST /muc_kick" 401' in line for line in lines), lines)
        self.assertFalse(any("wrong-secret" in line for line in lines))
