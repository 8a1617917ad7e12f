"""A room's hat definitions (XEP-0317 v0.3) through ``IHatsService``, with a
real ``MUCService``: what defining and destroying change, store (in one
commit), refuse and show in presence, how they meet the Prosody-style
hats of users, and that they survive a restart."""

import math
import os
import tempfile

import mucsvc  # noqa: F401
from twisted.trial import unittest

from mucsvc.app.errors import StoreFailed
from mucsvc.rooms.config import RoomConfig
from mucsvc.rooms.errors import NotAcceptable
from mucsvc.rooms.hat_definitions import HatDefinition, hats_hash, hue_text, parse_hue
from mucsvc.storage import MemoryRoomStore, SQLiteRoomStore
from mucsvc.storage.codec import decode_config, encode_config
from tests.test_hats import (
    HATS, JULIET_BARE, LEGACY_HATS, PRINCIPAL, TEACHER, Fixture, Service, presences_from,
)
from tests.test_rooms_protocol import JULIET, NURSE, ROMEO, ROOM, admin_set, codes, config_submit, to
from tests.test_use_cases import DeferredStore

ROMEO_BARE = "romeo@example.org"
HOST = "http://example.org/hats/host"


def shown(stanza, namespace=HATS):
    """``[(uri, title, hue)]`` of the hats element; None without one."""
    found = [e for e in stanza.elements() if e.name == "hats" and e.uri == namespace]
    if not found:
        return None
    [element] = found
    return [(h.getAttribute("uri"), h.getAttribute("title"), h.getAttribute("hue"))
            for h in element.elements(namespace, "hat")]


def config_changed_messages(out):
    return [s for s in out if s.name == "message" and codes(s) == ["104"]]


class RecordingStore(MemoryRoomStore):
    """Remembers every ``apply``; fails the next one when ``armed``."""

    armed = False

    def __init__(self):
        super().__init__()
        self.applied = []

    def apply(self, writes):
        if self.armed:
            self.armed = False
            raise OSError("disk full")
        self.applied.append([w.method for w in writes])
        return super().apply(writes)


class RoomHatsFixture(Fixture):
    def setUp(self):
        self.store = RecordingStore()
        self.s = Service(self.store)
        self.hats = self.s.hats
        self.s.create(("muc#roomconfig_persistentroom", "1"))
        self.s.join(JULIET, "juliet")
        self.s.join(NURSE, "nurse")
        self.s.take()
        del self.store.applied[:]

    def definitions(self, room=ROOM):
        return self.successResultOf(self.hats.get_room_hats(room))

    def stored_config(self):
        [stored] = self.store.load_rooms()
        return stored.config


