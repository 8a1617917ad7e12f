"""Tombstones of destroyed persistent rooms, through the whole service with
a `task.Clock`: the name answers ``gone`` while the tombstone stands, with
the venue and reason; expiry (lazy and periodic) and a service admin's
join free it; it is stored with the room's deletion, all or nothing, and
survives a restart."""

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

import mucsvc  # noqa: F401
from mucsvc.muc import EXPIRY_INTERVAL, MUCService
from mucsvc.rooms import RoomConfig, ServiceLimits, Tombstone
from mucsvc.storage import MemoryRoomStore, SQLiteRoomStore
from tests.helpers import SERVICE, Wire, stanzas_in
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, STANZAS, codes, condition, config_submit
from tests.test_use_cases import FailingStore

ADMIN = "admin@example.org/desk"
NEW_ROOM = f"orchard@{SERVICE}"
TTL = 3600.0
START = 1_700_000_000.0


class Service:
    def __init__(self, store=None, ttl=TTL, clock=None, admins=("admin@example.org",),
                 limits=None):
        self.clock = clock or Clock()
        if clock is None:
            self.clock.advance(START)
        self.sent = []
        self.store = store if store is not None else FailingStore()
        self.limits = limits if limits is not None else ServiceLimits(tombstone_ttl=ttl)
        self.admins = admins
        self.muc = MUCService(SERVICE, self.sent.append, self.clock, store=self.store,
                              limits=self.limits, admins=admins)
        self.wire = Wire(rooms=self.muc.handler)

    def restarted(self):
        return Service(self.store, clock=self.clock, admins=self.admins, limits=self.limits)

    def receive(self, xml):
        self.wire.receive(xml)
        return self.take()

    def take(self):
        out = stanzas_in(self.sent + self.wire.take())
        del self.sent[:]
        return out

    def join(self, who, nick, room=ROOM):
        return self.receive(f"<presence xmlns='jabber:client' from='{who}' to='{room}/{nick}'>"
                            "<x xmlns='http://jabber.org/protocol/muc'/></presence>")

    def create(self, persistent=True):
        self.join(ROMEO, "romeo")
        self.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom",
                                            "1" if persistent else "0")]))

    def destroy(self, reason="Moved on", venue=NEW_ROOM, who=ROMEO):
        inner = f"<reason>{reason}</reason>" if reason else ""
        jid = f" jid='{venue}'" if venue else ""
        return self.receive(
            f"<iq xmlns='jabber:client' type='set' id='d' from='{who}' to='{ROOM}'>"
            f"<query xmlns='http://jabber.org/protocol/muc#owner'><destroy{jid}>{inner}</destroy>"
            "</query></iq>")

    def tombstones(self):
        return list(self.muc.rooms.tombstones)


def gone(stanza):
    """``(gone text, error text, by)`` of a ``gone`` error."""
    name, error = condition(stanza)
    assert (name, error["type"], stanza["type"]) == ("gone", "cancel", "error"), stanza.toXml()
    [element] = [c for c in error.elements(STANZAS, "gone")]
    texts = [str(c) for c in error.elements(STANZAS, "text")]
    return str(element) or None, texts[0] if texts else None, error.getAttribute("by")


