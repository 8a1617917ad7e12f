"""The service over a store and an archive that answer with Deferreds, as
the PostgreSQL ones do once started: the XMPP edge's archive queries,
moderation and retraction, the archive's batches (in flight, refused,
retried in their place), housekeeping, an unreachable database refused
with resource-constraint, and /health and /metrics showing its state.

`LaterArchive` and `LaterStore` answer at start-up (the rooms are loaded
before the reactor runs) and with Deferreds afterwards; the suites of the
archive and moderation tests run again over them."""

from __future__ import annotations

import json

from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from mucsvc.app.archive import HOUSEKEEPING_BATCH, RoomArchive
from mucsvc.app.errors import StoreFailed, StoreUnavailable
from mucsvc.protocol.errors import stanza_error
from mucsvc.storage import MemoryRoomStore
from mucsvc.storage.archive import ArchivedMessage
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.pg_link import DatabaseUnavailable
from mucsvc.web.app import WebApp
from mucsvc.web.responses import http_status
from tests import test_moderation, test_room_archive, test_use_cases
from tests.test_rooms_protocol import ROMEO, ROOM, condition, config_submit

LATER = ("append", "query", "get", "retract", "restore", "bounds", "drop_room", "purge",
         "expire")


class LaterArchive(MemoryArchive):
    """A memory archive whose calls answer with Deferreds once ``started``
    (already fired: the database answered), and fail with ``failing``."""

    started = False
    failing = None

    def __getattribute__(self, name):
        value = super().__getattribute__(name)
        if name not in LATER or not super().__getattribute__("started"):
            return value

        def later(*args):
            failing = super(LaterArchive, self).__getattribute__("failing")
            if failing is not None:
                return defer.fail(failing)
            try:
                return defer.succeed(value(*args))
            except Exception:
                return defer.fail()
        return later


class LaterStore(MemoryRoomStore):
    """A memory store whose ``apply`` answers with a Deferred once started."""

    started = False
    failing = None

    def apply(self, writes):
        if not self.started:
            return super().apply(writes)
        if self.failing is not None:
            return defer.fail(self.failing)
        try:
            return defer.succeed(super().apply(writes))
        except Exception:
            return defer.fail()


def started(harness):
    """Once built (rooms loaded), the archive answers later."""
    harness.archive.started = True
    return harness


# ---- the archive and moderation suites again, over an archive answering later ----------


class LaterHarness(test_room_archive.Harness):
    def __init__(self, archive=None, **options):
        super().__init__(archive=archive if archive is not None else LaterArchive(), **options)
        if isinstance(self.archive, LaterArchive):
            self.archive.started = True


class LaterQueryTests(test_room_archive.QueryTests):
    def setUp(self):
        self.patch(test_room_archive, "Harness", LaterHarness)
        super().setUp()


class LaterAccessTests(test_room_archive.AccessTests):
    def setUp(self):
        self.patch(test_room_archive, "Harness", LaterHarness)
        super().setUp()


class LaterModerationTests(test_moderation.ModerationTests):
    def setUp(self):
        self.patch(test_moderation, "MemoryArchive", LaterArchive)
        super().setUp()
        self.h.muc.archive.archive.started = True


class LaterSelfRetractionTests(test_moderation.SelfRetractionTests):
    def setUp(self):
        self.patch(test_moderation, "MemoryArchive", LaterArchive)
        super().setUp()
        self.h.muc.archive.archive.started = True


# ---- the archive's batches -------------------------------------------------------------


def message(seq, room=ROOM):
    return ArchivedMessage(seq, room, "romeo", "romeo@example.org", f"<message>{seq}</message>")


class Pending(MemoryArchive):
    """An archive whose appends wait for the test to answer them."""

    def __init__(self):
        super().__init__()
        self.waiting = []

    def append(self, messages):
        d = defer.Deferred()
        self.waiting.append((list(messages), d))
        return d

    def get(self, room_jid, seq):
        return defer.succeed(MemoryArchive.get(self, room_jid, seq))

    def retract(self, room_jid, seq, tombstone):
        return defer.succeed(MemoryArchive.retract(self, room_jid, seq, tombstone))

    def answer(self, fail=False):
        messages, d = self.waiting.pop(0)
        if fail:
            d.errback(DatabaseUnavailable())
        else:
            MemoryArchive.append(self, messages)
            d.callback(None)


class BatchTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.store = Pending()
        self.archive = RoomArchive(self.store, self.clock, flush_interval=1.0)

    def queue(self, *seqs):
        for seq in seqs:
            self.archive._pending.append(message(seq))

    def test_batches_go_without_waiting_and_count_until_written(self):
        self.queue(1, 2)
        flushed = self.archive.flush()
        self.queue(3)
        self.archive.flush()
        self.assertEqual((len(self.store.waiting), self.archive.pending), (2, 3))
        self.store.answer()
        self.store.answer()
        self.assertEqual(self.successResultOf(flushed), True)
        self.assertEqual(self.archive.pending, 0)
        self.assertEqual([m.seq for m in self.store.query(ROOM, _all()).messages], [1, 2, 3])

    def test_a_refused_batch_comes_back_in_its_place_and_is_retried_on_the_clock(self):
        self.queue(1, 2)
        first = self.archive.flush()
        self.queue(3)
        self.archive.flush()
        self.queue(4)
        self.store.answer(fail=True)
        self.assertIs(self.successResultOf(first), False)
        self.assertEqual(len(self.flushLoggedErrors(DatabaseUnavailable)), 1)
        self.assertEqual([m.seq for m in self.archive._pending], [1, 2, 4])
        self.assertEqual(self.archive.failures, 1)
        self.store.answer()  # 3 was written meanwhile
        self.clock.advance(1.0)
        self.store.answer()
        self.assertEqual([m.seq for m in self.store.query(ROOM, _all()).messages], [1, 2, 3, 4])
        self.assertEqual(self.archive.pending, 0)

    def test_a_message_on_its_way_is_found_and_retracted_in_the_queue(self):
        self.queue(7)
        self.archive.flush()
        self.assertEqual(self.successResultOf(self.archive.get(ROOM, 7)).seq, 7)
        self.assertIs(self.successResultOf(self.archive.retract(ROOM, 7, "<gone/>")), True)
        self.store.answer()
        stored = MemoryArchive.get(self.store, ROOM, 7)
        self.assertEqual((stored.payload, stored.retracted), ("<gone/>", True))

    def test_a_refused_batch_does_not_bring_back_a_room_forgotten_meanwhile(self):
        self.queue(1)
        self.archive._pending.append(message(2, "other@muc.example"))
        self.archive.flush()
        self.archive.forget(ROOM)
        self.store.answer(fail=True)
        self.flushLoggedErrors(DatabaseUnavailable)
        self.assertEqual([(m.room_jid, m.seq) for m in self.archive._pending],
                         [("other@muc.example", 2)])

    def test_housekeeping_goes_on_while_batches_come_back_full(self):
        archive = LaterArchive()
        archive.started = True
        MemoryArchive.append(archive, [message(seq + 1) for seq in range(HOUSEKEEPING_BATCH + 5)])
        keeper = RoomArchive(archive, self.clock, expires_after=10.0)
        self.clock.advance(100.0)
        self.assertEqual(self.successResultOf(keeper.housekeeping(100.0)), HOUSEKEEPING_BATCH)
        self.assertEqual(len(MemoryArchive.query(archive, ROOM, _all()).messages), 5)
        self.clock.advance(0.05)  # the next batch, soon after
        self.assertEqual(MemoryArchive.query(archive, ROOM, _all()).messages, [])

    def test_a_clean_stop_waits_for_the_last_batch(self):
        self.queue(1)
        stopped = self.archive.stop()
        self.assertNoResult(stopped)
        self.store.answer()
        self.assertIs(self.successResultOf(stopped), True)


def _all():
    from mucsvc.storage.archive import ArchiveQuery
    return ArchiveQuery(max=100)


# ---- an unreachable database -------------------------------------------------------------


class UnreachableTests(unittest.TestCase):
    def test_the_refusal_is_resource_constraint_and_503(self):
        refusal = StoreUnavailable("The database is unreachable; try again later")
        self.assertIsInstance(refusal, StoreFailed)
        self.assertEqual(stanza_error(refusal)[:2], ("resource-constraint", "wait"))
        self.assertEqual(http_status(refusal), 503)

    def test_a_change_the_database_cannot_take_is_refused_and_rolled_back(self):
        store = LaterStore()
        s = test_use_cases.Service(store=store)
        store.started = True
        s.join(ROMEO, "romeo")
        before = s.room_state()
        store.failing = DatabaseUnavailable()
        [error] = s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        self.assertEqual(condition(error)[0], "resource-constraint")
        self.assertEqual(s.room_state(), before)
        self.assertEqual(store.load_rooms(), [])
        self.flushLoggedErrors(DatabaseUnavailable)
        store.failing = None
        out = s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        self.assertEqual(out[0]["type"], "result")
        self.assertEqual([r.jid for r in store.load_rooms()], [ROOM])

    def test_an_archive_query_is_refused_while_the_database_is_away(self):
        h = LaterHarness()
        h.create()
        h.archive.failing = DatabaseUnavailable()
        _, iq = h.mam(ROMEO)
        self.assertEqual((iq["type"], condition(iq)[0]), ("error", "resource-constraint"))
        self.flushLoggedErrors(DatabaseUnavailable)


class FakeLink:
    is_up = True
    reconnects = 0

    def as_dict(self):
        return {"state": "up", "since": "2026-01-01T00:00:00Z", "reconnects": 0}


class FakeDatabase:
    def __init__(self, up):
        self.is_up = up
        self.since = 1_700_000_000.0
        self.reconnects = 2

    def as_dict(self):
        return {"state": "up" if self.is_up else "down", "since": "2023-11-14T22:13:20Z",
                "reconnects": self.reconnects}


class HealthTests(unittest.TestCase):
    def get(self, database, path):
        treq = StubTreq(WebApp(FakeLink(), database=database).resource())
        response = self.successResultOf(treq.get("http://x" + path))
        return response.code, self.successResultOf(response.text())

    def test_health_shows_the_database_and_is_503_while_it_is_down(self):
        code, text = self.get(FakeDatabase(up=True), "/health")
        self.assertEqual((code, json.loads(text)["database"]["state"]), (200, "up"))
        code, text = self.get(FakeDatabase(up=False), "/health")
        self.assertEqual((code, json.loads(text)["database"]),
                         (503, {"state": "down", "since": "2023-11-14T22:13:20Z",
                                "reconnects": 2}))

    def test_without_a_database_health_says_nothing_of_one(self):
        code, text = self.get(None, "/health")
        self.assertEqual(code, 200)
        self.assertNotIn("database", json.loads(text))

    def test_metrics_show_the_database(self):
        _, text = self.get(FakeDatabase(up=False), "/metrics")
        self.assertIn("mucsvc_database_up 0.0", text)
        self.assertIn("mucsvc_database_reconnects_total 2.0", text)
        self.assertIn("mucsvc_database_state_since_seconds 1.7e+09", text)
