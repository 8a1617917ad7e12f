"""``POST /muc_moderate`` through the Klein app without a socket: the
service retracts a message (XEP-0425) on its own authority."""

import json

from treq.testing import StubTreq
from twisted.internet import defer
from twisted.trial import unittest
from wokkel.generic import parseXml

from mucsvc.link import LinkState
from mucsvc.storage import MemoryRoomStore
from mucsvc.web.app import WebApp
from mucsvc.web.moderate import TURNED_OFF
from tests.test_moderation import (
    FASTEN, MODERATE_0, MODERATE_1, OCCUPANT_ID, RETRACT_1, el, forwarded, sid_of,
)
from tests.test_room_archive import Harness
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, config_submit, to

AUTH = "Bearer s3cret-moderate"
URL = "http://localhost/muc_moderate"


class FlakyStore(MemoryRoomStore):
    armed = False

    def apply(self, writes):
        if self.armed:
            self.armed = False
            raise OSError("disk full")
        return super().apply(writes)


class ModerateHarness(Harness):
    def __init__(self, authorization=AUTH, **options):
        super().__init__(**options)
        self.create()
        self.join(JULIET, "juliet")
        self.sid = sid_of(to(self.say(JULIET, "spam spam spam", id="s1"), ROMEO)[0])
        self.app = WebApp(LinkState(self.clock), self.muc, kick_authorization="Bearer kick",
                          moderate_authorization=authorization)
        self.treq = StubTreq(self.app.resource())

    def sent_stanzas(self):
        out = [s for text in self.sent
               for s in parseXml(f"<batch xmlns='jabber:client'>{text}</batch>".encode()).elements()]
        del self.sent[:]
        return out


class ModerateTestCase(unittest.TestCase):
    options = {}

    def setUp(self):
        self.h = ModerateHarness(**self.options)
        del self.h.sent[:]

    async def request(self, body=None, *, method="POST", auth=AUTH, raw=None):
        headers = {"Authorization": auth} if auth is not None else {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        response = await self.h.treq.request(method, URL, data=data, headers=headers)
        content = await response.content()
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        return response.code, json.loads(content)

    def archived_bodies(self):
        inner = [forwarded(m) for m in self.h.mam(ROMEO)[0]]
        return [str(m.body) for m in inner if m.body is not None]

    async def assertRefused(self, status, error, body=None, **kwargs):
        answer = await self.request(body, **kwargs)
        self.assertEqual(answer, (status, {"error": error}))
        self.assertEqual(self.h.sent_stanzas(), [])
        self.assertEqual(self.archived_bodies(), ["spam spam spam"])


class SuccessTests(ModerateTestCase):
    async def test_the_service_retracts_and_the_room_is_told_by_itself(self):
        answer = await self.request({"muc": ROOM, "id": self.h.sid, "reason": "Spam"})
        self.assertEqual(answer, (200, {"retracted": self.h.sid, "muc": ROOM, "already": False}))
        sent = self.h.sent_stanzas()
        self.assertEqual(sorted(s["to"] for s in sent), sorted([ROMEO, JULIET]))
        for announcement in sent:
            self.assertEqual(announcement["from"], ROOM)
            legacy = el(el(announcement, FASTEN, "apply-to"), MODERATE_0, "moderated")
            current = el(el(announcement, RETRACT_1, "retract"), MODERATE_1, "moderated")
            self.assertEqual((legacy["by"], current["by"]), (ROOM, ROOM))
            self.assertEqual(list(current.elements(OCCUPANT_ID, "occupant-id")), [])
            self.assertEqual(str(el(el(announcement, RETRACT_1, "retract"), RETRACT_1, "reason")), "Spam")
        self.assertEqual(self.archived_bodies(), [])

    async def test_again_is_still_ok_and_tells_nobody(self):
        await self.request({"muc": ROOM, "id": self.h.sid})
        self.h.sent_stanzas()
        answer = await self.request({"muc": "Garden@" + ROOM.split("@")[1], "id": self.h.sid})
        self.assertEqual(answer, (200, {"retracted": self.h.sid, "muc": ROOM, "already": True}))
        self.assertEqual(self.h.sent_stanzas(), [])

    async def test_results_are_counted_for_metrics(self):
        await self.request({"muc": ROOM, "id": self.h.sid})
        await self.request({"muc": ROOM, "id": "1"})
        await self.request({"muc": ROOM, "id": "1"}, auth="wrong")
        self.assertEqual({k: v for k, v in self.h.app.moderation.results.items() if v},
                         {"ok": 1, "not_found": 1, "unauthorized": 1})
        response = await self.h.treq.get("http://localhost/metrics")
        text = (await response.content()).decode()
        self.assertIn('mucsvc_http_moderations_total{result="ok"} 1.0', text)


class RefusalTests(ModerateTestCase):
    async def test_authorization_is_checked_first(self):
        await self.assertRefused(401, "Authorization failed", {"muc": ROOM, "id": self.h.sid}, auth=None)
        await self.assertRefused(401, "Authorization failed", {"muc": ROOM, "id": self.h.sid},
                                 auth="Bearer wrong")
        await self.assertRefused(401, "Authorization failed", raw=b"not json", auth="Bearer wrong")

    async def test_bad_bodies(self):
        await self.assertRefused(400, "Body is not JSON", raw=b"{nope")
        await self.assertRefused(400, "Body is not a JSON object", raw=b"[1]")
        await self.assertRefused(400, "Body is not UTF-8", raw=b"\xff")
        await self.assertRefused(400, "Missing muc and/or id", {"muc": ROOM})
        await self.assertRefused(400, "Missing muc and/or id", {"muc": ROOM, "id": 5})
        await self.assertRefused(400, "reason must be a string", {"muc": ROOM, "id": self.h.sid,
                                                                  "reason": None})
        await self.assertRefused(400, "Invalid MUC JID: a@@b", {"muc": "a@@b", "id": self.h.sid})
        await self.assertRefused(400, f"MUC must be a bare JID: {ROOM}/x",
                                 {"muc": f"{ROOM}/x", "id": self.h.sid})
        await self.assertRefused(413, "Body too large (at most 65536 bytes)", raw=b"{" + b" " * 70000 + b"}")

    async def test_no_room_or_no_message(self):
        await self.assertRefused(404, "MUC not found: nowhere@muc.example.org",
                                 {"muc": "nowhere@muc.example.org", "id": self.h.sid})
        await self.assertRefused(404, "MUC not found: garden@elsewhere.example",
                                 {"muc": "garden@elsewhere.example", "id": self.h.sid})
        for sid in ("12345", "nonsense", ""):
            await self.assertRefused(404, f"Message not found: {sid}", {"muc": ROOM, "id": sid})

    async def test_other_methods(self):
        code, answer = await self.request(method="GET")
        self.assertEqual((code, answer), (405, {"error": "Method not allowed"}))


class StoreFailureTests(ModerateTestCase):
    def setUp(self):
        self.store = FlakyStore()
        self.h = ModerateHarness(store=self.store)
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        del self.h.sent[:]

    async def test_a_store_failure_is_503_and_changes_nothing(self):
        self.store.armed = True
        await self.assertRefused(503, "The change could not be stored", {"muc": ROOM, "id": self.h.sid})
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)