class DefineTests(RoomHatsFixture):
    def test_a_defined_hat_is_listed_stored_and_announced_as_a_configuration_change(self):
        self.assertIsNone(self.successResultOf(self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 210)))
        self.assertEqual(self.definitions(), [{"uri": TEACHER, "title": "Teacher", "hue": 210.0}])
        self.assertEqual(self.stored_config().hats, (HatDefinition(TEACHER, "Teacher", 210.0),))
        self.assertEqual(self.store.applied, [["save_room"]])
        out = self.s.take()
        self.assertEqual(sorted(m["to"] for m in config_changed_messages(out)),
                         sorted([ROMEO, JULIET, NURSE]))
        self.assertEqual(presences_from(out, "juliet"), [])  # nobody wears it yet

    def test_defining_it_again_the_same_sends_and_stores_nothing(self):
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 210)
        self.s.take()
        del self.store.applied[:]
        self.successResultOf(self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 210.0))
        self.assertEqual((self.s.take(), self.store.applied), ([], []))

    def test_definitions_are_listed_by_uri(self):
        for uri, title in ((TEACHER, "Teacher"), (HOST, "Host"), (PRINCIPAL, "Principal")):
            self.hats.define_room_hat(ROOM, uri, title)
        self.assertEqual([d["uri"] for d in self.definitions()], sorted([TEACHER, HOST, PRINCIPAL]))
        self.assertEqual([d["hue"] for d in self.definitions()], [None, None, None])

    def test_a_wearer_shows_the_definitions_title_and_hue(self):
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 327.255249)
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Own title"})
        for stanza in presences_from(self.s.take(), "juliet"):
            self.assertEqual(shown(stanza), [(TEACHER, "Teacher", "327.255249")])

    def test_updating_a_definition_shows_its_active_wearers_again(self):
        self.s.receive(admin_set(ROMEO, "<item affiliation='member' jid='nurse@example.org'/>"))
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher")
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.hats.add_user_hat("nurse@example.org", ROOM, TEACHER, {"active": False})
        self.s.take()
        del self.store.applied[:]
        self.successResultOf(self.hats.define_room_hat(ROOM, TEACHER, "Lehrer", 90))
        out = self.s.take()
        self.assertEqual(len(config_changed_messages(out)), 3)
        juliet = presences_from(out, "juliet")
        self.assertEqual(sorted(s["to"] for s in juliet), sorted([ROMEO, JULIET, NURSE]))
        for stanza in juliet:
            self.assertEqual(shown(stanza), [(TEACHER, "Lehrer", "90")])
            self.assertIsNone(stanza.getAttribute("type"))
        self.assertEqual(presences_from(out, "nurse"), [])  # her hat is not shown
        self.assertEqual(self.store.applied, [["save_room"]])

    def test_the_legacy_element_carries_the_hue_too(self):
        s = Service(MemoryRoomStore(), legacy=True)
        s.create(("muc#roomconfig_persistentroom", "1"))
        s.join(JULIET, "juliet")
        s.hats.define_room_hat(ROOM, TEACHER, "Teacher", 12.5)
        s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        for stanza in presences_from(s.take(), "juliet"):
            self.assertEqual(shown(stanza, LEGACY_HATS), [(TEACHER, "Teacher", "12.5")])

    def test_a_temporary_room_defines_hats_without_storing(self):
        store = RecordingStore()
        s = Service(store)
        s.create()
        del store.applied[:]
        self.successResultOf(s.hats.define_room_hat(ROOM, TEACHER, "Teacher"))
        self.assertEqual(store.applied, [])
        self.assertEqual(store.load_rooms(), [])
        self.assertEqual([d["uri"] for d in self.successResultOf(s.hats.get_room_hats(ROOM))],
                         [TEACHER])

    def test_refusals_change_nothing(self):
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 1)
        self.s.take()
        del self.store.applied[:]
        cases = [
            ((ROOM, "teacher", "Teacher"), "bad-request"),
            ((ROOM, TEACHER, ""), "bad-request"),
            ((ROOM, TEACHER, "   "), "bad-request"),
            ((ROOM, TEACHER, None), "bad-request"),
            ((ROOM, TEACHER, "bell\x07"), "bad-request"),
            ((ROOM, TEACHER, "x" * 2000), "bad-request"),
            ((ROOM, TEACHER, "Teacher", 360), "bad-request"),
            ((ROOM, TEACHER, "Teacher", -1), "bad-request"),
            ((ROOM, TEACHER, "Teacher", math.nan), "bad-request"),
            ((ROOM, TEACHER, "Teacher", True), "bad-request"),
            ((ROOM, TEACHER, "Teacher", "90"), "bad-request"),
            (("nowhere@example.org", TEACHER, "Teacher"), "item-not-found"),
        ]
        for args, condition in cases:
            self.assertEqual(self.refused(self.hats.define_room_hat(*args))[0], condition, args)
        self.assertEqual(self.definitions(), [{"uri": TEACHER, "title": "Teacher", "hue": 1.0}])
        self.assertEqual((self.s.take(), self.store.applied), ([], []))

    def test_a_room_defines_at_most_a_hundred_hats(self):
        for i in range(100):
            self.successResultOf(self.hats.define_room_hat(ROOM, f"urn:hat:{i}", f"Hat {i}"))
        error = self.refused(self.hats.define_room_hat(ROOM, "urn:hat:100", "One too many"))
        self.assertEqual(error, ("bad-request", "a room defines at most 100 hats"))
        self.successResultOf(self.hats.define_room_hat(ROOM, "urn:hat:7", "Renamed"))

    def test_the_configuration_form_cannot_set_hats(self):
        room = self.room()
        self.assertRaises(NotAcceptable, room.configure, ROMEO, 0.0,
                          hats=[{"uri": TEACHER, "title": "Teacher"}])
        self.assertEqual(room.config.hats, ())