class WhileItStandsTests(unittest.TestCase):
    def setUp(self):
        self.s = Service()
        self.s.create()
        self.s.destroy()

    def test_a_join_gets_gone_with_the_venue_and_the_reason_from_the_service(self):
        [error] = self.s.join(JULIET, "juliet")
        self.assertEqual((error.name, error["to"], error["from"]), ("presence", JULIET,
                                                                   ROOM + "/juliet"))
        self.assertEqual(gone(error), (f"xmpp:{NEW_ROOM}?join", "Moved on", SERVICE))
        self.assertNotIn(ROOM, self.s.muc.rooms)

    def test_the_former_owner_is_refused_too(self):
        [error] = self.s.join(ROMEO, "romeo")
        self.assertEqual(gone(error)[0], f"xmpp:{NEW_ROOM}?join")

    def test_every_kind_of_stanza_gets_gone(self):
        stanzas = [
            f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{ROOM}'>"
            "<body>hi</body></message>",
            f"<message xmlns='jabber:client' type='chat' from='{JULIET}' to='{ROOM}/romeo'>"
            "<body>hi</body></message>",
            f"<iq xmlns='jabber:client' type='get' id='i' from='{JULIET}' to='{ROOM}'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            f"<iq xmlns='jabber:client' type='get' id='v' from='{JULIET}' to='{ROOM}/romeo'>"
            "<vCard xmlns='vcard-temp'/></iq>",
            f"<presence xmlns='jabber:client' type='unavailable' from='{JULIET}' to='{ROOM}/j'/>",
        ]
        for xml in stanzas:
            [error] = self.s.receive(xml)
            self.assertEqual(gone(error)[:2], (f"xmpp:{NEW_ROOM}?join", "Moved on"), xml)

    def test_error_stanzas_are_dropped(self):
        for name in ("message", "presence", "iq"):
            self.assertEqual(self.s.receive(
                f"<{name} xmlns='jabber:client' type='error' id='e' from='{JULIET}' to='{ROOM}/x'>"
                f"<error type='cancel'><gone xmlns='{STANZAS}'/></error></{name}>"), [], name)

    def test_no_venue_and_no_reason_leave_an_empty_gone(self):
        s = Service()
        s.create()
        s.destroy(reason=None, venue=None)
        [error] = s.join(JULIET, "juliet")
        self.assertEqual(gone(error), (None, None, SERVICE))

    def test_a_tombstone_is_not_a_room(self):
        self.assertEqual(self.s.muc.public_rooms(), [])
        self.assertEqual(len(self.s.muc.rooms), 0)
        self.assertFalse(self.s.muc.app.destroy_by_service(ROOM))

    def test_it_is_stored_with_the_deletion_of_the_room(self):
        expected = [Tombstone(ROOM, START + TTL, "Moved on", NEW_ROOM)]
        self.assertEqual(self.s.tombstones(), expected)
        self.assertEqual((self.s.store.load_rooms(), self.s.store.load_tombstones()),
                         ([], expected))

    def test_the_service_command_leaves_one_too(self):
        s = Service()
        s.create()
        self.assertTrue(s.muc.app.destroy_by_service(ROOM, reason="Spam"))
        s.take()
        self.assertEqual(s.tombstones(), [Tombstone(ROOM, START + TTL, "Spam", None)])
        [error] = s.join(JULIET, "juliet")
        self.assertEqual(gone(error), (None, "Spam", SERVICE))


