"""The room archive through the XMPP edge: stanza ids, MAM queries, the
archiving switch, batching on a clock, restarts and destruction."""

import sqlite3

from twisted.trial import unittest

from mucsvc.rooms import ServiceLimits
from mucsvc.storage import SQLiteRoomStore
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.sqlite_archive import SQLiteArchive
from tests.helpers import SERVICE
from tests.test_rooms_protocol import Harness as ProtocolHarness
from tests.test_rooms_protocol import (
    JULIET, ROMEO, ROOM, admin_set, codes, condition, config_submit, first, to,
)

MAM = "urn:xmpp:mam:2"
SID = "urn:xmpp:sid:0"
NURSE = "nurse@example.org/home"


class Harness(ProtocolHarness):
    """The service with an archive (memory unless given); messages are sent
    a second apart."""

    def __init__(self, archive=None, **options):
        self.archive = archive if archive is not None else MemoryArchive()
        super().__init__(archive=self.archive, **options)

    def say(self, who, body, id="m1", room=ROOM, extra=""):
        self.clock.advance(1)
        return super().say(who, body, id=id, room=room, extra=extra)

    def mam(self, who, form="", rsm="", room=ROOM, query_id="q1", extra=""):
        x = (f"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
             f"<value>{MAM}</value></field>{form}</x>") if form else ""
        s = f"<set xmlns='http://jabber.org/protocol/rsm'>{rsm}</set>" if rsm else ""
        out = self.receive(f"<iq xmlns='jabber:client' type='set' id='mam' from='{who}' to='{room}'>"
                           f"<query xmlns='{MAM}' queryid='{query_id}'>{x}{s}{extra}</query></iq>")
        return [m for m in out if m.name == "message"], out[-1]


def field(var, value):
    return f"<field var='{var}'><value>{value}</value></field>"


def stanza_ids(message):
    return [(e["by"], e["id"]) for e in message.elements(SID, "stanza-id")]


def result_of(message):
    return next(message.elements(MAM, "result"))


def forwarded_body(message):
    forwarded = first(result_of(message), "forwarded")
    inner = first(forwarded, "message")
    return str(first(inner, "body"))


def fin_of(iq):
    fin = next(iq.elements(MAM, "fin"))
    rsm = first(fin, "set")
    return fin, {e.name: str(e) for e in rsm.elements()}


class StanzaIdTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def test_every_recipient_gets_the_same_stanza_id_and_each_message_its_own(self):
        out = self.h.say(ROMEO, "hello", extra=f"<stanza-id xmlns='{SID}' by='{ROOM}' id='fake'/>"
                         f"<stanza-id xmlns='{SID}' by='{ROOM.upper()}' id='fake-upper'/>"
                         f"<stanza-id xmlns='{SID}' by='elsewhere.example' id='theirs'/>")
        to_romeo, to_juliet = to(out, ROMEO)[0], to(out, JULIET)[0]
        ours = [pair for pair in stanza_ids(to_romeo) if pair[0] == ROOM]
        self.assertEqual(len(ours), 1)  # the forged ones are gone, however spelled
        self.assertNotIn("fake-upper", [sid for _, sid in stanza_ids(to_romeo)])
        self.assertNotEqual(ours[0][1], "fake")
        self.assertIn(("elsewhere.example", "theirs"), stanza_ids(to_romeo))
        self.assertEqual(stanza_ids(to_romeo), stanza_ids(to_juliet))
        again = to(self.h.say(ROMEO, "again", id="m2"), ROMEO)[0]
        self.assertNotEqual(stanza_ids(again), stanza_ids(to_romeo))

    def test_a_message_kept_nowhere_has_no_stanza_id_and_the_last_id_seen_pages_the_archive(self):
        # Gajim remembers the last stanza id it saw and, on rejoin, asks
        # the archive for what came after it: every id it sees must be one
        # the archive knows, as in Prosody, which stamps only what it stores.
        kept = stanza_ids(to(self.h.say(ROMEO, "kept"), JULIET)[0])
        self.assertEqual(len(kept), 1)
        self.h.clock.advance(1)
        state = to(self.h.receive(
            f"<message xmlns='jabber:client' type='groupchat' id='cs' from='{ROMEO}' to='{ROOM}'>"
            "<active xmlns='http://jabber.org/protocol/chatstates'/>"
            "<no-store xmlns='urn:xmpp:hints'/></message>"), JULIET)
        hinted = to(self.h.say(ROMEO, "off the record", id="m2",
                               extra="<no-store xmlns='urn:xmpp:hints'/>"), JULIET)
        self.assertEqual([len(m) for m in (state, hinted)], [1, 1])  # still reflected
        self.assertEqual([stanza_ids(m) for m in state + hinted], [[], []])
        self.h.say(ROMEO, "later", id="m3")
        messages, result = self.h.mam(JULIET, rsm=f"<after>{kept[0][1]}</after>")
        self.assertEqual(result["type"], "result")
        self.assertEqual([forwarded_body(m) for m in messages], ["later"])

    def test_history_keeps_the_stanza_id(self):
        live = to(self.h.say(ROMEO, "remember"), JULIET)[0]
        out = to(self.h.join("nurse@example.org/home", "nurse"), "nurse@example.org/home")
        [replayed] = [m for m in out if m.name == "message" and m.body]
        self.assertEqual(stanza_ids(replayed), stanza_ids(live))

    def test_rooms_advertise_stanza_ids_and_the_archive(self):
        [info] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='d' from='{JULIET}' to='{ROOM}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        features = {f["var"] for f in first(info, "query").elements() if f.name == "feature"}
        self.assertTrue({SID, MAM, MAM + "#extended"} <= features)


class QueryTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")
        self.live = []
        for i in range(5):
            out = self.h.say(ROMEO if i % 2 == 0 else JULIET, f"m{i}", id=f"id{i}")
            self.live.append(stanza_ids(to(out, ROMEO)[0])[0][1])

    def test_a_full_query_returns_everything_with_the_live_ids(self):
        results, iq = self.h.mam(JULIET)
        self.assertEqual([forwarded_body(m) for m in results], [f"m{i}" for i in range(5)])
        self.assertEqual([result_of(m)["id"] for m in results], self.live)
        self.assertEqual({result_of(m)["queryid"] for m in results}, {"q1"})
        self.assertEqual({(m["from"], m["to"]) for m in results}, {(ROOM, JULIET)})
        inner = first(first(result_of(results[0]), "forwarded"), "message")
        self.assertEqual((inner["from"], inner["id"], inner["type"]), (f"{ROOM}/romeo", "id0", "groupchat"))
        self.assertIsNotNone(first(first(result_of(results[0]), "forwarded"), "delay")["stamp"])
        fin, rsm = fin_of(iq)
        self.assertEqual((iq["type"], iq["id"], fin.getAttribute("complete")), ("result", "mam", "true"))
        self.assertEqual((rsm["first"], rsm["last"]), (self.live[0], self.live[-1]))

    def test_paging_forwards_until_complete(self):
        seen, after = [], None
        while True:
            rsm = "<max>2</max>" + (f"<after>{after}</after>" if after else "")
            results, iq = self.h.mam(JULIET, rsm=rsm)
            seen += [result_of(m)["id"] for m in results]
            fin, page = fin_of(iq)
            after = page["last"]
            if fin.getAttribute("complete") == "true":
                break
        self.assertEqual(seen, self.live)

    def test_the_empty_before_is_the_last_page_and_before_pages_back(self):
        results, iq = self.h.mam(JULIET, rsm="<max>2</max><before/>")
        self.assertEqual([result_of(m)["id"] for m in results], self.live[3:])
        self.assertIsNone(fin_of(iq)[0].getAttribute("complete"))
        results, iq = self.h.mam(JULIET, rsm=f"<max>2</max><before>{self.live[1]}</before>")
        self.assertEqual([result_of(m)["id"] for m in results], self.live[:1])
        self.assertEqual(fin_of(iq)[0].getAttribute("complete"), "true")

    def test_flip_page_reverses_the_order_of_results(self):
        results, _ = self.h.mam(JULIET, rsm="<max>3</max><before/>", extra="<flip-page/>")
        self.assertEqual([result_of(m)["id"] for m in results], list(reversed(self.live[2:])))

    def test_extended_ids_and_with(self):
        results, _ = self.h.mam(JULIET, form=field("after-id", self.live[0]) + field("before-id", self.live[4]))
        self.assertEqual([result_of(m)["id"] for m in results], self.live[1:4])
        results, _ = self.h.mam(JULIET, form=field("with", f"{ROOM}/juliet"))
        self.assertEqual([forwarded_body(m) for m in results], ["m1", "m3"])

    def test_start_and_end(self):
        # Messages were sent one second apart: 1_700_000_001 ... 005.
        results, _ = self.h.mam(JULIET, form=field("start", "2023-11-14T22:13:22Z")
                                + field("end", "2023-11-14T22:13:23Z"))
        self.assertEqual([forwarded_body(m) for m in results], ["m1", "m2"])
        results, iq = self.h.mam(JULIET, form=field("start", "2030-01-01T00:00:00Z"))
        self.assertEqual((results, fin_of(iq)[0].getAttribute("complete")), ([], "true"))

    def test_result_stamps_are_precise_and_select_their_own_message(self):
        # Two messages in one second: a client sorting by stamp keeps their order.
        self.h.receive(f"<message xmlns='jabber:client' type='groupchat' id='same' from='{ROMEO}' "
                       f"to='{ROOM}'><body>same second</body></message>")
        results, _ = self.h.mam(JULIET)
        stamps = [first(first(result_of(m), "forwarded"), "delay")["stamp"] for m in results]
        self.assertEqual(stamps, sorted(set(stamps)))  # distinct, in order
        self.assertRegex(stamps[-1], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        for m, stamp in zip(results, stamps):
            picked, _ = self.h.mam(JULIET, form=field("start", stamp) + field("end", stamp))
            self.assertEqual([result_of(p)["id"] for p in picked], [result_of(m)["id"]])

    def test_max_zero_gives_the_count(self):
        results, iq = self.h.mam(JULIET, rsm="<max>0</max>")
        self.assertEqual((results, fin_of(iq)[1]["count"]), ([], "5"))

    def test_page_size_is_capped(self):
        h = Harness(max_archive_results=3)
        h.create()
        for i in range(5):
            h.say(ROMEO, f"m{i}", id=f"i{i}")
        results, iq = h.mam(ROMEO, rsm="<max>100</max>")
        self.assertEqual(len(results), 3)
        self.assertIsNone(fin_of(iq)[0].getAttribute("complete"))

    def test_bad_requests(self):
        [error] = self.h.mam(JULIET, rsm="<after>nonsense</after>")[1:]
        self.assertEqual((condition(error)[0], condition(error)[1]["type"]), ("item-not-found", "modify"))
        [error] = self.h.mam(JULIET, rsm="<after>123</after>")[1:]
        self.assertEqual(condition(error)[0], "item-not-found")
        [error] = self.h.mam(JULIET, rsm="<max>lots</max>")[1:]
        self.assertEqual(condition(error)[0], "bad-request")
        [error] = self.h.mam(JULIET, form=field("start", "yesterday"))[1:]
        self.assertEqual(condition(error)[0], "bad-request")
        out = self.h.receive(f"<iq xmlns='jabber:client' type='set' id='mam' from='{JULIET}' to='{ROOM}'>"
                             f"<query xmlns='{MAM}'><x xmlns='jabber:x:data' type='submit'>"
                             "<field var='FORM_TYPE'><value>urn:other</value></field></x></query></iq>")
        self.assertEqual(condition(out[0])[0], "bad-request")

    def test_a_room_that_does_not_exist(self):
        [error] = self.h.mam(JULIET, room="nowhere@" + SERVICE)[1:]
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_the_form_and_the_metadata(self):
        [form] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='f' from='{JULIET}' to='{ROOM}'>"
                                f"<query xmlns='{MAM}'/></iq>")
        x = first(first(form, "query"), "x")
        self.assertEqual([f["var"] for f in x.elements() if f.name == "field"],
                         ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"])
        [meta] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='md' from='{JULIET}' to='{ROOM}'>"
                                f"<metadata xmlns='{MAM}'/></iq>")
        metadata = first(meta, "metadata")
        self.assertEqual((first(metadata, "start")["id"], first(metadata, "end")["id"]),
                         (self.live[0], self.live[-1]))


class AccessTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.say(ROMEO, "secret plans")

    def test_members_only_rooms_answer_members_even_when_away(self):
        self.h.receive(admin_set(ROMEO, "<item affiliation='member' jid='juliet@example.org'/>"))
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_membersonly", "1")]))
        results, iq = self.h.mam(JULIET)  # not in the room
        self.assertEqual([forwarded_body(m) for m in results], ["secret plans"])
        [error] = self.h.mam(NURSE)[1:]
        self.assertEqual((condition(error)[0], condition(error)[1]["type"]), ("forbidden", "auth"))

    def test_outcasts_are_refused(self):
        self.h.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='nurse@example.org'/>"))
        [error] = self.h.mam(NURSE)[1:]
        self.assertEqual(condition(error)[0], "forbidden")

    def test_real_jids_reach_only_those_allowed_to_see_them(self):
        def item_jids(results):
            inner = first(first(result_of(results[0]), "forwarded"), "message")
            return [i["jid"] for x in inner.elements("http://jabber.org/protocol/muc#user", "x")
                    for i in x.elements()]
        self.h.join(JULIET, "juliet")
        self.assertEqual(item_jids(self.h.mam(JULIET)[0]), [])  # semi-anonymous, a participant
        self.assertEqual(item_jids(self.h.mam(NURSE)[0]), [])  # not even in the room
        self.assertEqual(item_jids(self.h.mam(ROMEO)[0]), ["romeo@example.org"])  # moderator
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_whois", "anyone")]))
        self.assertEqual(item_jids(self.h.mam(NURSE)[0]), ["romeo@example.org"])

    def test_a_non_anonymous_room_files_the_sender_as_prosody_does(self):
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_whois", "anyone")]))
        self.h.join(JULIET, "juliet")
        self.h.say(JULIET, "filed with my jid", id="m2")

        def items(who):
            results = self.h.mam(who)[0]
            inner = first(first(result_of(results[-1]), "forwarded"), "message")
            return [dict(i.attributes) for x in inner.elements("http://jabber.org/protocol/muc#user", "x")
                    for i in x.elements()]
        self.assertEqual(items(NURSE), [{"affiliation": "none", "role": "participant",
                                         "jid": "juliet@example.org"}])
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_whois", "moderators")]))
        self.assertEqual(items(JULIET), [])  # semi-anonymous now: not shown