class ImplicitDefinitionTests(RoomHatsFixture):
    """A hat given with the Prosody-style API is one of the room's hats."""

    def test_a_worn_hat_is_listed_with_its_wearers_title(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        self.hats.add_user_hat(ROMEO_BARE, ROOM, PRINCIPAL)
        self.assertEqual(self.definitions(), [
            {"uri": TEACHER, "title": "Teacher", "hue": None},
            {"uri": PRINCIPAL, "title": "", "hue": None},
        ])
        self.assertEqual(self.stored_config().hats, ())  # nothing defined explicitly

    def test_the_first_wearer_with_a_title_names_it(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"title": "Lehrerin"})
        self.hats.add_user_hat(ROMEO_BARE, ROOM, TEACHER)
        self.assertEqual(self.definitions()[0]["title"], "Lehrerin")

    def test_without_a_definition_each_wearer_shows_its_own_title(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Lehrerin"})
        [to_nurse] = to(presences_from(self.s.take(), "juliet"), NURSE)
        self.assertEqual(shown(to_nurse), [(TEACHER, "Lehrerin", None)])

    def test_defining_a_worn_hat_gives_it_a_title_and_hue_for_everyone(self):
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Lehrerin"})
        self.s.take()
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 45)
        [to_nurse] = to(presences_from(self.s.take(), "juliet"), NURSE)
        self.assertEqual(shown(to_nurse), [(TEACHER, "Teacher", "45")])
        # The user's own attachment is as the Prosody-style API gave it.
        self.assertEqual(self.get()[TEACHER]["title"], "Lehrerin")


