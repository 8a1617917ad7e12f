"""``POST /muc_kick`` through the Klein app without a socket, row by row.

A real ``MUCService`` (with a ``Clock`` and a list as its send function)
holds a room with romeo (owner) and juliet; every test says what the HTTP
client got and what happened to the room: who is still in it and which
stanzas the service sent.
"""

import io
import json

from treq.testing import StubTreq
from twisted.logger import globalLogPublisher, formatEvent
from twisted.trial import unittest
from twisted.web.test.requesthelper import DummyChannel, DummyRequest
from wokkel.generic import parseXml

from mucsvc.link import LinkState
from mucsvc.web.app import WebApp
from mucsvc.web.kick import KickEndpoint
from mucsvc.web.requests import MAX_BODY, BoundedRequest
from tests.helpers import SERVICE
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, Harness, codes, first, muc_x

AUTH = "Bearer s3cret-kick"
URL = "http://localhost/muc_kick"


class KickHarness(Harness):
    """A room with romeo (owner) and juliet, and the web app around the service."""

    def __init__(self):
        super().__init__()
        self.create()
        self.join(JULIET, "juliet")
        self.app = WebApp(LinkState(self.clock), self.muc, kick_authorization=AUTH)
        self.treq = StubTreq(self.app.resource())

    def nicks(self):
        return sorted(self.muc.rooms.get(ROOM)._by_nick)

    def sent_stanzas(self):
        """Every stanza sent; one write may hold several (a broadcast)."""
        return [stanza for text in self.sent
                for stanza in parseXml(f"<batch xmlns='jabber:client'>{text}</batch>".encode()).elements()]


class KickTestCase(unittest.TestCase):
    def setUp(self):
        self.h = KickHarness()

    async def request(self, body=None, *, method="POST", headers=None, auth=AUTH, raw=None):
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = auth
        data = raw if raw is not None else (json.dumps(body).encode("utf-8") if body is not None else None)
        response = await self.h.treq.request(method, URL, data=data, headers=headers)
        content = await response.content()
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        return response, json.loads(content)

    def assertUntouched(self):
        """Both occupants still there, and nothing sent to anyone."""
        self.assertEqual(self.h.nicks(), ["juliet", "romeo"])
        self.assertEqual(self.h.sent, [])

    async def assertRefused(self, status, error, body=None, **kwargs):
        response, answer = await self.request(body, **kwargs)
        self.assertEqual((response.code, answer), (status, {"error": error}))
        self.assertUntouched()
        return response


class SuccessTests(KickTestCase):
    async def test_kick_with_reason_removes_the_occupant_and_tells_everyone(self):
        response, answer = await self.request({"nickname": "juliet", "muc": ROOM, "reason": "Too loud"})
        self.assertEqual((response.code, answer), (200, {"kicked": "juliet", "muc": ROOM}))
        self.assertEqual(self.h.nicks(), ["romeo"])
        sent = self.h.sent_stanzas()
        self.assertEqual(sorted(s["to"] for s in sent), sorted([JULIET, ROMEO]))
        for stanza in sent:
            self.assertEqual((stanza.name, stanza["type"], stanza["from"]),
                             ("presence", "unavailable", ROOM + "/juliet"))
            item = first(muc_x(stanza), "item")
            self.assertEqual(item["role"], "none")
            self.assertEqual([c.name for c in item.elements()], ["reason"])  # no actor
            self.assertEqual(str(first(item, "reason")), "Too loud")
        [juliet] = [s for s in sent if s["to"] == JULIET]
        [romeo] = [s for s in sent if s["to"] == ROMEO]
        self.assertEqual(codes(juliet), ["307", "110"])
        self.assertEqual(codes(romeo), ["307"])

    async def test_kick_without_reason_sends_no_reason(self):
        response, answer = await self.request({"nickname": "juliet", "muc": ROOM})
        self.assertEqual(response.code, 200)
        self.assertEqual(self.h.nicks(), ["romeo"])
        for stanza in self.h.sent_stanzas():
            self.assertEqual(list(first(muc_x(stanza), "item").elements()), [])

    async def test_empty_reason_is_no_reason(self):
        response, _ = await self.request({"nickname": "juliet", "muc": ROOM, "reason": ""})
        self.assertEqual(response.code, 200)
        for stanza in self.h.sent_stanzas():
            self.assertEqual(list(first(muc_x(stanza), "item").elements()), [])

    async def test_nickname_is_compared_after_resourceprep(self):
        # U+00AD (soft hyphen) is mapped to nothing by resourceprep.
        response, answer = await self.request({"nickname": "jul\u00adiet", "muc": ROOM})
        self.assertEqual((response.code, answer), (200, {"kicked": "juliet", "muc": ROOM}))
        self.assertEqual(self.h.nicks(), ["romeo"])

    async def test_room_is_found_by_its_normalised_jid(self):
        response, answer = await self.request({"nickname": "juliet", "muc": "Garden@MUC.Example.ORG"})
        self.assertEqual((response.code, answer), (200, {"kicked": "juliet", "muc": ROOM}))
        self.assertEqual(self.h.nicks(), ["romeo"])

    async def test_a_body_of_exactly_the_limit_is_accepted(self):
        document = json.dumps({"nickname": "juliet", "muc": ROOM}).encode()
        raw = document + b" " * (MAX_BODY - len(document))
        response, _ = await self.request(raw=raw)
        self.assertEqual(response.code, 200)
        self.assertEqual(self.h.nicks(), ["romeo"])

    async def test_unknown_keys_are_ignored(self):
        response, _ = await self.request({"nickname": "juliet", "muc": ROOM, "colour": "red"})
        self.assertEqual(response.code, 200)