class FreedTests(unittest.TestCase):
    def setUp(self):
        self.s = Service()
        self.s.create()
        self.s.destroy()

    def test_it_stands_through_its_last_second_and_then_the_name_is_free(self):
        self.s.clock.advance(TTL)
        gone(self.s.join(JULIET, "juliet")[0])
        self.s.clock.advance(1)
        # Met by a stanza once expired: deleted, and the join creates a new room.
        self.assertEqual(codes(self.s.join(JULIET, "juliet")[0]), ["201", "110"])
        self.assertEqual((self.s.tombstones(), self.s.store.load_tombstones()), ([], []))

    def test_an_expired_tombstone_met_by_a_message_is_deleted_and_the_room_does_not_exist(self):
        self.s.clock.advance(TTL + 1)
        [error] = self.s.receive(f"<message xmlns='jabber:client' type='groupchat' "
                                 f"from='{JULIET}' to='{ROOM}'><body>hi</body></message>")
        self.assertEqual(condition(error)[0], "item-not-found")
        self.assertEqual((self.s.tombstones(), self.s.store.load_tombstones()), ([], []))

    def test_housekeeping_deletes_expired_tombstones(self):
        self.s.muc.startService()
        self.addCleanup(self.s.muc.stopService)
        self.s.clock.advance(TTL - EXPIRY_INTERVAL)
        self.assertEqual(len(self.s.tombstones()), 1)
        self.s.clock.advance(2 * EXPIRY_INTERVAL)
        self.assertEqual((self.s.tombstones(), self.s.store.load_tombstones()), ([], []))
        self.assertEqual(self.s.take(), [])

    def test_a_sweep_the_store_fails_keeps_them_for_the_next(self):
        self.s.clock.advance(TTL + 1)
        self.s.store.armed = True
        self.assertEqual(self.s.muc.app.expire_tombstones(), [])
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(len(self.s.tombstones()), 1)
        self.assertEqual(len(self.s.store.load_tombstones()), 1)
        self.assertEqual(len(self.s.muc.app.expire_tombstones()), 1)
        self.assertEqual((self.s.tombstones(), self.s.store.load_tombstones()), ([], []))

    def test_a_service_admin_recreates_the_room_at_once(self):
        [presence, _subject] = self.s.join(ADMIN, "boss")
        self.assertEqual(codes(presence), ["201", "110"])
        self.assertEqual((self.s.tombstones(), self.s.store.load_tombstones()), ([], []))
        # A new room, locked for its creator as any other.
        self.assertTrue(self.s.muc.rooms.room(ROOM).locked)
        self.assertEqual(condition(self.s.join(JULIET, "juliet")[0])[0], "item-not-found")

    def test_a_service_admins_message_still_gets_gone(self):
        [error] = self.s.receive(f"<message xmlns='jabber:client' type='groupchat' "
                                 f"from='{ADMIN}' to='{ROOM}'><body>hi</body></message>")
        gone(error)
        self.assertEqual(len(self.s.tombstones()), 1)

    def test_a_recreation_the_store_fails_keeps_the_tombstone(self):
        s = Service(limits=ServiceLimits(tombstone_ttl=TTL, lock_new_rooms=False,
                                         default_config=RoomConfig(persistent=True)))
        s.join(ROMEO, "romeo")
        s.destroy()
        s.store.armed = True
        # The new room (stored at once: persistent, not locked) and the
        # tombstone's deletion fail together.
        [error] = s.join(ADMIN, "boss")
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertNotIn(ROOM, s.muc.rooms)
        self.assertEqual((len(s.tombstones()), len(s.store.load_tombstones())), (1, 1))
        self.assertEqual(s.store.load_rooms(), [])
        self.assertEqual(codes(s.join(ADMIN, "boss")[0]), ["201", "110"])
        self.assertEqual((s.tombstones(), s.store.load_tombstones()), ([], []))
        self.assertEqual([r.jid for r in s.store.load_rooms()], [ROOM])


class WhoLeavesNoneTests(unittest.TestCase):
    def test_a_temporary_room_destroyed_leaves_none(self):
        s = Service()
        s.create(persistent=False)
        s.destroy()
        self.assertEqual((s.tombstones(), s.store.load_tombstones()), ([], []))
        self.assertEqual(codes(s.join(JULIET, "juliet")[0]), ["201", "110"])

    def test_a_temporary_room_emptied_leaves_none(self):
        s = Service()
        s.create(persistent=False)
        s.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{ROMEO}' "
                  f"to='{ROOM}/romeo'/>")
        self.assertNotIn(ROOM, s.muc.rooms)
        self.assertEqual(s.tombstones(), [])

    def test_a_room_made_temporary_leaves_none(self):
        s = Service()
        s.create()
        s.create(persistent=False)
        s.destroy()
        self.assertEqual(s.tombstones(), [])

    def test_a_room_still_locked_since_its_creation_leaves_none(self):
        s = Service(limits=ServiceLimits(tombstone_ttl=TTL,
                                         default_config=RoomConfig(persistent=True)))
        s.join(ROMEO, "romeo")
        self.assertTrue(s.muc.rooms.room(ROOM).locked)
        s.destroy()
        self.assertNotIn(ROOM, s.muc.rooms)
        self.assertEqual(s.tombstones(), [])

    def test_tombstones_off_leave_none(self):
        s = Service(ttl=None)
        s.create()
        s.destroy()
        self.assertEqual((s.tombstones(), s.store.load_tombstones()), ([], []))
        self.assertEqual(codes(s.join(JULIET, "juliet")[0]), ["201", "110"])


