"""The hats service through ``IHatsService``, with a real ``MUCService``:
what each method changes, refuses, stores and shows in presence."""

import mucsvc  # noqa: F401
from twisted.internet.task import Clock
from twisted.trial import unittest
from twisted.words.protocols.jabber.jid import JID
from zope.interface.verify import verifyObject

from mucsvc.hats import HatsError, IHatsService
from mucsvc.hats.service import HatsService
from mucsvc.muc import MUCService
from mucsvc.storage import MemoryRoomStore
from tests.helpers import SERVICE, Wire, stanzas_in
from tests.test_rooms_protocol import JULIET, NURSE, ROMEO, ROOM, admin_set, codes, config_submit, items, to

HATS = "urn:xmpp:hats:0"
LEGACY_HATS = "xmpp:prosody.im/protocol/hats:1"
TEACHER = "http://example.org/hats/teacher"
PRINCIPAL = "urn:uuid:164c41a2-7461-4cff-bdae-3f93078a6607"
JULIET_BARE = "juliet@example.org"


class Service:
    """A ``MUCService`` (clock, list as send, optional store) with the hats
    service beside it; rooms are driven through ``handler`` like a client."""

    def __init__(self, store=None, legacy=False):
        self.sent = []
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.muc = MUCService(SERVICE, self.sent.append, self.clock, store=store,
                              hats_legacy_element=legacy)
        self.wire = Wire(rooms=self.muc.handler)
        self.hats = HatsService(self.muc)

    def take(self):
        out = stanzas_in(self.sent + self.wire.take())
        del self.sent[:]
        return out

    def receive(self, xml):
        self.wire.receive(xml)
        return self.take()

    def join(self, who, nick, room=ROOM, payload=""):
        return self.receive(f"<presence xmlns='jabber:client' from='{who}' to='{room}/{nick}'>"
                            f"<x xmlns='http://jabber.org/protocol/muc'/>{payload}</presence>")

    def create(self, *fields, room=ROOM):
        """Romeo's room, configured with ``fields``; Juliet a member in it."""
        self.join(ROMEO, "romeo", room)
        self.receive(config_submit(ROMEO, list(fields), room=room))
        self.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'/>", room=room))


def hats_of(stanza, namespace=HATS):
    """``[(uri, title)]`` of the hats element in ``namespace``; None without one."""
    found = [e for e in stanza.elements() if e.name == "hats" and e.uri == namespace]
    if not found:
        return None
    [element] = found
    return [(hat.getAttribute("uri"), hat.getAttribute("title")) for hat in element.elements(namespace, "hat")]


def presences_from(out, nick):
    return [s for s in out if s.name == "presence" and s.getAttribute("from") == f"{ROOM}/{nick}"]


class Fixture(unittest.TestCase):
    """Romeo (owner) and Juliet (member) in a persistent room, with the
    unaffiliated Nurse; the stanzas of setting it up are dropped."""

    def setUp(self):
        self.store = MemoryRoomStore()
        self.s = Service(self.store)
        self.hats = self.s.hats
        self.s.create(("muc#roomconfig_persistentroom", "1"))
        self.s.join(JULIET, "juliet")
        self.s.join(NURSE, "nurse")
        self.s.take()

    def room(self):
        return self.s.muc.rooms.room(ROOM)

    def get(self, user=JULIET_BARE, room=ROOM):
        return self.successResultOf(self.hats.get_user_hats(user, room))

    def refused(self, deferred):
        error = self.failureResultOf(deferred, HatsError).value
        return error.condition, error.text


class InterfaceTests(Fixture):
    def test_provides_the_interface(self):
        self.assertTrue(verifyObject(IHatsService, self.hats))

    def test_rooms_advertise_hats(self):
        [info] = self.s.receive(f"<iq xmlns='jabber:client' type='get' id='i' from='{NURSE}' to='{ROOM}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        features = [f["var"] for f in info.query.elements() if f.name == "feature"]
        self.assertEqual(features.count(HATS), 1)

    def test_a_second_service_does_not_repeat_the_feature(self):
        HatsService(self.s.muc)
        self.assertEqual(self.s.muc.handler.room_features.count(HATS), 1)


class AnotherProcessesRoomTests(Fixture):
    """With several processes, the copy of a room another serves is not
    this process's to change: every front end of the wardrobe refuses it."""

    def test_a_room_served_elsewhere_is_refused_and_left_as_it_was(self):
        hats = HatsService(self.s.muc, elsewhere=lambda jid: jid == ROOM)
        self.assertEqual(self.refused(hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)),
                         ("item-not-found", "the room is served by another process of this service"))
        self.assertEqual(self.refused(hats.set_user_hats(JULIET_BARE, ROOM, {})),
                         ("item-not-found", "the room is served by another process of this service"))
        self.assertEqual(self.get(), {})
        self.assertEqual(self.s.take(), [])
        served_here = HatsService(self.s.muc, elsewhere=lambda jid: False)
        self.assertIsNone(self.successResultOf(served_here.add_user_hat(JULIET_BARE, ROOM, TEACHER)))


