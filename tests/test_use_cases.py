"""Use cases end to end through the application layer: each is all or
nothing (memory, store and what clients were sent agree, whichever step
fails), and the locked-room and owner-list rules that used to leave them
disagreeing."""

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

import mucsvc  # noqa: F401
from mucsvc.hats.room_commands import CREATE, NS_COMMANDS, RoomHatCommands
from mucsvc.hats.service import HatsService
from mucsvc.muc import MUCService
from mucsvc.rooms import Affiliation, RoomConfig, ServiceLimits
from mucsvc.storage import MemoryRoomStore
from tests.helpers import SERVICE, Wire, stanzas_in
from tests.test_rooms_protocol import (
    JULIET, ROMEO, ROOM, admin_set, codes, condition, config_submit, muc_x, to,
)

CAROL = "carol@example.org/home"
BOB_BARE = "bob@example.org"
CAROL_BARE = "carol@example.org"
ROMEO_BARE = ROMEO.split("/")[0]
JULIET_BARE = JULIET.split("/")[0]


class FailingStore(MemoryRoomStore):
    """A memory store whose next ``apply`` fails when ``armed``."""

    armed = False
    applied = 0

    def apply(self, writes):
        if self.armed:
            self.armed = False
            raise OSError("disk full")
        self.applied += 1
        return super().apply(writes)


class Service:
    def __init__(self, store=None, limits=None, clock=None):
        self.clock = clock or Clock()
        self.clock.advance(1_700_000_000)
        self.sent = []
        self.store = store if store is not None else FailingStore()
        self.muc = MUCService(SERVICE, self.sent.append, self.clock, store=self.store,
                              limits=limits)
        self.hats = HatsService(self.muc)
        RoomHatCommands(self.hats.wardrobe, self.sent.append).install(self.muc.handler)
        self.wire = Wire(rooms=self.muc.handler)

    def restarted(self):
        return Service(self.store, self.muc.rooms.limits)

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

    def leave(self, who, nick, room=ROOM):
        return self.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{who}' "
                            f"to='{room}/{nick}'/>")

    def create(self, *fields):
        self.join(ROMEO, "romeo")
        self.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")] + list(fields)))

    def room_state(self):
        """Everything a client could observe of every room, comparable."""
        state = []
        for room in sorted(self.muc.rooms.rooms(), key=lambda r: r.jid):
            state.append((
                room.jid, room.config, room.locked, room.subject,
                sorted((jid, aff, repr(room.affiliation_data(jid)))
                       for jid, aff in room.affiliations.items()),
                [(e.nick, e.payload.text) for e in room.history],
                [(o.nick, o.role, tuple(o.sessions)) for o in room.occupants], room.avatar))
        return state, list(self.muc.rooms.tombstones)

    def stored(self):
        return [(r.jid, r.config, sorted(r.affiliations.items()), r.subject,
                 [(e.nick, e.payload) for e in r.history], r.avatar)
                for r in self.store.load_rooms()] + self.store.load_tombstones()


def persistent_by_default(**kw):
    return ServiceLimits(default_config=RoomConfig(persistent=True), **kw)