class DestroyTests(RoomHatsFixture):
    def setUp(self):
        super().setUp()
        self.s.receive(admin_set(ROMEO, "<item affiliation='member' jid='nurse@example.org'/>"))
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 30)
        self.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL, {"active": True, "title": "Principal"})
        self.hats.add_user_hat("nurse@example.org", ROOM, TEACHER, {"active": True})
        self.s.take()
        del self.store.applied[:]

    def test_destroying_takes_the_hat_off_everyone_in_one_commit(self):
        self.assertIsNone(self.successResultOf(self.hats.destroy_room_hat(ROOM, TEACHER)))
        self.assertEqual(self.store.applied, [["save_room", "set_affiliation", "set_affiliation"]])
        self.assertEqual(self.definitions(), [{"uri": PRINCIPAL, "title": "Principal", "hue": None}])
        self.assertEqual(self.get(), {PRINCIPAL: {"active": True, "required": False,
                                                  "title": "Principal"}})
        self.assertEqual(self.successResultOf(self.hats.get_user_hats("nurse@example.org", ROOM)), {})
        [stored] = self.store.load_rooms()
        self.assertEqual(stored.config.hats, ())
        self.assertNotIn("hats", stored.affiliations["nurse@example.org"][1])
        out = self.s.take()
        self.assertEqual(len(config_changed_messages(out)), 3)
        for stanza in presences_from(out, "juliet"):
            self.assertEqual(shown(stanza), [(PRINCIPAL, "Principal", None)])
        nurse = presences_from(out, "nurse")
        self.assertEqual(len(nurse), 3)
        for stanza in nurse:
            self.assertIsNone(shown(stanza))

    def test_destroying_a_hat_only_worn_takes_it_off_its_wearers(self):
        self.successResultOf(self.hats.destroy_room_hat(ROOM, PRINCIPAL))
        self.assertEqual(self.store.applied, [["set_affiliation"]])
        self.assertEqual(list(self.get()), [TEACHER])
        self.assertEqual([d["uri"] for d in self.definitions()], [TEACHER])

    def test_a_hat_nobody_defines_or_wears_is_not_found(self):
        self.successResultOf(self.hats.destroy_room_hat(ROOM, TEACHER))
        self.s.take()
        del self.store.applied[:]
        for uri in (TEACHER, HOST):
            self.assertEqual(self.refused(self.hats.destroy_room_hat(ROOM, uri)),
                             ("item-not-found", "no such hat in the room"))
        self.assertEqual(self.refused(self.hats.destroy_room_hat(ROOM, "not a uri"))[0],
                         "bad-request")
        self.assertEqual((self.s.take(), self.store.applied), ([], []))

    def test_an_outcasts_stale_hat_goes_too(self):
        self.s.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='nurse@example.org'/>"))
        self.s.take()
        self.successResultOf(self.hats.destroy_room_hat(ROOM, TEACHER))
        self.s.receive(admin_set(ROMEO, "<item affiliation='member' jid='nurse@example.org'/>"))
        self.assertEqual(self.successResultOf(self.hats.get_user_hats("nurse@example.org", ROOM)), {})

    def test_a_refused_commit_changes_nothing_and_tells_nobody(self):
        before = (self.definitions(), self.get(), self.store.load_rooms()[0].affiliations)
        self.store.armed = True
        self.failureResultOf(self.hats.destroy_room_hat(ROOM, TEACHER), StoreFailed)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.s.take(), [])
        self.assertEqual((self.definitions(), self.get(), self.store.load_rooms()[0].affiliations),
                         before)
        self.assertEqual(self.room().config.hats, (HatDefinition(TEACHER, "Teacher", 30.0),))

    def test_a_refused_definition_changes_nothing(self):
        self.store.armed = True
        self.failureResultOf(self.hats.define_room_hat(ROOM, TEACHER, "Lehrer"), StoreFailed)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.s.take(), [])
        self.assertEqual(self.definitions()[0], {"uri": TEACHER, "title": "Teacher", "hue": 30.0})


class DeferredStoreTests(unittest.TestCase):
    def test_nobody_is_told_before_the_store_answers(self):
        store = DeferredStore()
        s = Service(store)
        s.join(ROMEO, "romeo")
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer()
        s.take()
        done = s.hats.define_room_hat(ROOM, TEACHER, "Teacher")
        self.assertNoResult(done)
        self.assertEqual(s.take(), [])
        store.answer()
        self.successResultOf(done)
        self.assertEqual(len(config_changed_messages(s.take())), 1)

    def test_a_failed_answer_puts_the_room_back(self):
        store = DeferredStore()
        s = Service(store)
        s.join(ROMEO, "romeo")
        s.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        store.answer()
        s.take()
        done = s.hats.define_room_hat(ROOM, TEACHER, "Teacher")
        store.answer(fail=True)
        self.failureResultOf(done, StoreFailed)
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.successResultOf(s.hats.get_room_hats(ROOM)), [])
        self.assertEqual(s.take(), [])