class AuthorizationTests(KickTestCase):
    BODY = {"nickname": "juliet", "muc": ROOM}

    async def test_missing_header_is_401(self):
        await self.assertRefused(401, "Authorization failed", self.BODY, auth=None)

    async def test_wrong_header_is_401(self):
        await self.assertRefused(401, "Authorization failed", self.BODY, auth="Bearer guess")

    async def test_header_is_compared_exactly(self):
        await self.assertRefused(401, "Authorization failed", self.BODY, auth=AUTH.lower())
        await self.assertRefused(401, "Authorization failed", self.BODY, auth=AUTH + "x")
        await self.assertRefused(401, "Authorization failed", self.BODY, auth=AUTH[:-1])

    async def test_two_authorization_headers_are_401(self):
        await self.assertRefused(401, "Authorization failed", self.BODY, auth=None,
                                 headers={"Authorization": [AUTH, AUTH]})

    async def test_authorization_comes_before_the_body(self):
        # Not JSON and too large: still 401, the body is never looked at.
        await self.assertRefused(401, "Authorization failed", auth="Bearer guess", raw=b"\xff" * 10)
        await self.assertRefused(401, "Authorization failed", auth=None, raw=b"x" * (MAX_BODY + 10))

    def test_wrong_header_does_not_read_the_body(self):
        content = RecordingContent(json.dumps(self.BODY).encode())
        request = kick_request(content, authorization=b"Bearer guess")
        body = KickEndpoint(self.h.muc, AUTH).render(request)
        self.assertEqual((request.responseCode, json.loads(body)), (401, {"error": "Authorization failed"}))
        self.assertEqual(content.calls, [])
        self.assertUntouched()

    def test_the_header_value_is_never_logged(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        endpoint = KickEndpoint(self.h.muc, AUTH)
        for authorization in (b"Bearer guess", AUTH.encode()):
            content = io.BytesIO(json.dumps(self.BODY).encode())
            endpoint.render(kick_request(content, authorization=authorization))
        self.assertEqual(self.h.nicks(), ["romeo"])
        self.assertTrue(events)  # the kick itself is logged...
        for event in events:
            text = f"{formatEvent(event)} {event!r}"
            self.assertNotIn(AUTH, text)  # ...without the configured value
            self.assertNotIn("Bearer guess", text)


class MethodTests(KickTestCase):
    async def test_other_methods_are_405_with_allow_post(self):
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
            response = await self.assertRefused(405, "Method not allowed", {"nickname": "juliet", "muc": ROOM},
                                                method=method)
            self.assertEqual(response.headers.getRawHeaders("allow"), ["POST"])

    async def test_head_is_405_with_allow_post(self):
        response = await self.h.treq.request("HEAD", URL, headers={"Authorization": AUTH})
        await response.content()
        self.assertEqual(response.code, 405)
        self.assertEqual(response.headers.getRawHeaders("allow"), ["POST"])
        self.assertUntouched()


class BodyTests(KickTestCase):
    async def test_not_utf8_is_400(self):
        await self.assertRefused(400, "Body is not UTF-8",
                                 raw='{"nickname": "juliet", "muc": "garden@muc.example.org"}'.encode("utf-16"))

    async def test_not_json_is_400(self):
        for raw in (b'{"nickname": "juliet"', b"", b"nickname=juliet", b"[" * 60000):
            await self.assertRefused(400, "Body is not JSON", raw=raw)

    async def test_not_an_object_is_400(self):
        for raw in (b'["juliet", "garden@muc.example.org"]', b'"juliet"', b"null", b"42"):
            await self.assertRefused(400, "Body is not a JSON object", raw=raw)

    async def test_over_the_limit_is_413(self):
        document = {"nickname": "juliet", "muc": ROOM, "reason": "x" * MAX_BODY}
        await self.assertRefused(413, f"Body too large (at most {MAX_BODY} bytes)", document)

    def test_declared_length_over_the_limit_is_413_without_reading(self):
        content = RecordingContent(b"{}")
        request = kick_request(content, content_length=MAX_BODY + 1)
        body = KickEndpoint(self.h.muc, AUTH).render(request)
        self.assertEqual(request.responseCode, 413)
        self.assertIn("too large", json.loads(body)["error"])
        self.assertEqual(content.calls, [])
        self.assertUntouched()

    def test_undeclared_length_reads_one_byte_past_the_limit_at_most(self):
        content = RecordingContent(b" " * (10 * MAX_BODY))
        request = kick_request(content)
        body = KickEndpoint(self.h.muc, AUTH).render(request)
        self.assertEqual(request.responseCode, 413)
        self.assertIn("too large", json.loads(body)["error"])
        self.assertEqual(content.calls, [("seek", 0), ("read", MAX_BODY + 1)])
        self.assertUntouched()


class FieldTests(KickTestCase):
    MISSING = "Missing nickname and/or MUC"

    async def test_missing_or_non_string_nickname_or_muc_is_400(self):
        for document in ({"muc": ROOM}, {"nickname": "juliet"}, {},
                         {"nickname": 7, "muc": ROOM}, {"nickname": "juliet", "muc": None},
                         {"nickname": ["juliet"], "muc": ROOM}, {"nickname": "juliet", "muc": {"jid": ROOM}}):
            await self.assertRefused(400, self.MISSING, document)

    async def test_reason_that_is_not_a_string_is_400(self):
        for reason in (42, None, ["loud"], {"text": "loud"}, True):
            await self.assertRefused(400, "reason must be a string",
                                     {"nickname": "juliet", "muc": ROOM, "reason": reason})

    async def test_muc_that_is_not_a_jid_is_400(self):
        # Empty labels made Twisted's parser raise IndexError: a 500 once.
        for muc in ("garden@@muc.example.org", "garden@", "", "garden@bad host",
                    "garden@.example.org", "garden@muc..example.org", "a@b..c",
                    "@muc.example.org", "garden@muc.example.org/", "."):
            await self.assertRefused(400, f"Invalid MUC JID: {muc}", {"nickname": "juliet", "muc": muc})

    async def test_muc_with_a_resource_is_400(self):
        muc = ROOM + "/juliet"
        await self.assertRefused(400, f"MUC must be a bare JID: {muc}", {"nickname": "juliet", "muc": muc})


class NotFoundTests(KickTestCase):
    async def test_room_on_another_domain_is_404(self):
        muc = "garden@conference.example.org"
        await self.assertRefused(404, f"MUC not found: {muc}", {"nickname": "juliet", "muc": muc})

    async def test_the_service_itself_is_not_a_room(self):
        await self.assertRefused(404, f"MUC not found: {SERVICE}", {"nickname": "juliet", "muc": SERVICE})

    async def test_no_such_room_is_404_with_the_muc_as_given(self):
        muc = "Nowhere@muc.example.org"
        await self.assertRefused(404, f"MUC not found: {muc}", {"nickname": "juliet", "muc": muc})

    async def test_no_such_occupant_is_404(self):
        await self.assertRefused(404, "Occupant not found: mercutio", {"nickname": "mercutio", "muc": ROOM})

    async def test_nicks_are_case_sensitive(self):
        await self.assertRefused(404, "Occupant not found: Juliet", {"nickname": "Juliet", "muc": ROOM})

    async def test_a_nickname_failing_resourceprep_is_nobody(self):
        for nickname in ("", "\u0000", "\U0001F916"):
            await self.assertRefused(404, f"Occupant not found: {nickname}", {"nickname": nickname, "muc": ROOM})

    async def test_the_room_is_checked_before_the_occupant(self):
        await self.assertRefused(404, "MUC not found: nowhere@muc.example.org",
                                 {"nickname": "", "muc": "nowhere@muc.example.org"})


class BoundedRequestTests(unittest.TestCase):
    def test_keeps_one_byte_past_the_limit(self):
        request = BoundedRequest(DummyChannel())
        request.gotLength(None)
        for _ in range(3):
            request.handleContentChunk(b"x" * MAX_BODY)
        request.content.seek(0)
        self.assertEqual(len(request.content.read()), MAX_BODY + 1)

    def test_a_large_declared_length_gets_no_temporary_file(self):
        request = BoundedRequest(DummyChannel())
        request.gotLength(10 ** 9)
        self.assertIsInstance(request.content, io.BytesIO)

    def test_small_bodies_are_kept_whole(self):
        request = BoundedRequest(DummyChannel())
        request.gotLength(5)
        request.handleContentChunk(b"{}")
        request.handleContentChunk(b"   ")
        request.content.seek(0)
        self.assertEqual(request.content.read(), b"{}   ")


class RecordingContent(io.BytesIO):
    """A request body that records how it was read."""

    def __init__(self, data):
        super().__init__(data)
        self.calls = []

    def seek(self, *args):
        self.calls.append(("seek",) + args)
        return super().seek(*args)

    def read(self, *args):
        self.calls.append(("read",) + args)
        return super().read(*args)


def kick_request(content, *, authorization=AUTH.encode(), content_length=None):
    request = DummyRequest([b"muc_kick"])
    request.method = b"POST"
    request.content = content
    if authorization is not None:
        request.requestHeaders.setRawHeaders(b"authorization", [authorization])
    if content_length is not None:
        request.requestHeaders.setRawHeaders(b"content-length", [str(content_length).encode()])
    return request