class LockedRoomTests(unittest.TestCase):
    def test_a_locked_room_is_not_stored_and_does_not_come_back(self):
        s = Service(limits=persistent_by_default())
        s.join(ROMEO, "romeo")
        self.assertTrue(s.muc.rooms.room(ROOM).locked)
        self.assertEqual(s.stored(), [])
        self.assertNotIn(ROOM, s.restarted().muc.rooms)

    def test_a_locked_room_its_creator_left_is_destroyed_and_forgotten(self):
        s = Service(limits=persistent_by_default())
        s.muc.startService()
        self.addCleanup(s.muc.stopService)
        s.join(ROMEO, "romeo")
        s.leave(ROMEO, "romeo")
        self.assertIn(ROOM, s.muc.rooms)
        s.clock.advance(s.muc.rooms.limits.locked_room_timeout + 10)
        self.assertNotIn(ROOM, s.muc.rooms)
        self.assertEqual(s.stored(), [])
        self.assertNotIn(ROOM, s.restarted().muc.rooms)
        # Whoever comes next creates a new room, locked for them.
        self.assertEqual(codes(to(s.join(JULIET, "juliet"), JULIET)[0]), ["201", "110"])

    def test_a_locked_room_in_use_is_unlocked_with_the_defaults_and_stored(self):
        s = Service(limits=persistent_by_default())
        s.muc.startService()
        self.addCleanup(s.muc.stopService)
        s.join(ROMEO, "romeo")
        s.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
                  "<body>anyone?</body></message>")
        s.clock.advance(s.muc.rooms.limits.locked_room_timeout + 10)
        self.assertEqual(s.take(), [])
        room = s.muc.rooms.room(ROOM)
        self.assertFalse(room.locked)
        self.assertEqual(room.config, RoomConfig(persistent=True))
        [(jid, config, affiliations, _subject, history, _avatar)] = s.stored()
        self.assertEqual((jid, config, affiliations), (ROOM, room.config,
                                                       [(ROMEO_BARE, (Affiliation.OWNER, {}))]))
        self.assertEqual([nick for nick, _ in history], ["romeo"])
        again = s.restarted().muc.rooms.room(ROOM)
        self.assertFalse(again.locked)
        self.assertEqual(again.affiliation_of(ROMEO), Affiliation.OWNER)
        # Two presences, the history message, the subject.
        self.assertEqual(len(to(s.join(JULIET, "juliet"), JULIET)), 4)

    def test_an_unlock_that_cannot_be_stored_is_tried_again(self):
        s = Service(limits=persistent_by_default())
        s.muc.startService()
        self.addCleanup(s.muc.stopService)
        s.join(ROMEO, "romeo")
        s.store.armed = True
        s.clock.advance(s.muc.rooms.limits.locked_room_timeout + 10)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertTrue(s.muc.rooms.room(ROOM).locked)
        self.assertEqual(s.stored(), [])
        s.clock.advance(10)
        self.assertFalse(s.muc.rooms.room(ROOM).locked)
        self.assertEqual([r[0] for r in s.stored()], [ROOM])


class OwnerListTests(unittest.TestCase):
    def test_the_sole_owner_hands_over_with_one_form(self):
        s = Service()
        s.create()
        s.join(CAROL, "carol")
        out = s.receive(config_submit(ROMEO, [("muc#roomconfig_roomname", "Handed over"),
                                             ("muc#roomconfig_roomowners", BOB_BARE),
                                             ("muc#roomconfig_roomadmins", CAROL_BARE)]))
        [result] = [o for o in out if o.name == "iq"]
        self.assertEqual(result["type"], "result")
        room = s.muc.rooms.room(ROOM)
        expected = {BOB_BARE: Affiliation.OWNER, CAROL_BARE: Affiliation.ADMIN}
        self.assertEqual(dict(room.affiliations), expected)
        [(_, config, stored_affiliations, _, _, _)] = s.stored()
        self.assertEqual(config.name, "Handed over")
        self.assertEqual({jid: aff for jid, (aff, _data) in stored_affiliations}, expected)
        # The room heard of the configuration change (104), then of each
        # affiliation: bob (away) by message, carol and romeo by presence.
        to_carol = to(out, CAROL)
        self.assertEqual(codes(to_carol[0]), ["104"])
        heard = {(o.name, o["from"], i["affiliation"]) for o in to_carol[1:]
                 for i in muc_x(o).elements() if i.name == "item"}
        self.assertEqual(heard, {("message", ROOM, "owner"), ("presence", ROOM + "/carol", "admin"),
                                 ("presence", ROOM + "/romeo", "none")})

    def test_a_form_refused_half_way_changes_nothing(self):
        s = Service()
        s.create()
        before, stored = s.room_state(), s.stored()
        # Dropping the only owner while naming nobody else is refused by
        # the domain after the config part was applied.
        out = s.receive(config_submit(ROMEO, [("muc#roomconfig_roomname", "Changed"),
                                             ("muc#roomconfig_roomadmins", ROMEO_BARE)]))
        self.assertEqual([o.name for o in out], ["iq"])
        self.assertEqual(out[0]["type"], "error")
        self.assertEqual((s.room_state(), s.stored()), (before, stored))