class AllOrNothingTests(unittest.TestCase):
    def test_a_destruction_the_store_fails_leaves_the_room_and_no_tombstone(self):
        s = Service()
        s.create()
        s.store.armed = True
        [error] = s.destroy()
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertIn(ROOM, s.muc.rooms)
        self.assertEqual((s.tombstones(), s.store.load_tombstones()), ([], []))
        self.assertEqual([r.jid for r in s.store.load_rooms()], [ROOM])
        # The room is as it was: its owner is still in it.
        self.assertIsNotNone(s.muc.rooms.room(ROOM).occupant_by_jid(ROMEO))

    def test_the_deletion_and_the_tombstone_are_one_write(self):
        s = Service()
        s.create()
        applied = s.store.applied
        s.destroy()
        self.assertEqual(s.store.applied, applied + 1)

    def test_a_deferred_store_holds_the_answer_and_a_late_failure_restores_everything(self):
        store = DeferredStore()
        s = Service(store=store)
        s.join(ROMEO, "romeo")
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer()
        s.take()
        self.assertEqual(s.destroy(), [])
        store.answer(fail=True)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        [error] = s.take()
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertIn(ROOM, s.muc.rooms)
        self.assertEqual((s.tombstones(), store.load_tombstones()), ([], []))

    def test_a_lazy_deletion_through_a_deferred_store_then_handles_the_stanza(self):
        store = DeferredStore()
        s = Service(store=store)
        s.join(ROMEO, "romeo")
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer()
        s.destroy()
        store.answer()
        s.take()
        s.clock.advance(TTL + 1)
        self.assertEqual(s.join(JULIET, "juliet"), [])
        store.answer()
        self.assertEqual(codes(s.take()[0]), ["201", "110"])
        self.assertEqual((s.tombstones(), store.load_tombstones()), ([], []))


class DeferredStore(MemoryRoomStore):
    """A store that answers later, as a network database does."""

    def __init__(self):
        super().__init__()
        self.pending = []

    def apply(self, writes):
        d = defer.Deferred()
        self.pending.append((d, writes))
        return d

    def answer(self, fail=False):
        d, writes = self.pending.pop(0)
        if fail:
            d.errback(OSError("connection lost"))
        else:
            d.callback(MemoryRoomStore.apply(self, writes))


class RestartTests(unittest.TestCase):
    def test_a_tombstone_survives_a_restart_in_sqlite(self):
        path = self.mktemp()
        store = SQLiteRoomStore(path)
        s = Service(store=store)
        s.create()
        s.destroy()
        store.close()
        store = SQLiteRoomStore(path)
        self.addCleanup(store.close)
        again = Service(store=store, clock=s.clock)
        self.assertEqual(again.tombstones(), [Tombstone(ROOM, START + TTL, "Moved on", NEW_ROOM)])
        [error] = again.join(JULIET, "juliet")
        self.assertEqual(gone(error)[:2], (f"xmpp:{NEW_ROOM}?join", "Moved on"))

    def test_an_expired_tombstone_restored_is_swept(self):
        s = Service()
        s.create()
        s.destroy()
        s.clock.advance(TTL + 1)
        again = s.restarted()
        again.muc.startService()
        self.addCleanup(again.muc.stopService)
        again.clock.advance(EXPIRY_INTERVAL)
        self.assertEqual((again.tombstones(), again.store.load_tombstones()), ([], []))
