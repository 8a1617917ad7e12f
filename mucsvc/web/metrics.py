"""``GET /metrics``: the service's numbers in the Prometheus text formats.

Nothing here is updated as things happen: one custom collector reads the
current values when scraped (rooms and occupants from the ``muc`` service,
the plain traffic counts of ``mucsvc.stats``, the kick outcomes, the
component link), so the hot paths never touch ``prometheus_client``.  Each
:class:`Metrics` has its own registry, never the process-wide default, so
two apps (or two tests) never share numbers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from mucsvc.stats import KINDS, TrafficStats


class ServiceCollector(Collector):
    """Reads every metric of the service at scrape time.

    ``muc`` (the ``muc`` service), ``kicks`` (outcome -> count) may be None
    when the app serves no rooms; their metrics are then left out.
    """

    def __init__(self, link, traffic: TrafficStats, muc=None, kicks=None, moderations=None,
                 database=None):
        self.link = link
        self.database = database
        self.traffic = traffic
        self.muc = muc
        self.kicks = kicks
        self.moderations = moderations

    def collect(self):
        if self.muc is not None:
            rooms = self.muc.rooms
            yield GaugeMetricFamily("mucsvc_rooms", "Rooms on the service", value=len(rooms))
            yield GaugeMetricFamily("mucsvc_occupants", "Occupants in all rooms (one per nick)",
                                    value=sum(room.occupant_count for room in rooms.rooms()))
            room_events = CounterMetricFamily(
                "mucsvc_room_events", "What happened in rooms, by event of the application",
                labels=["event"])
            for name, count in sorted(self.muc.events.counts.items()):
                room_events.add_metric([name], count)
            yield room_events
            refused = CounterMetricFamily(
                "mucsvc_room_creations_refused", "Rooms not created because of a cap",
                labels=["cap"])
            for cap, count in sorted(rooms.refused.items()):
                refused.add_metric([cap], count)
            yield refused
            yield CounterMetricFamily("mucsvc_store_failures",
                                      "Operations refused because the store failed their write",
                                      value=self.muc.app.store_failures)
            archive = getattr(self.muc, "archive", None)
            if archive is not None:
                yield GaugeMetricFamily("mucsvc_archive_pending",
                                        "Archived messages not yet written (one batch)",
                                        value=archive.pending)
                yield CounterMetricFamily("mucsvc_archive_write_failures",
                                          "Archive batches the store refused (kept, retried)",
                                          value=archive.failures)
                yield CounterMetricFamily("mucsvc_archive_lost",
                                          "Archived messages given up after the store refused "
                                          "writes for too long", value=archive.lost)
        yield _by_kind("mucsvc_stanzas_received", "Stanzas received from the host server",
                       self.traffic.inbound)
        yield _by_kind("mucsvc_stanzas_sent", "Stanzas sent to the host server",
                       self.traffic.outbound)
        if self.kicks is not None:
            kicks = CounterMetricFamily("mucsvc_http_kicks", "POST /muc_kick requests by result",
                                        labels=["result"])
            for result, count in self.kicks.items():
                kicks.add_metric([result], count)
            yield kicks
        if self.moderations is not None:
            moderations = CounterMetricFamily(
                "mucsvc_http_moderations", "POST /muc_moderate requests by result",
                labels=["result"])
            for result, count in self.moderations.items():
                moderations.add_metric([result], count)
            yield moderations
        yield GaugeMetricFamily("mucsvc_component_link_up",
                                "1 while the component link to the host server is up",
                                value=1 if self.link.is_up else 0)
        yield CounterMetricFamily("mucsvc_component_reconnects",
                                  "Times the component link came back up after the first",
                                  value=self.link.reconnects)
        if self.database is not None:
            yield GaugeMetricFamily("mucsvc_database_up",
                                    "1 while the PostgreSQL database answers",
                                    value=1 if self.database.is_up else 0)
            if self.database.since is not None:
                yield GaugeMetricFamily("mucsvc_database_state_since_seconds",
                                        "When the database link last went up or down "
                                        "(seconds since the epoch)", value=self.database.since)
            yield CounterMetricFamily("mucsvc_database_reconnects",
                                      "Times the database link came back after a loss",
                                      value=self.database.reconnects)


def _by_kind(name: str, documentation: str, counts) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["kind"])
    for kind in KINDS:
        family.add_metric([kind], counts[kind])
    return family


class Metrics:
    """The ``/metrics`` page: a registry of its own around :class:`ServiceCollector`."""

    def __init__(self, link, traffic: TrafficStats | None = None, muc=None, kicks=None,
                 moderations=None, database=None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ServiceCollector(
            link, traffic if traffic is not None else TrafficStats(), muc, kicks, moderations,
            database))

    def render(self, request) -> bytes:
        """The text format the scraper asks for (OpenMetrics or Prometheus 0.0.4)."""
        accept = request.getHeader(b"accept")
        encoder, content_type = choose_encoder(accept.decode("latin-1") if accept else "")
        request.setHeader(b"Content-Type", content_type.encode("ascii"))
        return encoder(self.registry)