class AdminBatchTests(unittest.TestCase):
    def test_a_batch_with_an_invalid_second_item_changes_nothing(self):
        s = Service()
        s.create()
        s.join(JULIET, "juliet")
        before, stored = s.room_state(), s.stored()
        out = s.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'/>"
                                         "<item affiliation='owner' jid='tybalt@example.org'/>"
                                         "<item affiliation='king' jid='mercutio@example.org'/>"))
        self.assertEqual([(o.name, o["type"]) for o in out], [("iq", "error")])
        self.assertEqual(condition(out[0])[0], "not-acceptable")
        self.assertEqual((s.room_state(), s.stored()), (before, stored))

    def test_a_valid_batch_is_one_write(self):
        s = Service()
        s.create()
        applied = s.store.applied
        s.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'/>"
                                   "<item affiliation='admin' jid='tybalt@example.org'/>"))
        self.assertEqual(s.store.applied, applied + 1)
        [(_, _, affiliations, _, _, _)] = s.stored()
        self.assertEqual(len(affiliations), 3)


def _message(who, body):
    return (f"<message xmlns='jabber:client' type='groupchat' id='x' from='{who}' to='{ROOM}'>"
            f"<body>{body}</body></message>")


def _first_message(s) -> str:
    """The stanza id of the room's first history entry (juliet's "before")."""
    return str(next(iter(s.muc.rooms.room(ROOM).history)).seq)


def _moderate(s):
    return s.receive(f"<iq xmlns='jabber:client' type='set' id='m' from='{ROMEO}' to='{ROOM}'>"
                     f"<moderate xmlns='urn:xmpp:message-moderate:1' id='{_first_message(s)}'>"
                     "<retract xmlns='urn:xmpp:message-retract:1'/></moderate></iq>")


def _retract_own(s):
    return s.receive(f"<message xmlns='jabber:client' type='groupchat' id='r' from='{JULIET}' "
                     f"to='{ROOM}'><retract xmlns='urn:xmpp:message-retract:1' "
                     f"id='{_first_message(s)}'/></message>")


#: Every use case that writes the store: (name, what the service receives
#: or is asked, whether an XMPP error answers the failure).
USE_CASES = [
    ("groupchat", lambda s: s.receive(_message(ROMEO, "hello")), "message"),
    ("subject", lambda s: s.receive(
        f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
        "<subject>New</subject></message>"), "message"),
    ("configure", lambda s: s.receive(config_submit(ROMEO, [
        ("muc#roomconfig_roomname", "New name"), ("muc#roomconfig_membersonly", "1"),
        ("muc#roomconfig_roomadmins", CAROL_BARE)])), "iq"),
    ("make temporary", lambda s: s.receive(config_submit(
        ROMEO, [("muc#roomconfig_persistentroom", "0")])), "iq"),
    ("affiliations", lambda s: s.receive(admin_set(
        ROMEO, f"<item affiliation='outcast' jid='{JULIET_BARE}'/>"
               "<item affiliation='member' jid='tybalt@example.org'/>")), "iq"),
    ("reserve nick", lambda s: s.receive(admin_set(
        ROMEO, "<item affiliation='member' jid='tybalt@example.org' nick='juliet'/>")), "iq"),
    ("register", lambda s: s.receive(
        f"<iq xmlns='jabber:client' type='set' id='reg' from='{JULIET}' to='{ROOM}'>"
        "<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'>"
        "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>"
        "<field var='muc#register_roomnick'><value>juliet</value></field></x></query></iq>"), "iq"),
    ("destroy", lambda s: s.receive(
        f"<iq xmlns='jabber:client' type='set' id='d' from='{ROMEO}' to='{ROOM}'>"
        "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>"), "iq"),
    ("destroy by command", lambda s: s.muc.app.destroy_by_service(ROOM), None),
    ("moderate", _moderate, "iq"),
    ("retract own", _retract_own, "message"),
    ("moderate by the service", lambda s: s.muc.app.moderate(
        s.muc.rooms.room(ROOM), None, int(_first_message(s))), None),
    ("hats", lambda s: s.hats.set_user_hats(
        ROMEO_BARE, ROOM, {"http://example.org/hat": {"active": True}}), None),
    ("define a room's hat", lambda s: s.hats.define_room_hat(
        ROOM, "http://example.org/hat", "Hat", 120), None),
    ("destroy a worn hat", lambda s: s.hats.destroy_room_hat(ROOM, "urn:example:worn"), None),
    ("room hat command", lambda s: s.receive(
        f"<iq xmlns='jabber:client' type='set' id='h' from='{ROMEO}' to='{ROOM}'>"
        f"<command xmlns='{NS_COMMANDS}' node='{CREATE}' action='complete'>"
        "<x xmlns='jabber:x:data' type='submit'>"
        "<field var='hats#uri'><value>http://example.org/hat</value></field>"
        "<field var='hats#title'><value>Hat</value></field></x></command></iq>"), "iq"),
    ("avatar", lambda s: s.receive(
        f"<iq xmlns='jabber:client' type='set' id='av' from='{ROMEO}' to='{ROOM}'>"
        "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL>"
        "</PHOTO></vCard></iq>"), "iq"),
    ("avatar by the service", lambda s: s.muc.app.set_room_avatar(
        s.muc.rooms.room(ROOM), None, "image/gif", b"GIF89a"), None),
]