class AddTests(Fixture):
    def test_attachment_defaults_to_empty_which_is_inactive(self):
        self.assertIsNone(self.successResultOf(self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)))
        self.assertEqual(self.get(), {TEACHER: {"active": False, "required": False}})

    def test_active_hat_is_shown_to_everyone_at_once_without_status_codes(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        out = self.s.take()
        juliet = presences_from(out, "juliet")
        self.assertEqual(sorted(s["to"] for s in juliet), sorted([ROMEO, NURSE, JULIET]))
        for stanza in juliet:
            self.assertIsNone(stanza.getAttribute("type"))
            self.assertEqual(hats_of(stanza), [(TEACHER, "Teacher")])
            self.assertIsNone(hats_of(stanza, LEGACY_HATS))
            self.assertEqual(items(stanza)[0]["affiliation"], "member")
            self.assertNotIn("actor", stanza.toXml())
        self.assertEqual(codes(to(juliet, JULIET)[0]), ["110"])
        self.assertEqual(codes(to(juliet, NURSE)[0]), [])
        self.assertEqual(codes(to(juliet, ROMEO)[0]), [])
        # The room first, then the occupant itself (Prosody's order).
        self.assertEqual(juliet[-1]["to"], JULIET)
        self.assertEqual(len(out), 3)

    def test_hats_follow_the_payload_and_precede_occupant_id(self):
        self.s.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'>"
                       "<show>away</show></presence>")
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        [to_nurse] = to(presences_from(self.s.take(), "juliet"), NURSE)
        self.assertEqual([e.name for e in to_nurse.elements()], ["show", "hats", "occupant-id", "x"])
        self.assertEqual(hats_of(to_nurse), [(TEACHER, None)])

    def test_title_is_escaped(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "<b>&'\""})
        [to_nurse] = to(presences_from(self.s.take(), "juliet"), NURSE)
        self.assertEqual(hats_of(to_nurse), [(TEACHER, "<b>&'\"")])

    def test_inactive_hat_changes_nothing_visible(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": False, "title": "Teacher"})
        for stanza in presences_from(self.s.take(), "juliet"):
            self.assertIsNone(hats_of(stanza))

    def test_only_active_hats_in_id_order(self):
        self.hats.set_user_hats(JULIET_BARE, ROOM, {
            TEACHER: {"active": True, "title": "Teacher"},
            "http://example.org/hats/hidden": {"title": "Hidden"},
            PRINCIPAL: {"active": True, "required": True},
        })
        [to_romeo] = to(presences_from(self.s.take(), "juliet"), ROMEO)
        self.assertEqual(hats_of(to_romeo), [(TEACHER, "Teacher"), (PRINCIPAL, None)])

    def test_adding_again_replaces_the_attachment(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"required": True})
        self.assertEqual(self.get(), {TEACHER: {"active": False, "required": True}})

    def test_jid_objects_and_full_jids_name_the_same_user(self):
        self.hats.add_user_hat(JID(JULIET), JID(ROOM), TEACHER, {"title": "Teacher"})
        self.assertEqual(self.get(JID("Juliet@Example.org")),
                         {TEACHER: {"active": False, "required": False, "title": "Teacher"}})

    def test_other_data_of_the_affiliation_is_kept(self):
        self.s.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'>"
                                        "<reason>family</reason></item>"))
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        self.assertEqual(self.room().affiliation_data(JULIET_BARE)["reason"], "family")

    def test_returned_hats_are_a_copy(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"title": "Teacher"})
        self.get()[TEACHER]["active"] = True
        self.get().clear()
        self.assertEqual(self.get(), {TEACHER: {"active": False, "required": False, "title": "Teacher"}})

    def test_attachment_given_is_not_kept_by_reference(self):
        attachment = {"active": True}
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, attachment)
        attachment["active"] = False
        self.assertTrue(self.get()[TEACHER]["active"])

    def test_owner_and_admin_may_wear_hats(self):
        self.s.receive(admin_set(ROMEO, "<item affiliation='admin' jid='nurse@example.org'/>"))
        self.successResultOf(self.hats.add_user_hat("nurse@example.org", ROOM, TEACHER))
        self.successResultOf(self.hats.add_user_hat("romeo@example.org", ROOM, TEACHER))

    def test_every_session_of_the_user_is_told(self):
        other = "juliet@example.org/balcony"
        self.s.join(other, "juliet")
        self.s.take()
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        own = [s for s in presences_from(self.s.take(), "juliet") if "110" in codes(s)]
        self.assertEqual(sorted(s["to"] for s in own), sorted([JULIET, other]))

    def test_only_this_room_hears_of_it(self):
        self.s.create(room=f"tomb@{SERVICE}")
        self.s.join(JULIET, "juliet", room=f"tomb@{SERVICE}")
        self.s.take()
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.assertEqual({s["from"] for s in self.s.take()}, {f"{ROOM}/juliet"})