class SwitchTests(unittest.TestCase):
    def test_an_owner_turns_archiving_off_and_on(self):
        h = Harness()
        h.create()
        h.join(JULIET, "juliet")
        h.say(ROMEO, "kept")
        out = h.receive(config_submit(ROMEO, [("muc#roomconfig_enablearchiving", "0")]))
        notice = [m for m in to(out, JULIET) if m.name == "message"][0]
        self.assertEqual(sorted(codes(notice)), ["104", "171"])
        h.say(ROMEO, "not kept", id="m2")
        self.assertEqual([forwarded_body(m) for m in h.mam(JULIET)[0]], ["kept"])
        [info] = h.receive(f"<iq xmlns='jabber:client' type='get' id='d' from='{JULIET}' to='{ROOM}'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        self.assertNotIn(MAM, {f.getAttribute("var") for f in first(info, "query").elements()})
        out = h.receive(config_submit(ROMEO, [("muc#roomconfig_enablearchiving", "1")]))
        self.assertIn("170", codes([m for m in to(out, JULIET) if m.name == "message"][0]))

    def test_the_form_shows_the_switch_and_resubmitting_it_changes_nothing(self):
        h = Harness()
        h.create()
        [form] = h.receive(f"<iq xmlns='jabber:client' type='get' id='c' from='{ROMEO}' to='{ROOM}'>"
                           "<query xmlns='http://jabber.org/protocol/muc#owner'/></iq>")
        fields = {f.getAttribute("var"): f for f in first(first(form, "query"), "x").elements()
                  if f.name == "field"}
        self.assertEqual(str(first(fields["muc#roomconfig_enablearchiving"], "value")), "1")
        h.join(JULIET, "juliet")
        out = h.receive(config_submit(ROMEO, [("muc#roomconfig_enablearchiving", "1")]))
        self.assertEqual([m for m in to(out, JULIET) if m.name == "message"], [])

    def test_service_defaults(self):
        h = Harness(limits=ServiceLimits(log_by_default=False))
        h.create()
        h.say(ROMEO, "not kept")
        self.assertEqual(h.mam(ROMEO)[0], [])
        everything = Harness(limits=ServiceLimits(log_by_default=False, log_all_rooms=True))
        everything.create()
        everything.receive(config_submit(ROMEO, [("muc#roomconfig_enablearchiving", "0")]))
        everything.say(ROMEO, "kept anyway")
        self.assertEqual([forwarded_body(m) for m in everything.mam(ROMEO)[0]], ["kept anyway"])
        [form] = everything.receive(f"<iq xmlns='jabber:client' type='get' id='c' from='{ROMEO}' to='{ROOM}'>"
                                    "<query xmlns='http://jabber.org/protocol/muc#owner'/></iq>")
        self.assertNotIn("muc#roomconfig_enablearchiving",
                         [f.getAttribute("var") for f in first(first(form, "query"), "x").elements()])

    def test_messages_without_a_body_are_not_archived(self):
        h = Harness()
        h.create()
        h.receive(f"<message xmlns='jabber:client' type='groupchat' id='cs' from='{ROMEO}' to='{ROOM}'>"
                  "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
        h.say(ROMEO, "private", extra="<no-store xmlns='urn:xmpp:hints'/>")
        h.say(ROMEO, "public", id="m2")
        self.assertEqual([forwarded_body(m) for m in h.mam(ROMEO)[0]], ["public"])


class BatchingTests(unittest.TestCase):
    """Writes wait at most the flush interval; readers never see the gap."""

    def test_messages_reach_the_file_within_the_interval(self):
        path = self.mktemp()
        h = Harness(archive=SQLiteArchive(path), store=SQLiteRoomStore(path),
                    archive_flush_interval=0.25)
        h.create()
        h.say(ROMEO, "one")
        h.say(ROMEO, "two", id="m2")  # clock moved 1 s: the first batch went
        other = sqlite3.connect(path)  # what a kill -9 would leave
        count = lambda: other.execute("SELECT count(*) FROM archive").fetchone()[0]  # noqa: E731
        self.assertEqual(count(), 1)
        h.clock.advance(0.24)
        self.assertEqual(count(), 1)
        h.clock.advance(0.01)
        self.assertEqual(count(), 2)
        other.close()

    def test_a_query_sees_messages_not_yet_written(self):
        h = Harness(archive_flush_interval=60)
        h.create()
        h.say(ROMEO, "fresh")
        self.assertEqual(h.muc.archive.pending, 1)
        self.assertEqual([forwarded_body(m) for m in h.mam(ROMEO)[0]], ["fresh"])

    def test_a_refused_batch_is_kept_and_written_later(self):
        archive = MemoryArchive()
        real_append = archive.append
        failures = [1]

        def flaky(messages):
            if failures:
                failures.pop()
                raise OSError("disk full")
            real_append(messages)
        archive.append = flaky
        h = Harness(archive=archive, archive_flush_interval=0.1)
        h.create()
        h.say(ROMEO, "persist")
        h.clock.advance(0.1)
        self.assertEqual((h.muc.archive.failures, h.muc.archive.pending), (1, 1))
        h.clock.advance(0.1)
        self.assertEqual(h.muc.archive.pending, 0)
        self.assertEqual([forwarded_body(m) for m in h.mam(ROMEO)[0]], ["persist"])
        self.flushLoggedErrors(OSError)

    def test_a_clean_stop_writes_everything(self):
        path = self.mktemp()
        h = Harness(archive=SQLiteArchive(path), archive_flush_interval=60)
        h.muc.startService()
        h.create()
        h.say(ROMEO, "last words")
        h.muc.stopService()
        other = sqlite3.connect(path)
        self.assertEqual(other.execute("SELECT count(*) FROM archive").fetchone()[0], 1)
        other.close()


class LifecycleTests(unittest.TestCase):
    def restarted(self, path):
        return Harness(archive=SQLiteArchive(path), store=SQLiteRoomStore(path))

    def test_a_persistent_room_replays_its_history_from_the_archive_after_a_restart(self):
        path = self.mktemp()
        h = self.restarted(path)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1"),
                                        ("muc#roomconfig_historylength", "1")]))
        live = stanza_ids(to(h.say(ROMEO, "before the restart"), ROMEO)[0])
        h.say(ROMEO, "newest", id="m2")
        h.muc.archive.stop()
        h.muc.app.store.close()

        again = self.restarted(path)
        again.receive(config_submit(ROMEO, [("muc#roomconfig_historylength", "5")]))
        again.muc.archive.stop()
        again.muc.app.store.close()
        third = self.restarted(path)  # the stored history holds one, the archive two
        out = to(third.join(JULIET, "juliet"), JULIET)
        replayed = [m for m in out if m.name == "message" and m.body]
        self.assertEqual([str(m.body) for m in replayed], ["before the restart", "newest"])
        self.assertEqual(stanza_ids(replayed[0]), live)
        self.assertIsNotNone(first(replayed[0], "delay"))
        # new ids continue above the archived ones
        newer = stanza_ids(to(third.say(JULIET, "after"), JULIET)[0])
        self.assertGreater(int(newer[0][1]), int(live[0][1]))

    def test_messages_a_crash_kept_from_the_archive_are_recovered_from_the_history(self):
        path = self.mktemp()
        h = self.restarted(path)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        h.say(ROMEO, "written")
        h.clock.advance(1)
        live = stanza_ids(to(h.say(ROMEO, "acknowledged, not archived yet", id="m2"), ROMEO)[0])
        self.assertEqual(h.muc.archive.pending, 1)
        # a kill -9 now: nothing more is written (the connections just go away)

        again = self.restarted(path)
        results = again.mam(ROMEO)[0]
        self.assertEqual([forwarded_body(m) for m in results],
                         ["written", "acknowledged, not archived yet"])
        self.assertEqual(result_of(results[1])["id"], live[0][1])
        inner = first(first(result_of(results[1]), "forwarded"), "message")
        self.assertEqual([e.name for e in inner.elements()], ["body", "occupant-id"])

    def test_a_destroyed_room_takes_its_archive_along(self):
        h = Harness()
        h.create()
        h.say(ROMEO, "gone soon")
        h.receive(f"<iq xmlns='jabber:client' type='set' id='x' from='{ROMEO}' to='{ROOM}'>"
                  "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>")
        h.create()
        self.assertEqual(h.mam(ROMEO)[0], [])

    def test_a_temporary_room_emptied_loses_its_archive(self):
        h = Harness()
        h.create()
        h.say(ROMEO, "bye")
        h.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{ROMEO}' to='{ROOM}/romeo'/>")
        h.create()
        self.assertEqual(h.mam(ROMEO)[0], [])

    def test_the_archive_of_a_temporary_room_of_the_last_run_is_gone_after_a_restart(self):
        path = self.mktemp()
        h = self.restarted(path)
        h.create(room="fleeting@" + SERVICE)
        h.say(ROMEO, "only for us", room="fleeting@" + SERVICE)
        h.muc.stopService()  # the service stops; the room with it
        h.muc.app.store.close()
        again = self.restarted(path)
        again.create(room="fleeting@" + SERVICE)  # someone else takes the name
        self.assertEqual(again.mam(ROMEO, room="fleeting@" + SERVICE)[0], [])

    def test_housekeeping_expires_old_messages(self):
        h = Harness(archive_expires_after=3600)
        h.create()
        h.say(ROMEO, "old")
        h.clock.advance(3000)
        h.say(ROMEO, "recent", id="m2")
        h.clock.advance(1000)
        h.muc.housekeeping()
        self.assertEqual([forwarded_body(m) for m in h.mam(ROMEO)[0]], ["recent"])


