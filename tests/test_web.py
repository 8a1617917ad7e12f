"""The web app without a socket: health, and JSON errors for the rest."""

import json

from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.trial import unittest

from mucsvc.link import LinkState
from mucsvc.web.app import WebApp


class HealthTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.link = LinkState(self.clock)
        self.treq = StubTreq(WebApp(self.link).resource())

    async def get(self, path, method="GET"):
        response = await self.treq.request(method, "http://localhost" + path)
        body = await response.content()
        return response, json.loads(body) if body else None

    async def test_down_is_503(self):
        response, body = await self.get("/health")
        self.assertEqual(response.code, 503)
        self.assertEqual(body["component"]["state"], "down")
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])

    async def test_up_is_200_with_since(self):
        self.clock.advance(60)
        self.link.went_up()
        response, body = await self.get("/health")
        self.assertEqual(response.code, 200)
        self.assertEqual(body["component"], {"state": "up", "since": "1970-01-01T00:01:00Z",
                                             "reconnects": 0})

    async def test_unknown_path_is_json_404(self):
        response, body = await self.get("/nowhere")
        self.assertEqual(response.code, 404)
        self.assertEqual(body, {"error": "Not found"})

    async def test_wrong_method_is_json_405_with_allow(self):
        response, body = await self.get("/health", method="POST")
        self.assertEqual(response.code, 405)
        self.assertIn("GET", response.headers.getRawHeaders("allow")[0])
        self.assertEqual(body, {"error": "Method not allowed"})