class RemoveAndSetTests(Fixture):
    def setUp(self):
        super().setUp()
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        self.s.take()

    def test_remove_sends_presence_without_the_hat(self):
        self.assertIsNone(self.successResultOf(self.hats.remove_user_hat(JULIET_BARE, ROOM, TEACHER)))
        juliet = presences_from(self.s.take(), "juliet")
        self.assertEqual(sorted(s["to"] for s in juliet), sorted([ROMEO, NURSE, JULIET]))
        for stanza in juliet:
            self.assertIsNone(hats_of(stanza))
        self.assertEqual(self.get(), {})
        self.assertNotIn("hats", self.room().affiliation_data(JULIET_BARE))

    def test_removing_an_absent_hat_succeeds_and_sends_nothing(self):
        self.successResultOf(self.hats.remove_user_hat(JULIET_BARE, ROOM, PRINCIPAL))
        self.assertEqual(self.s.take(), [])
        self.assertEqual(list(self.get()), [TEACHER])

    def test_set_makes_exactly_these_the_hats(self):
        self.assertIsNone(self.successResultOf(self.hats.set_user_hats(
            JULIET_BARE, ROOM, {PRINCIPAL: {"active": True, "title": "Principal"}})))
        self.assertEqual(self.get(), {PRINCIPAL: {"active": True, "required": False, "title": "Principal"}})
        [to_nurse] = to(presences_from(self.s.take(), "juliet"), NURSE)
        self.assertEqual(hats_of(to_nurse), [(PRINCIPAL, "Principal")])

    def test_set_to_nothing_takes_every_hat_off(self):
        self.successResultOf(self.hats.set_user_hats(JULIET_BARE, ROOM, {}))
        self.assertEqual(self.get(), {})
        self.assertEqual(self.room().affiliation_data(JULIET_BARE), {})
        for stanza in presences_from(self.s.take(), "juliet"):
            self.assertIsNone(hats_of(stanza))

    def test_setting_the_same_hats_sends_nothing(self):
        self.successResultOf(self.hats.set_user_hats(
            JULIET_BARE, ROOM, {TEACHER: {"title": "Teacher", "active": True, "required": False}}))
        self.assertEqual(self.s.take(), [])

    def test_hats_are_in_every_later_presence(self):
        out = self.s.join("paris@example.org/court", "paris")
        [listed] = to(presences_from(out, "juliet"), "paris@example.org/court")
        self.assertEqual(hats_of(listed), [(TEACHER, "Teacher")])
        out = self.s.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'>"
                             "<status>here</status></presence>")
        for stanza in presences_from(out, "juliet"):
            self.assertEqual(hats_of(stanza), [(TEACHER, "Teacher")])
        out = self.s.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{JULIET}' "
                             f"to='{ROOM}/juliet'/>")
        for stanza in presences_from(out, "juliet"):
            self.assertEqual(hats_of(stanza), [(TEACHER, "Teacher")])

    def test_hats_go_with_the_affiliation(self):
        self.s.receive(admin_set(ROMEO, f"<item affiliation='none' jid='{JULIET_BARE}'/>"))
        self.assertEqual(self.refused(self.hats.get_user_hats(JULIET_BARE, ROOM)),
                         ("item-not-found", "user not affiliated with room"))
        self.s.receive(admin_set(ROMEO, f"<item affiliation='member' jid='{JULIET_BARE}'/>"))
        self.assertEqual(self.get(), {})