class PersistenceTests(unittest.TestCase):
    def fill(self, store):
        s = Service(store)
        s.create(("muc#roomconfig_persistentroom", "1"))
        s.hats.define_room_hat(ROOM, TEACHER, "Teacher", 200.5)
        s.hats.define_room_hat(ROOM, HOST, "Host")
        s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        s.hats.destroy_room_hat(ROOM, HOST)

    def check(self, store):
        after = Service(store)
        self.assertEqual(self.successResultOf(after.hats.get_room_hats(ROOM)),
                         [{"uri": TEACHER, "title": "Teacher", "hue": 200.5}])
        out = after.join(JULIET, "juliet")
        [own] = [s for s in presences_from(out, "juliet") if s["to"] == JULIET]
        self.assertEqual(shown(own), [(TEACHER, "Teacher", "200.5")])

    def test_definitions_survive_a_restart(self):
        store = MemoryRoomStore()
        self.fill(store)
        self.check(store)

    def test_definitions_survive_a_restart_with_sqlite(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "muc.sqlite")
        store = SQLiteRoomStore(path)
        self.fill(store)
        store.close()
        store = SQLiteRoomStore(path)
        self.addCleanup(store.close)
        self.check(store)

    def test_a_configuration_stored_before_hats_reads_as_no_hats(self):
        text = encode_config(ROOM, RoomConfig(persistent=True)).replace(', "hats": []', "")
        self.assertNotIn("hats", text)
        self.assertEqual(decode_config(ROOM, text).hats, ())

    def test_stored_definitions_come_back_as_they_went(self):
        config = RoomConfig(persistent=True).updated(hats=[
            HatDefinition(TEACHER, "Teacher", 1.5), {"uri": HOST, "title": "Host", "hue": 7}])
        self.assertEqual(config.hats, (HatDefinition(HOST, "Host", 7.0),  # ordered by URI
                                       HatDefinition(TEACHER, "Teacher", 1.5)))
        self.assertEqual(decode_config(ROOM, encode_config(ROOM, config)), config)

    def test_unreadable_stored_definitions_fall_back_to_none(self):
        text = encode_config(ROOM, RoomConfig(persistent=True, name="Kept"))
        for bad in ('[{"uri": "teacher", "title": "T"}]', '{"a": 1}', '[{"uri": "urn:x"}]',
                    '[{"uri": "urn:x", "title": "T", "hue": 400}]', '"x"'):
            broken = text.replace('"hats": []', f'"hats": {bad}')
            self.assertNotEqual(broken, text)
            config = decode_config(ROOM, broken)
            self.assertEqual((config.hats, config.name), ((), "Kept"))


class DiscoveryTests(RoomHatsFixture):
    def roominfo(self):
        self.s.take()
        [info] = self.s.receive(f"<iq xmlns='jabber:client' type='get' id='i' from='{NURSE}' "
                                f"to='{ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        [form] = [e for e in info.query.elements() if e.name == "x"]
        return {f["var"]: [str(v) for v in f.elements() if v.name == "value"]
                for f in form.elements() if f.name == "field"}

    def test_the_hash_appears_with_the_first_hat_and_follows_every_change(self):
        self.assertNotIn("hats#hash", self.roominfo())
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher")
        [first] = self.roominfo()["hats#hash"]
        self.assertEqual(first, hats_hash((HatDefinition(TEACHER, "Teacher"),)))
        self.hats.define_room_hat(ROOM, TEACHER, "Teacher", 10)
        [second] = self.roominfo()["hats#hash"]
        self.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL, {"title": "Principal"})
        [third] = self.roominfo()["hats#hash"]
        self.assertEqual(len({first, second, third}), 3)
        self.hats.destroy_room_hat(ROOM, PRINCIPAL)
        self.assertEqual(self.roominfo()["hats#hash"], [second])


class HueTests(unittest.TestCase):
    def test_hues_are_written_with_at_most_six_decimals(self):
        self.assertEqual([hue_text(h) for h in (0.0, 210.0, 327.255249, 12.5, 359.9999999)],
                         ["0", "210", "327.255249", "12.5", "0"])

    def test_hue_text_from_a_form(self):
        self.assertEqual([parse_hue(t) for t in ("", "  ", "0", "359.5", " 90 ")],
                         [None, None, 0.0, 359.5, 90.0])
        for text in ("360", "-0.5", "nan", "inf", "red", "1e400"):
            self.assertRaises(NotAcceptable, parse_hue, text)
