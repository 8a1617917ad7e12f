"""Retracting messages through the XMPP edge: moderators (XEP-0425, v0.2
and v0.3) and authors (XEP-0424, v0 and v1); the tombstone in the
archive, the join history and the stored history; all or nothing."""

import sqlite3

from twisted.trial import unittest

from mucsvc.storage import SQLiteRoomStore
from mucsvc.storage.archive import ArchiveQuery
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.sqlite_archive import SQLiteArchive
from tests.test_room_archive import NURSE, Harness, result_of, stanza_ids
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, admin_set, condition, config_submit, first, to
from tests.test_use_cases import FailingStore

FASTEN = "urn:xmpp:fasten:0"
MODERATE_0 = "urn:xmpp:message-moderate:0"
MODERATE_1 = "urn:xmpp:message-moderate:1"
RETRACT_0 = "urn:xmpp:message-retract:0"
RETRACT_1 = "urn:xmpp:message-retract:1"
OCCUPANT_ID = "urn:xmpp:occupant-id:0"
JULIET_BARE = JULIET.split("/")[0]


def moderate_v1(who, sid, reason="Spam", id="mod1", room=ROOM):
    reason = f"<reason>{reason}</reason>" if reason is not None else ""
    return (f"<iq xmlns='jabber:client' type='set' id='{id}' from='{who}' to='{room}'>"
            f"<moderate xmlns='{MODERATE_1}' id='{sid}'><retract xmlns='{RETRACT_1}'/>{reason}"
            "</moderate></iq>")


def moderate_v0(who, sid, reason="Spam", id="mod0", room=ROOM):
    reason = f"<reason>{reason}</reason>" if reason is not None else ""
    return (f"<iq xmlns='jabber:client' type='set' id='{id}' from='{who}' to='{room}'>"
            f"<apply-to xmlns='{FASTEN}' id='{sid}'><moderate xmlns='{MODERATE_0}'>"
            f"<retract xmlns='{RETRACT_0}'/>{reason}</moderate></apply-to></iq>")


def el(parent, uri, name):
    return next(parent.elements(uri, name), None)


def sid_of(message):
    return [i for by, i in stanza_ids(message) if by == ROOM][0]


def messages(stanzas):
    return [s for s in stanzas if s.name == "message"]


def forwarded(message):
    return first(first(result_of(message), "forwarded"), "message")


def child_names(stanza):
    return [(e.uri, e.name) for e in stanza.elements()]


class Room:
    """A room (``archive`` and ``store`` as given) with romeo (owner,
    moderator) and juliet (participant), and one message of juliet's."""

    def __init__(self, test, **harness):
        self.h = Harness(**harness)
        self.h.create()
        self.h.join(JULIET, "juliet")
        out = self.h.say(JULIET, "buy cheap potions", id="spam-1")
        self.sid = sid_of(to(out, ROMEO)[0])