class TurnedOffTests(unittest.TestCase):
    async def test_without_the_setting_the_endpoint_is_off_and_says_how_to_turn_it_on(self):
        h = ModerateHarness(authorization=None)
        del h.sent[:]
        response = await h.treq.post(URL, data=json.dumps({"muc": ROOM, "id": h.sid}).encode(),
                                     headers={"Authorization": AUTH})
        self.assertEqual(response.code, 404)
        self.assertEqual(json.loads(await response.content()), {"error": TURNED_OFF})
        self.assertIn("http_muc_moderate_authorization_header", TURNED_OFF)
        self.assertEqual(h.sent, [])
        self.assertIsNone(h.app.moderation)


class DeferredStore(MemoryRoomStore):
    def __init__(self):
        super().__init__()
        self.waiting = []

    def apply(self, writes):
        d = defer.Deferred()
        self.waiting.append((d, writes))
        return d

    def release(self):
        for d, writes in self.waiting:
            d.callback(super().apply(writes))
        self.waiting = []


class DeferredStoreTests(unittest.TestCase):
    async def test_the_answer_waits_for_a_store_that_answers_later(self):
        store = DeferredStore()
        h = ModerateHarness(store=store)
        store.release()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.release()
        h.say(JULIET, "later", id="s2")
        store.release()
        h.sid = sid_of(to(h.sent_stanzas(), ROMEO)[0])
        pending = defer.ensureDeferred(h.treq.post(
            URL, data=json.dumps({"muc": ROOM, "id": h.sid}).encode(), headers={"Authorization": AUTH}))
        self.assertNoResult(pending)
        self.assertEqual(h.sent, [])
        store.release()
        h.treq.flush()
        response = self.successResultOf(pending)
        self.assertEqual(response.code, 200)
        self.assertEqual(len(h.sent_stanzas()), 2)


class ServiceTreeTests(unittest.TestCase):
    def tree(self, **settings):
        from twisted.internet.testing import MemoryReactorClock

        from mucsvc.config import parse_config
        from mucsvc.tap import service_from_config
        config = parse_config({"jid": "muc.example.org", "component_secret": "x",
                               "http_muc_kick_authorization_header": "Bearer kick",
                               "http_endpoint": "tcp:0:interface=127.0.0.1",
                               "storage": self.mktemp() + ".sqlite", **settings}, environ={})
        root = service_from_config(config, reactor=MemoryReactorClock())
        self.addCleanup(root.getServiceNamed("storage").store.close)
        return root

    async def test_the_endpoint_is_wired_only_when_configured(self):
        root = self.tree(http_muc_moderate_authorization_header=AUTH)
        treq = StubTreq(root.getServiceNamed("web").factory.resource)
        body = json.dumps({"muc": ROOM, "id": "1"}).encode()
        response = await treq.post(URL, data=body, headers={"Authorization": AUTH})
        self.assertEqual((response.code, await response.json()),
                         (404, {"error": f"MUC not found: {ROOM}"}))
        response = await treq.post(URL, data=body, headers={"Authorization": "Bearer kick"})
        self.assertEqual(response.code, 401)
        treq = StubTreq(self.tree().getServiceNamed("web").factory.resource)
        response = await treq.post(URL, data=body, headers={"Authorization": AUTH})
        self.assertEqual((response.code, await response.json()), (404, {"error": TURNED_OFF}))
