"""``GET /metrics``: scraped and parsed as Prometheus would, values moving
after stanzas, kicks and link changes."""

import json

from prometheus_client import REGISTRY
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from twisted.words.xish import domish

from mucsvc.config import parse_config
from mucsvc.link import LinkState
from mucsvc.muc import MUCService
from mucsvc.protocol.router import StanzaRouter
from mucsvc.stats import TrafficStats
from mucsvc.tap import service_from_config
from mucsvc.web.app import WebApp
from tests.helpers import SERVICE, Wire, stanza

AUTH = "Bearer metrics-test"
ROOM = f"garden@{SERVICE}"
ROMEO = "romeo@example.org/balcony"
JULIET = "juliet@example.org/tomb"
KICK_RESULTS = ("ok", "unauthorized", "bad_request", "not_found", "too_large", "method_not_allowed",
                "unavailable")


def samples(text, parse=text_string_to_metric_families):
    """``{(sample name, ((label, value), ...)): value}`` of a scrape."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parse(text)
        for sample in family.samples
    }


def kinds(name, values):
    return {(name, (("kind", kind),)): float(value) for kind, value in values.items()}


class MetricsHarness:
    """A service whose sends and receives are counted as ``tap`` wires them."""

    def __init__(self, **options):
        self.clock = Clock()
        self.sent = []
        self.traffic = TrafficStats()
        self.muc = MUCService(SERVICE, self.traffic.counting(self.sent.append), self.clock,
                              batch_send=self.traffic.counting_batches(self.sent.append), **options)
        self.wire = Wire(rooms=self.muc.handler)
        self.wire.router.traffic = self.traffic
        self.link = LinkState(self.clock)
        self.app = WebApp(self.link, self.muc, kick_authorization=AUTH, traffic=self.traffic)
        self.treq = StubTreq(self.app.resource())

    def join(self, who, nick):
        self.wire.receive(f"<presence xmlns='jabber:client' from='{who}' to='{ROOM}/{nick}'>"
                          "<x xmlns='http://jabber.org/protocol/muc'/></presence>")

    def create_room(self):
        self.join(ROMEO, "romeo")
        self.wire.receive(f"<iq xmlns='jabber:client' type='set' id='inst' from='{ROMEO}' to='{ROOM}'>"
                          "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                          "<x xmlns='jabber:x:data' type='submit'/></query></iq>")

    def sent_by_kind(self):
        """Stanzas sent, by kind; one write may hold several (a broadcast)."""
        counts = dict.fromkeys(("message", "presence", "iq"), 0)
        for text in self.sent:
            for element in stanza(f"<batch xmlns='jabber:client'>{text}</batch>").elements():
                counts[element.name] += 1
        return counts


class MetricsTests(unittest.TestCase):
    def setUp(self):
        self.h = MetricsHarness()

    async def scrape(self, accept=None):
        headers = {"Accept": accept} if accept else {}
        response = await self.h.treq.get("http://localhost/metrics", headers=headers)
        self.assertEqual(response.code, 200)
        self.content_type = response.headers.getRawHeaders("content-type")[0]
        return (await response.content()).decode("utf-8")

    async def kick(self, body, auth=AUTH, method="POST"):
        headers = {"Authorization": auth} if auth else {}
        response = await self.h.treq.request(method, "http://localhost/muc_kick",
                                             data=json.dumps(body).encode(), headers=headers)
        await response.content()
        return response.code

    async def test_a_fresh_service_reports_zeros_for_every_series(self):
        values = samples(await self.scrape())
        self.assertTrue(self.content_type.startswith("text/plain; version=0.0.4"))
        expected = {
            ("mucsvc_rooms", ()): 0.0,
            ("mucsvc_occupants", ()): 0.0,
            ("mucsvc_store_failures_total", ()): 0.0,
            ("mucsvc_room_creations_refused_total", (("cap", "per_user"),)): 0.0,
            ("mucsvc_room_creations_refused_total", (("cap", "service"),)): 0.0,
            ("mucsvc_component_link_up", ()): 0.0,
            ("mucsvc_component_reconnects_total", ()): 0.0,
            **kinds("mucsvc_stanzas_received_total", dict.fromkeys(("message", "presence", "iq"), 0)),
            **kinds("mucsvc_stanzas_sent_total", dict.fromkeys(("message", "presence", "iq"), 0)),
            **{("mucsvc_http_kicks_total", (("result", r),)): 0.0 for r in KICK_RESULTS},
        }
        self.assertEqual(values, expected)

    async def test_the_archive_reports_what_waits_and_what_failed(self):
        from mucsvc.storage.memory_archive import MemoryArchive
        archive = MemoryArchive()
        self.h = MetricsHarness(archive=archive, archive_flush_interval=1.0)
        self.h.create_room()
        archive.append = lambda messages: (_ for _ in ()).throw(OSError("disk full"))
        self.h.wire.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' "
                            f"to='{ROOM}'><body>hi</body></message>")
        values = samples(await self.scrape())
        self.assertEqual(values[("mucsvc_archive_pending", ())], 1.0)
        self.h.clock.advance(1.0)
        values = samples(await self.scrape())
        self.assertEqual((values[("mucsvc_archive_pending", ())],
                          values[("mucsvc_archive_write_failures_total", ())],
                          values[("mucsvc_archive_lost_total", ())]), (1.0, 1.0, 0.0))
        self.flushLoggedErrors(OSError)

    async def test_rooms_occupants_and_stanzas_follow_the_traffic(self):
        self.h.create_room()
        self.h.join(JULIET, "juliet")
        self.h.wire.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{ROOM}'><body>hi</body></message>")
        values = samples(await self.scrape())
        self.assertEqual(values[("mucsvc_rooms", ())], 1.0)
        self.assertEqual(values[("mucsvc_occupants", ())], 2.0)
        for key, value in kinds("mucsvc_stanzas_received_total",
                                {"presence": 2, "iq": 1, "message": 1}).items():
            self.assertEqual(values[key], value)
        sent = self.h.sent_by_kind()
        self.assertGreater(sent["presence"], 0)
        self.assertGreater(sent["message"], 0)
        for key, value in kinds("mucsvc_stanzas_sent_total", sent).items():
            self.assertEqual(values[key], value)

    async def test_room_events_are_counted_by_kind(self):
        self.h.create_room()
        self.h.join(JULIET, "juliet")
        for _ in range(3):
            self.h.wire.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' "
                                f"to='{ROOM}'><body>hi</body></message>")
        values = samples(await self.scrape())
        events = {labels[0][1]: value for (name, labels), value in values.items()
                  if name == "mucsvc_room_events_total"}
        self.assertEqual(events, {"occupant_joined": 2.0, "config_changed": 1.0,
                                  "message_broadcast": 3.0})

    async def test_kicks_are_counted_by_result_and_move_the_room_numbers(self):
        self.h.create_room()
        self.h.join(JULIET, "juliet")
        sent_before = self.h.sent_by_kind()["presence"]
        self.assertEqual(await self.kick({"nickname": "juliet", "muc": ROOM}, auth="Bearer wrong"), 401)
        self.assertEqual(await self.kick({"nickname": "juliet"}), 400)
        self.assertEqual(await self.kick({"nickname": "mercutio", "muc": ROOM}), 404)
        self.assertEqual(await self.kick({"nickname": "juliet", "muc": ROOM, "reason": "x" * 70000}), 413)
        self.assertEqual(await self.kick({}, method="GET"), 405)
        self.assertEqual(await self.kick({"nickname": "juliet", "muc": ROOM}), 200)
        values = samples(await self.scrape())
        for result in KICK_RESULTS:
            expected = 0.0 if result == "unavailable" else 1.0  # a store failure: none here
            self.assertEqual(values[("mucsvc_http_kicks_total", (("result", result),))], expected,
                             result)
        self.assertEqual(values[("mucsvc_occupants", ())], 1.0)
        # juliet and romeo were each told: two presences more.
        self.assertEqual(values[("mucsvc_stanzas_sent_total", (("kind", "presence"),))], sent_before + 2)

    async def test_link_state_and_reconnects(self):
        self.h.link.went_up()
        values = samples(await self.scrape())
        self.assertEqual((values[("mucsvc_component_link_up", ())],
                          values[("mucsvc_component_reconnects_total", ())]), (1.0, 0.0))
        self.h.link.went_down()
        self.assertEqual(samples(await self.scrape())[("mucsvc_component_link_up", ())], 0.0)
        self.h.link.went_up()
        values = samples(await self.scrape())
        self.assertEqual((values[("mucsvc_component_link_up", ())],
                          values[("mucsvc_component_reconnects_total", ())]), (1.0, 1.0))

    async def test_openmetrics_when_asked_for(self):
        self.h.create_room()
        text = await self.scrape(accept="application/openmetrics-text; version=1.0.0")
        self.assertTrue(self.content_type.startswith("application/openmetrics-text"))
        self.assertTrue(text.endswith("# EOF\n"))
        values = samples(text, parse_openmetrics)
        self.assertEqual(values[("mucsvc_rooms", ())], 1.0)
        self.assertEqual(values[("mucsvc_stanzas_received_total", (("kind", "iq"),))], 1.0)

    async def test_each_app_has_its_own_registry(self):
        other = MetricsHarness()
        other.create_room()
        values = samples(await self.scrape())
        self.assertEqual(values[("mucsvc_rooms", ())], 0.0)
        self.assertEqual(values[("mucsvc_stanzas_received_total", (("kind", "presence"),))], 0.0)
        self.assertNotIn("mucsvc_rooms", {m.name for m in REGISTRY.collect()})

    async def test_only_get_and_head(self):
        response = await self.h.treq.post("http://localhost/metrics", data=b"")
        self.assertEqual(response.code, 405)
        self.assertEqual(json.loads(await response.content()), {"error": "Method not allowed"})


class TrafficStatsTests(unittest.TestCase):
    def test_counting_send_counts_text_and_elements_by_kind(self):
        traffic, out = TrafficStats(), []
        send = traffic.counting(out.append)
        element = domish.Element((None, "iq"))
        for item in ('<message to="a@b"/>', '<presence to="a@b"/>', '<presence to="c@d"/>', element, " "):
            send(item)
        self.assertEqual(out, ['<message to="a@b"/>', '<presence to="a@b"/>', '<presence to="c@d"/>',
                               element, " "])
        self.assertEqual(traffic.outbound, {"message": 1, "presence": 2, "iq": 1})

    def test_a_broadcast_written_at_once_counts_every_copy(self):
        from mucsvc.protocol.fanout import Fanout, Outgoing

        traffic, out = TrafficStats(), []
        fanout = Fanout(traffic.counting(out.append), traffic.counting_batches(out.append))
        fanout.to_jids(Outgoing("message", (("from", ROOM),), "<body>to=\"x\"</body>"),
                       [f"user{i}@example.org/r" for i in range(5)])
        fanout.to_jids(Outgoing("presence", (("from", ROOM + "/n"),)), [ROMEO, JULIET])
        self.assertEqual(len(out), 2)
        self.assertEqual(traffic.outbound, {"message": 5, "presence": 2, "iq": 0})

    def test_received_ignores_what_is_not_a_stanza(self):
        traffic = TrafficStats()
        for kind in ("message", "iq", "iq", "handshake"):
            traffic.received(kind)
        self.assertEqual(traffic.inbound, {"message": 1, "presence": 0, "iq": 2})

    def test_router_counts_every_stanza_once(self):
        wire = Wire()
        traffic = wire.router.traffic
        wire.receive("<iq type='get' id='1' from='a@b/c' to='muc.example.org'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>")
        wire.receive("<message from='a@b/c' to='nowhere.example.org'><body>x</body></message>")
        self.assertEqual(traffic.inbound, {"message": 1, "presence": 0, "iq": 1})


class WiringTests(unittest.TestCase):
    """``tap`` counts what passes the component, and serves it on the web service."""

    async def test_the_service_tree_counts_traffic_and_serves_metrics(self):
        config = parse_config({"jid": SERVICE, "component_secret": "x",
                               "http_muc_kick_authorization_header": AUTH,
                               "http_endpoint": "tcp:0:interface=127.0.0.1",
                               "storage": ":memory:"}, environ={})
        root = service_from_config(config, reactor=MemoryReactorClock())
        component = root.getServiceNamed("component")
        [router] = [h for h in component if isinstance(h, StanzaRouter)]
        router.onStanza(stanza(f"<presence from='{ROMEO}' to='{ROOM}/romeo'>"
                               "<x xmlns='http://jabber.org/protocol/muc'/></presence>"))
        treq = StubTreq(root.getServiceNamed("web").factory.resource)
        response = await treq.get("http://localhost/metrics")
        values = samples((await response.content()).decode())
        self.assertEqual(values[("mucsvc_stanzas_received_total", (("kind", "presence"),))], 1.0)
        self.assertEqual(values[("mucsvc_rooms", ())], 1.0)
        # The creator got its presence and the subject, through the counted send.
        self.assertEqual(values[("mucsvc_stanzas_sent_total", (("kind", "presence"),))], 1.0)
        self.assertEqual(values[("mucsvc_stanzas_sent_total", (("kind", "message"),))], 1.0)
        response = await treq.post("http://localhost/muc_kick", data=b"{}",
                                   headers={"Authorization": AUTH})
        self.assertEqual(response.code, 400)