class FailureInjectionTests(unittest.TestCase):
    """The store fails the one write of each use case: the requester gets
    ``internal-server-error``, nobody else hears anything, and room and
    store are exactly as before.  The same request then succeeds."""

    def setUp(self):
        self.s = Service()
        self.s.create(("muc#roomconfig_roomname", "Garden"))
        self.s.join(JULIET, "juliet")
        self.s.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'/>"))
        self.s.receive(_message(JULIET, "before"))
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, "urn:example:worn", {"active": True})

    def test_every_use_case_fails_whole_and_then_succeeds(self):
        for name, act, answered_by in USE_CASES:
            with self.subTest(name):
                self.setUp()
                s = self.s
                before, stored = s.room_state(), s.stored()
                s.store.armed = True
                s.take()
                try:
                    result = act(s)
                except Exception as e:  # the service-side callers see the error itself
                    result = e
                if isinstance(result, defer.Deferred):
                    self.failureResultOf(result)
                    result = s.take()
                self.assertEqual((s.room_state(), s.stored()), (before, stored), name)
                self.assertEqual(len(self.flushLoggedErrors(OSError)), 1, name)
                if answered_by is None:
                    self.assertEqual(s.take(), [], name)
                else:
                    [error] = result
                    self.assertEqual((error.name, error["type"], error["to"]),
                                     (answered_by, "error",
                                      JULIET if name in ("register", "retract own") else ROMEO))
                    self.assertEqual(condition(error)[0], "internal-server-error")
                outcome = act(s)
                if isinstance(outcome, defer.Deferred):
                    self.successResultOf(outcome)
                self.assertNotEqual((s.room_state(), s.stored()), (before, stored), name)


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


class DeferredStoreTests(unittest.TestCase):
    def test_the_answer_and_the_broadcast_wait_for_the_store(self):
        store = DeferredStore()
        s = Service(store=store)
        s.join(ROMEO, "romeo")
        out = s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        self.assertEqual(out, [])
        store.answer()
        result, *announced = s.take()
        self.assertEqual((result.name, result["type"]), ("iq", "result"))
        self.assertEqual([codes(m) for m in announced], [["104"]])
        self.assertEqual([r.jid for r in store.load_rooms()], [ROOM])

    def test_an_avatar_is_answered_and_announced_once_stored(self):
        store = DeferredStore()
        s = Service(store=store)
        s.join(ROMEO, "romeo")
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer()
        s.take()
        out = s.receive(f"<iq xmlns='jabber:client' type='set' id='av' from='{ROMEO}' "
                        f"to='{ROOM}'><vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE>"
                        "<BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard></iq>")
        self.assertEqual(out, [])
        store.answer()
        result, presence, message = s.take()
        self.assertEqual((result.name, result["type"]), ("iq", "result"))
        self.assertEqual((presence.name, presence["from"]), ("presence", ROOM))
        self.assertEqual(codes(message), ["104"])
        [stored] = store.load_rooms()
        self.assertEqual(stored.avatar.data, b"\x89PNG\r\n\x1a\n")

    def test_a_late_failure_is_refused_and_rolled_back(self):
        store = DeferredStore()
        s = Service(store=store)
        s.join(ROMEO, "romeo")
        before = s.room_state()
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer(fail=True)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        [error] = s.take()
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(s.room_state(), before)
        self.assertEqual(store.load_rooms(), [])