class ModerationTests(unittest.TestCase):
    def setUp(self):
        self.room = Room(self)
        self.h, self.sid = self.room.h, self.room.sid

    def check_announcement(self, message, by=f"{ROOM}/romeo", reason="Spam", actor=True):
        self.assertEqual((message["from"], message["type"]), (ROOM, "groupchat"))
        self.assertIsNotNone(message.getAttribute("id"))
        self.assertIsNone(el(message, "jabber:client", "body"))
        apply_to = el(message, FASTEN, "apply-to")
        self.assertEqual(apply_to["id"], self.sid)
        legacy = el(apply_to, MODERATE_0, "moderated")
        self.assertEqual(legacy.getAttribute("by"), by)
        self.assertIsNotNone(el(legacy, RETRACT_0, "retract"))
        current = el(message, RETRACT_1, "retract")
        self.assertEqual(current["id"], self.sid)
        moderated = el(current, MODERATE_1, "moderated")
        self.assertEqual(moderated.getAttribute("by"), by)
        romeo_id = self.h.muc.rooms.room(ROOM).occupant_id_for("romeo@example.org")
        for moderated_ in (legacy, moderated):
            ids = [o["id"] for o in moderated_.elements(OCCUPANT_ID, "occupant-id")]
            self.assertEqual(ids, [romeo_id] if actor else [])
        if reason is None:
            self.assertIsNone(el(current, RETRACT_1, "reason"))
        else:
            self.assertEqual(str(el(current, RETRACT_1, "reason")), reason)
            self.assertEqual(str(el(legacy, MODERATE_0, "reason")), reason)
        # no occupant id at the message's top: the room sent it, not an occupant
        self.assertIsNone(el(message, OCCUPANT_ID, "occupant-id"))
        self.assertEqual(len(stanza_ids(message)), 1)

    def test_v03_a_moderator_retracts_and_everyone_is_told_before_the_answer(self):
        out = self.h.receive(moderate_v1(ROMEO, self.sid))
        self.assertEqual([(s.name, s["to"]) for s in out],
                         [("message", ROMEO), ("message", JULIET), ("iq", ROMEO)])
        self.assertEqual((out[-1]["type"], out[-1]["id"]), ("result", "mod1"))
        for message in out[:2]:
            self.check_announcement(message)
        self.assertEqual(sid_of(out[0]), sid_of(out[1]))
        self.assertNotEqual(sid_of(out[0]), self.sid)

    def test_v02_the_same_use_case_and_the_same_announcement(self):
        out = self.h.receive(moderate_v0(ROMEO, self.sid, reason=None))
        self.assertEqual((out[-1].name, out[-1]["type"], out[-1]["id"]), ("iq", "result", "mod0"))
        self.check_announcement(to(out, JULIET)[0], reason=None)

    def test_a_participant_may_not_moderate(self):
        mine = sid_of(to(self.h.say(ROMEO, "hello", id="r1"), ROMEO)[0])
        for request in (moderate_v1(JULIET, mine), moderate_v0(JULIET, mine)):
            [error] = self.h.receive(request)
            self.assertEqual((error.name, error["type"], error["to"]), ("iq", "error", JULIET))
            self.assertEqual((condition(error)[0], condition(error)[1]["type"]), ("forbidden", "auth"))
        self.assertEqual([str(forwarded(m).body) for m in self.h.mam(ROMEO)[0]],
                         ["buy cheap potions", "hello"])

    def test_an_outsider_may_not_moderate_and_an_absent_owner_may(self):
        [error] = self.h.receive(moderate_v1(NURSE, self.sid))
        self.assertEqual(condition(error)[0], "forbidden")
        self.h.receive(admin_set(ROMEO, "<item affiliation='admin' jid='nurse@example.org'/>"))
        out = self.h.receive(moderate_v1(NURSE, self.sid))
        self.assertEqual(out[-1]["type"], "result")
        # not in the room and no reserved nick: no 'by' (as mod_muc_moderation)
        announcement = to(out, JULIET)[0]
        self.assertIsNone(el(el(announcement, RETRACT_1, "retract"), MODERATE_1, "moderated")
                          .getAttribute("by"))

    def test_unknown_ids(self):
        for sid in ("123", "not-a-number", str(int(self.sid) + 1)):
            [error] = self.h.receive(moderate_v1(ROMEO, sid))
            self.assertEqual((condition(error)[0], condition(error)[1]["type"]),
                             ("item-not-found", "modify"), sid)
        [error] = self.h.receive(moderate_v1(ROMEO, ""))
        self.assertEqual(condition(error)[0], "bad-request")
        [error] = self.h.receive(moderate_v1(ROMEO, self.sid, room=f"elsewhere@{ROOM.split('@')[1]}"))
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_moderation_without_retraction_is_not_implemented(self):
        [error] = self.h.receive(
            f"<iq xmlns='jabber:client' type='set' id='x' from='{ROMEO}' to='{ROOM}'>"
            f"<moderate xmlns='{MODERATE_1}' id='{self.sid}'/></iq>")
        self.assertEqual(condition(error)[0], "feature-not-implemented")
        [error] = self.h.receive(
            f"<iq xmlns='jabber:client' type='set' id='x' from='{ROMEO}' to='{ROOM}'>"
            f"<apply-to xmlns='{FASTEN}' id='{self.sid}'><other xmlns='urn:x'/></apply-to></iq>")
        self.assertEqual(condition(error)[0], "service-unavailable")

    def test_moderating_again_answers_success_and_tells_nobody(self):
        self.h.receive(moderate_v1(ROMEO, self.sid, reason="first"))
        out = self.h.receive(moderate_v0(ROMEO, self.sid, reason="second"))
        self.assertEqual([(s.name, s["type"]) for s in out], [("iq", "result")])
        tombstone = forwarded(self.h.mam(ROMEO)[0][0])
        self.assertEqual(str(el(el(tombstone, RETRACT_1, "retracted"), RETRACT_1, "reason")), "first")

    def test_the_archive_holds_the_tombstone_and_the_announcement(self):
        out = self.h.receive(moderate_v1(ROMEO, self.sid))
        announcement = to(out, JULIET)[0]
        results = self.h.mam(JULIET)[0]
        self.assertEqual([result_of(m)["id"] for m in results], [self.sid, sid_of(announcement)])
        tombstone = forwarded(results[0])
        self.assertEqual((tombstone["from"], tombstone["id"], tombstone["type"]),
                         (f"{ROOM}/juliet", "spam-1", "groupchat"))
        juliet_id = self.h.muc.rooms.room(ROOM).occupant_id_for(JULIET_BARE)
        romeo_id = self.h.muc.rooms.room(ROOM).occupant_id_for("romeo@example.org")
        self.assertEqual(child_names(tombstone), [(OCCUPANT_ID, "occupant-id"), (MODERATE_0, "moderated"),
                                                  (RETRACT_1, "retracted")])
        self.assertEqual(el(tombstone, OCCUPANT_ID, "occupant-id")["id"], juliet_id)
        legacy = el(tombstone, MODERATE_0, "moderated")
        self.assertEqual(legacy["by"], f"{ROOM}/romeo")
        self.assertEqual(el(legacy, OCCUPANT_ID, "occupant-id")["id"], romeo_id)
        self.assertIsNotNone(el(legacy, RETRACT_0, "retracted")["stamp"])
        self.assertEqual(str(el(legacy, MODERATE_0, "reason")), "Spam")
        current = el(tombstone, RETRACT_1, "retracted")
        self.assertEqual(current["id"], announcement["id"])
        self.assertEqual(current["stamp"], el(legacy, RETRACT_0, "retracted")["stamp"])
        self.assertEqual(el(current, MODERATE_1, "moderated")["by"], f"{ROOM}/romeo")
        self.assertEqual(str(el(current, RETRACT_1, "reason")), "Spam")
        archived_announcement = forwarded(results[1])
        self.assertEqual((archived_announcement["from"], el(archived_announcement, RETRACT_1, "retract")["id"]),
                         (ROOM, self.sid))

    def test_a_new_joiner_gets_the_tombstone_in_the_history(self):
        self.h.receive(moderate_v1(ROMEO, self.sid))
        history = [m for m in messages(to(self.h.join(NURSE, "nurse"), NURSE))
                   if el(m, "urn:xmpp:delay", "delay") is not None]
        self.assertEqual(len(history), 2)
        tombstone, announcement = history
        self.assertEqual((tombstone["from"], tombstone["id"], sid_of(tombstone)),
                         (f"{ROOM}/juliet", "spam-1", self.sid))
        self.assertIsNone(el(tombstone, "jabber:client", "body"))
        self.assertIsNotNone(el(tombstone, RETRACT_1, "retracted"))
        self.assertEqual(el(announcement, RETRACT_1, "retract")["id"], self.sid)
        self.assertEqual(el(announcement, "urn:xmpp:delay", "delay")["from"], ROOM)

    def test_rooms_advertise_moderation_and_retraction(self):
        [info] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='d' from='{JULIET}' to='{ROOM}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        features = {f["var"] for f in first(info, "query").elements() if f.name == "feature"}
        self.assertTrue({MODERATE_0, MODERATE_1, RETRACT_0, RETRACT_1, RETRACT_1 + "#tombstone"}
                        <= features)

    def test_a_room_that_does_not_archive_tombstones_its_history(self):
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_enablearchiving", "0")]))
        sid = sid_of(to(self.h.say(JULIET, "unarchived spam", id="spam-2"), ROMEO)[0])
        out = self.h.receive(moderate_v1(ROMEO, sid))
        self.assertEqual(out[-1]["type"], "result")
        history = [m for m in messages(to(self.h.join(NURSE, "nurse"), NURSE))
                   if el(m, "urn:xmpp:delay", "delay") is not None]
        self.assertEqual([m.getAttribute("id") for m in history][1], "spam-2")
        self.assertIsNone(el(history[1], "jabber:client", "body"))
        self.assertIsNotNone(el(history[1], MODERATE_0, "moderated"))


