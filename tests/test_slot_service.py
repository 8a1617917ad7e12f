"""A process with ``component_slots`` on a real PostgreSQL database: it
neither reads the rooms nor connects until it holds a slot token; then it
reads them as the database holds them at that moment, starts its database
link and connects; a fenced one closes its link and stops; one process's
settings keep today's behaviour."""

from __future__ import annotations

import psycopg
import pytest
from twisted.internet.testing import MemoryReactorClock

from mucsvc.config import ConfigError, parse_config
from mucsvc.rooms import RoomConfig
from mucsvc.storage import pg_slots
from mucsvc.storage.pg_rooms import PostgreSQLRoomStore
from mucsvc.tap import service_from_config

BASE = {"jid": "muc.example.org", "component_secret": "x",
        "http_muc_kick_authorization_header": "Bearer k",
        "http_endpoint": "tcp:0:interface=127.0.0.1"}


class Reactor(MemoryReactorClock):
    def __init__(self):
        super().__init__()
        self.stopped = 0

    def callFromThread(self, f, *args):  # only what the test itself runs
        f(*args)

    def stop(self):
        self.stopped += 1


def tree(url, reactor, **settings):
    config = parse_config({**BASE, "storage": url, **settings}, environ={})
    return service_from_config(config, reactor=reactor)


def close(root):
    storage = root.getServiceNamed("storage")
    storage.store.close()
    storage.archive.close()
    if "slots" in {s.name for s in root}:
        root.getServiceNamed("slots").tokens.close()


def save_room(url, name):
    store = PostgreSQLRoomStore(url)
    store.save_room(f"{name}@muc.example.org", RoomConfig(persistent=True, name=name))
    store.close()


def test_a_standby_reads_the_rooms_when_it_takes_a_token_not_at_start(postgresql):
    url = postgresql.database()
    save_room(url, "early")
    reactor = Reactor()
    root = tree(url, reactor, component_slots=3)
    try:
        muc, storage, slots = (root.getServiceNamed(n) for n in ("muc", "storage", "slots"))
        assert "early@muc.example.org" not in muc.rooms
        save_room(url, "later")  # written by the process that holds the slot now
        slots.component.startService()
        assert reactor.tcpClients == [], "connected without a token"
        slots.lease._claimed(2, slots.lease.monotonic())
        assert {r.jid for r in muc.rooms.rooms()} == {"early@muc.example.org",
                                                      "later@muc.example.org"}
        assert storage.link.started
        assert [(host, port) for host, port, *_ in reactor.tcpClients] == [("127.0.0.1", 5347)]
    finally:
        close(root)


def test_a_fenced_process_closes_its_link_and_stops(postgresql):
    url = postgresql.database()
    reactor = Reactor()
    root = tree(url, reactor, component_slots=2)
    try:
        slots = root.getServiceNamed("slots")
        slots.component.startService()
        slots._acquired(1)
        slots._fenced("no renewal")
        assert not slots.component.factory.continueTrying
        reactor.advance(0)
        assert reactor.stopped == 1
    finally:
        close(root)


def test_the_slot_tokens_live_in_the_same_database(postgresql):
    url = postgresql.database()
    reactor = Reactor()
    root = tree(url, reactor, component_slots=2, component_slot_lease=9)
    try:
        tokens = root.getServiceNamed("slots").tokens
        assert tokens.count == 2 and tokens.lease == 9
        with psycopg.connect(url, autocommit=True) as conn:
            assert pg_slots.claim(conn, "other", 2, 60) == 1
        assert tokens.link.run(lambda conn: pg_slots.claim(conn, "me", 2, 60)) == 2
    finally:
        close(root)


def test_one_slot_is_the_one_process_service(postgresql):
    url = postgresql.database()
    save_room(url, "kept")
    reactor = Reactor()
    root = tree(url, reactor)
    try:
        assert "slots" not in {s.name for s in root}
        assert "kept@muc.example.org" in root.getServiceNamed("muc").rooms
        assert not root.getServiceNamed("component").hold
    finally:
        close(root)


@pytest.mark.parametrize("settings, key, says", [
    ({"component_slots": 2}, "component_slots", "PostgreSQL"),
    ({"component_slots": 0, "storage": "postgresql://x@h/db"}, "component_slots", "1 to 1000"),
    ({"component_slot_renewal": 3, "component_slot_lease": 6}, "component_slot_lease",
     "more than twice"),
    ({"component_slot_renewal": 0}, "component_slot_renewal", "positive"),
])
def test_slot_settings_are_checked(settings, key, says):
    with pytest.raises(ConfigError) as raised:
        parse_config({**BASE, **settings}, environ={})
    assert raised.value.key == key and says in str(raised.value)


class FakeComponent:
    def __init__(self, clock):
        from mucsvc.link import LinkState
        self.link = LinkState(clock)
        self.connected = self.fenced = 0

    def connect(self):
        self.connected += 1

    def fence(self):
        self.fenced += 1
        self.link.went_down()


class FakeTokens:
    def __init__(self):
        self.calls = []

    def start(self, clock, deliver):
        pass

    def claim(self, holder):
        self.calls.append("claim")
        return 1

    def renew(self, slot, holder):
        self.calls.append("renew")
        return self.answer

    answer = "held"

    def release(self, slot, holder):
        self.calls.append("release")

    def close(self):
        self.calls.append("close")


class FakeStorage:
    started = 0

    def start_link(self):
        self.started += 1


class FakeMuc:
    loads = 0

    def load(self):
        self.loads += 1


def slot_service(clock):
    from mucsvc.slot_service import SlotService
    stops = []
    component, tokens, storage, muc = FakeComponent(clock), FakeTokens(), FakeStorage(), FakeMuc()
    service = SlotService(tokens, component, storage, muc, clock, renewal=2, lease=6,
                          stop_process=lambda: stops.append(1), holder="h")
    return service, component, tokens, storage, muc, stops


def test_taking_a_token_loads_then_starts_the_database_then_connects():
    from twisted.internet.task import Clock
    clock = Clock()
    service, component, tokens, storage, muc, stops = slot_service(clock)
    service.startService()
    assert (muc.loads, storage.started, component.connected) == (0, 0, 0)
    clock.advance(0)
    assert (muc.loads, storage.started, component.connected) == (1, 1, 1)
    assert service.serving


def test_a_holder_that_loses_its_link_releases_the_token_and_stops():
    from twisted.internet.task import Clock
    clock = Clock()
    service, component, tokens, storage, muc, stops = slot_service(clock)
    service.startService()
    clock.advance(0)
    component.link.went_up()
    component.link.went_down()  # ejabberd restarted, or the network
    clock.advance(0)
    assert tokens.calls == ["claim", "release"] and component.fenced == 1 and stops == [1]


def test_a_clean_stop_releases_after_the_link_closed_not_before():
    from twisted.internet.task import Clock
    clock = Clock()
    service, component, tokens, storage, muc, stops = slot_service(clock)
    service.startService()
    clock.advance(0)
    component.link.went_up()
    done = service.stopService()
    assert "release" not in tokens.calls
    component.link.went_down()  # the component service closed it
    assert tokens.calls[-2:] == ["release", "close"] and done.called and stops == []


def test_asked_to_reconnect_a_holder_releases_the_token_and_stops():
    from twisted.internet.task import Clock
    clock = Clock()
    service, component, tokens, storage, muc, stops = slot_service(clock)
    service.startService()
    clock.advance(0)
    component.link.went_up()
    tokens.answer = "reconnect"
    clock.advance(2)
    clock.advance(0)
    assert tokens.calls == ["claim", "renew", "release"] and component.fenced == 1
    assert stops == [1]