class SpoofingTests(Fixture):
    SPOOF = (f"<hats xmlns='{HATS}'><hat uri='http://example.org/hats/queen' title='Queen'/></hats>"
             f"<hats xmlns='{LEGACY_HATS}'><hat uri='http://example.org/hats/queen' title='Queen'/></hats>")

    def test_hats_in_a_clients_presence_are_dropped(self):
        out = self.s.receive(f"<presence xmlns='jabber:client' from='{NURSE}' to='{ROOM}/nurse'>"
                             f"<status>hi</status>{self.SPOOF}</presence>")
        nurse = presences_from(out, "nurse")
        self.assertEqual(len(nurse), 3)
        for stanza in nurse:
            self.assertIsNone(hats_of(stanza))
            self.assertIsNone(hats_of(stanza, LEGACY_HATS))
            self.assertNotIn("queen", stanza.toXml())

    def test_a_wearer_shows_only_the_hats_the_service_gave(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.s.take()
        out = self.s.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'>"
                             f"{self.SPOOF}</presence>")
        for stanza in presences_from(out, "juliet"):
            self.assertEqual(hats_of(stanza), [(TEACHER, None)])
            self.assertNotIn("queen", stanza.toXml())

    def test_hats_in_the_join_presence_are_dropped(self):
        out = self.s.join("paris@example.org/court", "paris", payload=self.SPOOF)
        for stanza in presences_from(out, "paris"):
            self.assertNotIn("queen", stanza.toXml())