class SelfRetractionTests(unittest.TestCase):
    def setUp(self):
        self.room = Room(self)
        self.h, self.sid = self.room.h, self.room.sid

    def retract(self, who, sid, version=1, id="r-1"):
        if version == 1:
            payload = f"<retract xmlns='{RETRACT_1}' id='{sid}'/>"
        else:
            payload = f"<apply-to xmlns='{FASTEN}' id='{sid}'><retract xmlns='{RETRACT_0}'/></apply-to>"
        return self.h.receive(f"<message xmlns='jabber:client' type='groupchat' id='{id}' from='{who}' "
                              f"to='{ROOM}'>{payload}<fallback xmlns='urn:xmpp:fallback:0'/>"
                              "</message>")

    def check_retracted(self, retraction_id):
        results = self.h.mam(JULIET)[0]
        tombstone, retraction = forwarded(results[0]), forwarded(results[1])
        self.assertEqual((tombstone["from"], tombstone["id"]), (f"{ROOM}/juliet", "spam-1"))
        self.assertEqual(child_names(tombstone), [(OCCUPANT_ID, "occupant-id"), (RETRACT_1, "retracted"),
                                                  (RETRACT_0, "retracted")])
        self.assertEqual(el(tombstone, RETRACT_1, "retracted")["id"], retraction_id)
        self.assertEqual(retraction["id"], retraction_id)  # the retraction is archived too
        history = [m for m in messages(to(self.h.join(NURSE, "nurse"), NURSE))
                   if el(m, "urn:xmpp:delay", "delay") is not None]
        self.assertEqual([m["id"] for m in history], ["spam-1", retraction_id])
        self.assertIsNone(el(history[0], "jabber:client", "body"))

    def test_v1_the_author_retracts_and_the_retraction_is_passed_on(self):
        out = self.retract(JULIET, self.sid)
        self.assertEqual(sorted(s["to"] for s in out), sorted([ROMEO, JULIET]))
        reflected = to(out, ROMEO)[0]
        self.assertEqual((reflected["from"], reflected["id"]), (f"{ROOM}/juliet", "r-1"))
        self.assertEqual(el(reflected, RETRACT_1, "retract")["id"], self.sid)
        self.assertNotEqual(sid_of(reflected), self.sid)  # a message of its own
        self.check_retracted("r-1")

    def test_v0_the_same(self):
        out = self.retract(JULIET, self.sid, version=0, id="r-0")
        self.assertEqual(len(out), 2)
        self.check_retracted("r-0")

    def test_someone_elses_message_is_refused_and_not_passed_on(self):
        for version in (1, 0):
            out = self.retract(ROMEO, self.sid, version=version)
            [error] = out
            self.assertEqual((error.name, error["type"], error["to"]), ("message", "error", ROMEO))
            self.assertEqual(condition(error)[0], "forbidden")
        self.assertEqual([str(forwarded(m).body) for m in self.h.mam(ROMEO)[0]], ["buy cheap potions"])

    def test_an_id_that_names_nothing_is_passed_on_and_changes_nothing(self):
        for sid in ("12345", "no-such-id"):
            out = self.retract(JULIET, sid, id=f"r-{sid}")
            self.assertEqual(len(out), 2)
        results = self.h.mam(ROMEO)[0]
        self.assertEqual(str(forwarded(results[0]).body), "buy cheap potions")
        self.assertEqual([forwarded(m)["id"] for m in results], ["spam-1", "r-12345", "r-no-such-id"])

    def test_a_moderated_message_retracted_by_its_author_is_just_passed_on(self):
        self.h.receive(moderate_v1(ROMEO, self.sid))
        out = self.retract(JULIET, self.sid)
        self.assertEqual(len(out), 2)
        self.assertIsNotNone(el(forwarded(self.h.mam(ROMEO)[0][0]), MODERATE_0, "moderated"))