class SharedStoreArchives(unittest.TestCase):
    """Processes sharing one store (``component_slots``): the archive of a
    room not stored may be another live process's temporary room, so
    loading keeps it; a room created here under that name starts empty."""

    def test_loading_keeps_unstored_archives_and_creating_the_room_drops_its_own(self):
        archive = MemoryArchive()
        elsewhere = Harness(archive=archive)
        elsewhere.create()
        elsewhere.say(ROMEO, "a temporary room of another process")
        elsewhere.muc.archive.flush()
        h = Harness(archive=archive, load_now=False)
        h.muc.load()
        self.assertEqual(archive.room_jids(), [ROOM])
        h.create()
        self.assertEqual([forwarded_body(m) for m in h.mam(ROMEO)[0]], [])

    def test_one_process_drops_them_at_start_as_before(self):
        archive = MemoryArchive()
        elsewhere = Harness(archive=archive)
        elsewhere.create()
        elsewhere.say(ROMEO, "the last run's temporary room")
        elsewhere.muc.archive.flush()
        Harness(archive=archive)
        self.assertEqual(archive.room_jids(), [])

    def test_numbers_stay_above_the_archive_as_it_is_when_the_slot_is_taken(self):
        archive = MemoryArchive()
        h = Harness(archive=archive, load_now=False)
        later = Harness(archive=archive)
        later.clock.advance(3600)  # another process, an hour of messages later
        later.create()
        later.say(ROMEO, "newest")
        later.muc.archive.flush()
        newest = archive.newest_seq()
        self.assertGreater(newest, h.muc.archive.ids.next())
        h.muc.load()
        self.assertGreater(h.muc.archive.ids.next(), newest)