class LegacyElementTests(Fixture):
    def test_with_the_legacy_element_both_are_sent(self):
        s = Service(MemoryRoomStore(), legacy=True)
        s.create(("muc#roomconfig_persistentroom", "1"))
        s.join(JULIET, "juliet")
        s.take()
        s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        presences = presences_from(s.take(), "juliet")
        self.assertTrue(presences)
        for stanza in presences:
            self.assertEqual(hats_of(stanza), [(TEACHER, "Teacher")])
            self.assertEqual(hats_of(stanza, LEGACY_HATS), [(TEACHER, "Teacher")])

    def test_a_service_without_it_sends_the_standard_element_only(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        presences = presences_from(self.s.take(), "juliet")
        self.assertTrue(presences)
        for stanza in presences:
            self.assertIsNone(hats_of(stanza, LEGACY_HATS))
            self.assertIsNotNone(hats_of(stanza))

    def test_two_services_in_one_process_keep_their_own_choice(self):
        legacy = Service(MemoryRoomStore(), legacy=True)
        self.test_a_service_without_it_sends_the_standard_element_only()
        self.assertTrue(legacy.muc.handler.context.publisher.hats.legacy)


class ErrorTests(Fixture):
    def assertRefusedWithoutChange(self, deferred, condition, text=None):
        refused = self.refused(deferred)
        self.assertEqual(refused[0], condition)
        if text is not None:
            self.assertEqual(refused[1], text)
        self.assertEqual(self.s.take(), [])
        self.assertEqual(self.get(), {TEACHER: {"active": True, "required": False}})

    def setUp(self):
        super().setUp()
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.s.take()

    def test_no_such_room(self):
        for room in (f"nowhere@{SERVICE}", "garden@elsewhere.example.org", SERVICE,
                     f"{ROOM}/juliet", "not a@jid@@", "", None):
            for deferred in (self.hats.add_user_hat(JULIET_BARE, room, PRINCIPAL),
                             self.hats.remove_user_hat(JULIET_BARE, room, TEACHER),
                             self.hats.set_user_hats(JULIET_BARE, room, {}),
                             self.hats.get_user_hats(JULIET_BARE, room)):
                self.assertRefusedWithoutChange(deferred, "item-not-found", "no such room")

    def test_not_affiliated(self):
        self.s.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='tybalt@example.org'/>"))
        for user in ("nurse@example.org", "tybalt@example.org", "friar@example.org"):
            for deferred in (self.hats.add_user_hat(user, ROOM, PRINCIPAL),
                             self.hats.remove_user_hat(user, ROOM, TEACHER),
                             self.hats.set_user_hats(user, ROOM, {}),
                             self.hats.get_user_hats(user, ROOM)):
                self.assertRefusedWithoutChange(deferred, "item-not-found",
                                                "user not affiliated with room")

    def test_a_service_admin_without_affiliation_is_not_affiliated(self):
        self.s.muc.rooms.admins.add("nurse@example.org")
        self.assertRefusedWithoutChange(self.hats.add_user_hat("nurse@example.org", ROOM, PRINCIPAL),
                                        "item-not-found", "user not affiliated with room")

    def test_invalid_user_jid(self):
        for user in ("not a@jid@@", "", None, 42):
            self.assertRefusedWithoutChange(self.hats.add_user_hat(user, ROOM, PRINCIPAL), "bad-request")

    def test_invalid_hat_ids(self):
        for hat in ("teacher", "", "http:", "1http://x", "http://a b", ":x", "urn:x\x00",
                    "urn:\ud800", "urn:" + "x" * 2000, None, 5, b"urn:x"):
            self.assertRefusedWithoutChange(self.hats.add_user_hat(JULIET_BARE, ROOM, hat), "bad-request")
            self.assertRefusedWithoutChange(self.hats.remove_user_hat(JULIET_BARE, ROOM, hat), "bad-request")

    def test_invalid_attachments(self):
        for attachment in ({"colour": "red"}, {"active": "yes"}, {"active": 1}, {"required": None},
                           {"title": 5}, {"title": None}, {"title": "bell\x07"}, {"title": "x" * 2000},
                           [("active", True)], "active", 1):
            self.assertRefusedWithoutChange(
                self.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL, attachment), "bad-request")

    def test_invalid_hats_for_set_change_nothing_even_if_partly_valid(self):
        for hats in ({PRINCIPAL: {}, "teacher": {}}, {PRINCIPAL: {"active": "yes"}},
                     {PRINCIPAL: None}, [PRINCIPAL], None):
            self.assertRefusedWithoutChange(self.hats.set_user_hats(JULIET_BARE, ROOM, hats),
                                            "bad-request")

    def test_some_valid_uris(self):
        for hat in ("urn:uuid:164c41a2-7461-4cff-bdae-3f93078a6607", "https://example.org/h#a",
                    "tag:example.org,2024:teacher", "xmpp:romeo@example.org", "http://例え.jp/帽子"):
            self.successResultOf(self.hats.add_user_hat(JULIET_BARE, ROOM, hat))
            self.assertIn(hat, self.get())


class PersistenceTests(unittest.TestCase):
    def test_hats_survive_a_restart_of_a_persistent_room(self):
        store = MemoryRoomStore()
        before = Service(store)
        before.create(("muc#roomconfig_persistentroom", "1"))
        before.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        before.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL, {"required": True})

        after = Service(store)
        self.assertEqual(self.successResultOf(after.hats.get_user_hats(JULIET_BARE, ROOM)), {
            TEACHER: {"active": True, "required": False, "title": "Teacher"},
            PRINCIPAL: {"active": False, "required": True},
        })
        out = after.join(JULIET, "juliet")
        [own] = [s for s in presences_from(out, "juliet") if s["to"] == JULIET]
        self.assertEqual(hats_of(own), [(TEACHER, "Teacher")])

    def test_removal_is_stored_too(self):
        store = MemoryRoomStore()
        before = Service(store)
        before.create(("muc#roomconfig_persistentroom", "1"))
        before.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        before.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL)
        before.hats.remove_user_hat(JULIET_BARE, ROOM, TEACHER)
        after = Service(store)
        self.assertEqual(list(self.successResultOf(after.hats.get_user_hats(JULIET_BARE, ROOM))),
                         [PRINCIPAL])

    def test_a_temporary_room_stores_nothing(self):
        store = MemoryRoomStore()
        s = Service(store)
        s.create()
        s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        self.assertEqual(store.load_rooms(), [])
        self.assertEqual(list(self.successResultOf(s.hats.get_user_hats(JULIET_BARE, ROOM))), [TEACHER])