class PersistenceTests(unittest.TestCase):
    def start(self, path):
        return Harness(archive=SQLiteArchive(path), store=SQLiteRoomStore(path))

    def stop(self, h):
        h.muc.archive.stop()
        h.muc.app.store.close()

    def test_the_tombstone_is_stored_and_survives_a_restart(self):
        path = self.mktemp()
        h = self.start(path)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        h.join(JULIET, "juliet")
        sid = sid_of(to(h.say(JULIET, "leaked address", id="l1"), ROMEO)[0])
        h.receive(moderate_v1(ROMEO, sid))
        self.stop(h)
        db = sqlite3.connect(path)
        payloads = [row[0] for row in db.execute("SELECT payload FROM history ORDER BY seq")]
        archived = [row for row in db.execute("SELECT payload, retracted FROM archive ORDER BY seq")]
        db.close()
        self.assertEqual(len(payloads), 2)
        self.assertNotIn("leaked address", payloads[0])
        self.assertIn(MODERATE_0, payloads[0])
        self.assertEqual([r for _, r in archived], [1, 0])
        self.assertNotIn("leaked address", archived[0][0])

        again = self.start(path)
        history = [m for m in messages(to(again.join(NURSE, "nurse"), NURSE))
                   if el(m, "urn:xmpp:delay", "delay") is not None]
        self.assertEqual([m["id"] for m in history][0], "l1")
        self.assertIsNone(el(history[0], "jabber:client", "body"))
        out = again.receive(moderate_v1(ROMEO, sid))  # retracted already, after a restart too
        self.assertEqual([s.name for s in out], ["iq"])
        self.stop(again)

    def test_a_room_without_an_archive_keeps_the_tombstone_in_its_stored_history(self):
        path = self.mktemp()
        store = SQLiteRoomStore(path)
        h = Harness(store=store)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1"),
                                        ("muc#roomconfig_enablearchiving", "0")]))
        h.join(JULIET, "juliet")
        sid = sid_of(to(h.say(JULIET, "oops", id="o1"), ROMEO)[0])
        out = h.receive(f"<message xmlns='jabber:client' type='groupchat' id='r1' from='{JULIET}' "
                        f"to='{ROOM}'><retract xmlns='{RETRACT_1}' id='{sid}'/></message>")
        self.assertEqual(len(out), 2)
        store.close()
        again = Harness(store=SQLiteRoomStore(path))
        history = [m for m in messages(to(again.join(NURSE, "nurse"), NURSE))
                   if el(m, "urn:xmpp:delay", "delay") is not None]
        self.assertEqual([m["id"] for m in history], ["o1", "r1"])
        self.assertIsNone(el(history[0], "jabber:client", "body"))
        self.assertIsNotNone(el(history[0], RETRACT_1, "retracted"))
        again.muc.app.store.close()


class FailureTests(unittest.TestCase):
    """A store that fails the write: the requester gets
    internal-server-error, nobody hears anything, and archive, history and
    store are as before."""

    def setUp(self):
        self.store = FailingStore()
        self.archive = MemoryArchive()
        self.room = Room(self, store=self.store, archive=self.archive)
        self.h, self.sid = self.room.h, self.room.sid
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))

    def state(self):
        room = self.h.muc.rooms.room(ROOM)
        self.h.muc.archive.flush()
        archived = self.archive.query(ROOM, ArchiveQuery(max=100)).messages
        return ([(e.seq, e.payload.text, e.chars, e.retracted) for e in room.history],
                [(m.seq, m.payload, m.retracted) for m in archived],
                [[(e.seq, e.payload) for e in r.history] for r in self.store.load_rooms()])

    def check_refused(self, out, to_jid, kind):
        [error] = out
        self.assertEqual((error.name, error["type"], error["to"]), (kind, "error", to_jid))
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_a_failed_moderation_changes_nothing_and_tells_nobody(self):
        before = self.state()
        self.store.armed = True
        self.check_refused(self.h.receive(moderate_v1(ROMEO, self.sid)), ROMEO, "iq")
        self.assertEqual(self.state(), before)
        out = self.h.receive(moderate_v1(ROMEO, self.sid))  # and then it works
        self.assertEqual(out[-1]["type"], "result")
        self.assertNotEqual(self.state(), before)

    def test_a_failed_self_retraction_changes_nothing_and_tells_nobody(self):
        before = self.state()
        self.store.armed = True
        out = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' id='r1' from='{JULIET}' "
                             f"to='{ROOM}'><retract xmlns='{RETRACT_1}' id='{self.sid}'/></message>")
        self.check_refused(out, JULIET, "message")
        self.assertEqual(self.state(), before)

    def test_an_archive_that_refuses_changes_nothing(self):
        before = self.state()
        self.archive.retract = lambda *args: (_ for _ in ()).throw(OSError("archive gone"))
        self.check_refused(self.h.receive(moderate_v1(ROMEO, self.sid)), ROMEO, "iq")
        self.assertEqual(self.state(), before)
