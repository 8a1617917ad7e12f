"""The MUC protocol layer driven through the router, stanza in, stanzas out."""

import mucsvc  # noqa: F401
from twisted.internet.task import Clock
from twisted.trial import unittest

from mucsvc.muc import MUCService
from tests.helpers import SERVICE, Wire, stanzas_in

ROOM = f"garden@{SERVICE}"
ROMEO = "romeo@example.org/balcony"
JULIET = "juliet@example.org/tomb"
NURSE = "nurse@example.org/kitchen"
MUC_USER = "http://jabber.org/protocol/muc#user"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Harness:
    """The whole ``muc`` service on a `Clock`; ``options`` go to `MUCService`."""

    def __init__(self, **options):
        self.clock = Clock()
        self.clock.advance(1_700_000_000)
        self.sent = []
        self.muc = MUCService(SERVICE, self.sent.append, self.clock, **options)
        self.wire = Wire(rooms=self.muc.handler)

    def receive(self, xml):
        self.wire.receive(xml)
        out = stanzas_in(self.sent + self.wire.take())
        del self.sent[:]
        return out

    def join(self, who, nick, room=ROOM, extra=""):
        return self.receive(f"<presence xmlns='jabber:client' from='{who}' to='{room}/{nick}'>"
                            f"<x xmlns='http://jabber.org/protocol/muc'>{extra}</x></presence>")

    def create(self, who=ROMEO, nick="romeo", room=ROOM):
        self.join(who, nick, room)
        return self.receive(f"<iq xmlns='jabber:client' type='set' id='inst' from='{who}' to='{room}'>"
                            "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                            "<x xmlns='jabber:x:data' type='submit'/></query></iq>")

    def say(self, who, body, id="m1", room=ROOM, extra=""):
        return self.receive(f"<message xmlns='jabber:client' type='groupchat' id='{id}' from='{who}' "
                            f"to='{room}'><body>{body}</body>{extra}</message>")


def first(stanza, name):
    return next(e for e in stanza.elements() if e.name == name)


def to(stanzas, jid):
    return [s for s in stanzas if s.getAttribute("to") == jid]


def muc_x(stanza):
    return next(stanza.elements(MUC_USER, "x"))


def codes(stanza):
    return [s["code"] for s in muc_x(stanza).elements(MUC_USER, "status")]


def items(stanza):
    return [dict(i.attributes) for i in muc_x(stanza).elements(MUC_USER, "item")]


def condition(stanza):
    error = first(stanza, "error")
    return next(c.name for c in error.elements(STANZAS) if c.name != "text"), error


class CreationTests(unittest.TestCase):
    def test_creator_gets_201_and_110_then_empty_subject(self):
        h = Harness()
        out = h.join(ROMEO, "romeo")
        presence, subject = out
        self.assertEqual(presence["from"], ROOM + "/romeo")
        self.assertEqual(codes(presence), ["201", "110"])
        self.assertEqual(items(presence), [{"affiliation": "owner", "role": "moderator", "jid": ROMEO}])
        self.assertEqual((subject.name, subject["type"], subject["from"]), ("message", "groupchat", ROOM))
        self.assertEqual(str(first(subject, "subject")), "")

    def test_locked_room_refuses_others_until_instant_room_accepted(self):
        h = Harness()
        h.join(ROMEO, "romeo")
        [error] = h.join(JULIET, "juliet")
        name, element = condition(error)
        self.assertEqual((error["type"], name, element["by"]), ("error", "item-not-found", SERVICE))
        [result] = h.receive(f"<iq xmlns='jabber:client' type='set' id='inst' from='{ROMEO}' to='{ROOM}'>"
                             "<query xmlns='http://jabber.org/protocol/muc#owner'>"
                             "<x xmlns='jabber:x:data' type='submit'/></query></iq>")
        self.assertEqual((result["type"], result["id"]), ("result", "inst"))
        self.assertEqual(len(to(h.join(JULIET, "juliet"), JULIET)), 3)

    def test_locked_room_in_use_is_unlocked_after_timeout(self):
        h = Harness()
        h.muc.startService()
        self.addCleanup(h.muc.stopService)
        h.join(ROMEO, "romeo")
        h.clock.advance(h.muc.rooms.limits.locked_room_timeout - 20)
        self.assertTrue(h.muc.rooms.room(ROOM).locked)
        self.assertEqual(condition(h.join(JULIET, "juliet")[0])[0], "item-not-found")
        h.clock.advance(40)
        self.assertEqual(stanzas_in(h.sent), [])  # nobody is told: it just opens
        self.assertFalse(h.muc.rooms.room(ROOM).locked)
        self.assertEqual(len(to(h.join(JULIET, "juliet"), JULIET)), 3)

    def test_room_names_are_normalised(self):
        h = Harness()
        h.join(ROMEO, "romeo", room=f"Big@{SERVICE}")
        self.assertIn(f"big@{SERVICE}", h.muc.rooms)


class JoinTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()

    def test_joiner_gets_occupants_self_history_subject_in_order(self):
        h = self.h
        h.say(ROMEO, "Where art thou?")
        out = h.join(JULIET, "juliet", extra="")
        mine = to(out, JULIET)
        self.assertEqual([s.name for s in mine], ["presence", "presence", "message", "message"])
        romeo, me, history, subject = mine
        self.assertEqual(romeo["from"], ROOM + "/romeo")
        self.assertEqual(items(romeo), [{"affiliation": "owner", "role": "moderator"}])
        self.assertEqual(codes(me), ["110"])
        self.assertEqual(items(me), [{"affiliation": "none", "role": "participant", "jid": JULIET}])
        self.assertEqual(str(history.body), "Where art thou?")
        delay = next(history.elements("urn:xmpp:delay", "delay"))
        self.assertEqual(delay["from"], ROOM)
        self.assertEqual(delay["stamp"], "2023-11-14T22:13:20Z")
        self.assertIsNotNone(first(subject, "subject"))
        [told] = to(out, ROMEO)
        self.assertEqual(items(told), [{"affiliation": "none", "role": "participant", "jid": JULIET}])
        self.assertEqual(codes(told), [])

    def test_history_maxstanzas(self):
        h = self.h
        for n in range(5):
            h.say(ROMEO, f"line {n}", id=f"m{n}")
        out = h.join(JULIET, "juliet", extra="<history maxstanzas='2'/>")
        bodies = [str(s.body) for s in to(out, JULIET) if s.name == "message" and s.body]
        self.assertEqual(bodies, ["line 3", "line 4"])

    def test_nick_in_use_is_conflict(self):
        [error] = self.h.join(JULIET, "romeo")
        self.assertEqual(condition(error)[0], "conflict")
        self.assertEqual(condition(error)[1]["by"], ROOM)

    def test_robot_face_nick_is_jid_malformed(self):
        [error] = self.h.join(JULIET, "\U0001F916")
        name, element = condition(error)
        self.assertEqual(name, "jid-malformed")

    def test_second_session_joins_same_occupant(self):
        h = self.h
        out = h.join("romeo@example.org/phone", "romeo")
        self.assertEqual(len(h.muc.rooms.room(ROOM).occupant_by_nick("romeo").sessions), 2)
        self.assertIn("110", codes(to(out, "romeo@example.org/phone")[-2]))

    def test_spoofed_service_elements_are_stripped(self):
        h = self.h
        out = h.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'>"
                        "<x xmlns='http://jabber.org/protocol/muc'/>"
                        "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/></x>"
                        "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='fake'/>"
                        "<show>away</show></presence>")
        [told] = to(out, ROMEO)
        self.assertEqual(len(list(told.elements(MUC_USER, "x"))), 1)
        self.assertEqual(codes(told), [])
        ids = [e["id"] for e in told.elements("urn:xmpp:occupant-id:0", "occupant-id")]
        self.assertEqual(len(ids), 1)
        self.assertNotEqual(ids[0], "fake")
        self.assertEqual(str(told.show), "away")

    def test_semi_anonymous_room_hides_jids_from_participants(self):
        h = self.h
        h.join(JULIET, "juliet")
        out = h.join(NURSE, "nurse")
        to_juliet = to(out, JULIET)[0]
        self.assertEqual(items(to_juliet), [{"affiliation": "none", "role": "participant"}])
        to_romeo = to(out, ROMEO)[0]
        self.assertEqual(items(to_romeo)[0]["jid"], NURSE)

    def test_presence_update_is_broadcast(self):
        h = self.h
        h.join(JULIET, "juliet")
        out = h.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'>"
                        "<show>dnd</show></presence>")
        self.assertEqual(str(to(out, ROMEO)[0].show), "dnd")
        self.assertEqual(codes(to(out, JULIET)[0]), ["110"])

    def test_presence_without_x_from_outsider_is_item_not_found(self):
        [error] = self.h.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/juliet'/>")
        self.assertEqual(condition(error)[0], "item-not-found")


class ConversationTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def test_groupchat_reflected_to_everyone_with_sender_id(self):
        out = self.h.say(JULIET, "Hello &amp; welcome", id="abc")
        self.assertEqual(sorted(s["to"] for s in out), sorted([ROMEO, JULIET]))
        for s in out:
            self.assertEqual((s["from"], s["id"], s["type"]), (ROOM + "/juliet", "abc", "groupchat"))
            self.assertEqual(str(s.body), "Hello & welcome")

    def test_groupchat_from_outsider_is_not_acceptable(self):
        [error] = self.h.say(NURSE, "let me in")
        self.assertEqual(condition(error)[0], "not-acceptable")

    def test_spoofed_room_delay_is_dropped(self):
        out = self.h.say(JULIET, "old", extra=f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='2000-01-01T00:00:00Z'/>")
        self.assertEqual(list(out[0].elements("urn:xmpp:delay", "delay")), [])

    def test_subject_change_broadcast_and_given_to_joiners(self):
        h = self.h
        out = h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
                        "<subject>Fair Verona</subject></message>")
        self.assertEqual(len(out), 2)
        self.assertEqual(str(out[0].subject), "Fair Verona")
        self.assertEqual(out[0]["from"], ROOM + "/romeo")
        joined = to(h.join(NURSE, "nurse"), NURSE)
        self.assertEqual(str(joined[-1].subject), "Fair Verona")
        self.assertEqual(joined[-1]["from"], ROOM + "/romeo")

    def test_participant_may_not_change_subject_by_default(self):
        [error] = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{ROOM}'>"
                                 "<subject>mine</subject></message>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_message_with_subject_and_body_is_a_message(self):
        out = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{ROOM}'>"
                             "<subject>x</subject><body>y</body></message>")
        self.assertEqual(len(out), 2)
        self.assertEqual(self.h.muc.rooms.room(ROOM).subject.text, "")

    def test_private_message_from_nick(self):
        [pm] = self.h.receive(f"<message xmlns='jabber:client' type='chat' id='p' from='{JULIET}' "
                              f"to='{ROOM}/romeo'><body>psst</body></message>")
        self.assertEqual((pm["to"], pm["from"], pm["id"], str(pm.body)),
                         (ROMEO, ROOM + "/juliet", "p", "psst"))

    def test_private_message_to_unknown_nick(self):
        [error] = self.h.receive(f"<message xmlns='jabber:client' type='chat' from='{JULIET}' "
                                 f"to='{ROOM}/tybalt'><body>?</body></message>")
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_iq_relayed_and_answer_routed_back(self):
        h = self.h
        [relayed] = h.receive(f"<iq xmlns='jabber:client' type='get' id='v1' from='{JULIET}' "
                              f"to='{ROOM}/romeo'><query xmlns='jabber:iq:version'/></iq>")
        self.assertEqual((relayed["to"], relayed["from"]), (ROMEO, ROOM + "/juliet"))
        self.assertNotEqual(relayed["id"], "v1")
        self.assertNotIn("juliet@example.org", relayed.toXml())
        [answer] = h.receive(f"<iq xmlns='jabber:client' type='result' id='{relayed['id']}' from='{ROMEO}' "
                             f"to='{ROOM}/juliet'><query xmlns='jabber:iq:version'><name>x</name></query></iq>")
        self.assertEqual((answer["to"], answer["from"], answer["id"]), (JULIET, ROOM + "/romeo", "v1"))

    def test_forged_answer_is_dropped(self):
        self.assertEqual(self.h.receive(f"<iq xmlns='jabber:client' type='result' id='bogus' "
                                        f"from='{ROMEO}' to='{ROOM}/juliet'/>"), [])

    def test_self_ping(self):
        [pong] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='sp' from='{JULIET}' "
                                f"to='{ROOM}/juliet'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual((pong["type"], pong["from"]), ("result", ROOM + "/juliet"))
        [error] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='sp' from='{NURSE}' "
                                 f"to='{ROOM}/juliet'><ping xmlns='urn:xmpp:ping'/></iq>")
        self.assertEqual(condition(error)[0], "not-acceptable")

    def test_nick_change(self):
        out = self.h.receive(f"<presence xmlns='jabber:client' from='{JULIET}' to='{ROOM}/jules'/>")
        went, came = to(out, ROMEO)
        self.assertEqual((went["type"], went["from"], codes(went)), ("unavailable", ROOM + "/juliet", ["303"]))
        self.assertEqual(items(went)[0]["nick"], "jules")
        self.assertEqual(came["from"], ROOM + "/jules")
        mine = to(out, JULIET)
        self.assertEqual(codes(mine[0]), ["303", "110"])
        self.assertEqual(codes(mine[1]), ["110"])

    def test_leave_and_last_out_destroys_temporary_room(self):
        h = self.h
        out = h.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{JULIET}' to='{ROOM}/juliet'>"
                        "<status>bye</status></presence>")
        self.assertEqual(codes(to(out, JULIET)[0]), ["110"])
        self.assertEqual(str(to(out, ROMEO)[0].status), "bye")
        self.assertEqual(items(to(out, ROMEO)[0])[0]["role"], "none")
        h.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{ROMEO}' to='{ROOM}/romeo'/>")
        self.assertNotIn(ROOM, h.muc.rooms)

    def test_error_presence_removes_with_333(self):
        out = self.h.receive(f"<presence xmlns='jabber:client' type='error' from='{JULIET}' to='{ROOM}'>"
                             "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                             "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Test error</text></error></presence>")
        [told] = to(out, ROMEO)
        self.assertEqual((told["type"], codes(told)), ("unavailable", ["333"]))
        self.assertEqual(str(told.status), "Kicked: service unavailable")

    def test_probe_from_occupant_and_outsider(self):
        [presence] = self.h.receive(f"<presence xmlns='jabber:client' type='probe' from='{JULIET}' to='{ROOM}/romeo'/>")
        self.assertEqual((presence["from"], presence.getAttribute("type")), (ROOM + "/romeo", None))
        [error] = self.h.receive(f"<presence xmlns='jabber:client' type='probe' from='{NURSE}' to='{ROOM}/romeo'/>")
        self.assertEqual(condition(error)[0], "not-acceptable")

    def test_destroy_tells_each_occupant(self):
        out = self.h.receive(f"<iq xmlns='jabber:client' type='set' id='d' from='{ROMEO}' to='{ROOM}'>"
                             "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy jid='elsewhere@x'>"
                             "<reason>gone</reason></destroy></query></iq>")
        juliet = to(out, JULIET)[0]
        destroy = next(muc_x(juliet).elements(MUC_USER, "destroy"))
        self.assertEqual((destroy["jid"], str(destroy.reason)), ("elsewhere@x", "gone"))
        self.assertEqual(codes(juliet), ["110"])
        self.assertEqual(to(out, ROMEO)[-1]["type"], "result")
        self.assertNotIn(ROOM, self.h.muc.rooms)

    def test_non_owner_cannot_destroy(self):
        [error] = self.h.receive(f"<iq xmlns='jabber:client' type='set' id='d' from='{JULIET}' to='{ROOM}'>"
                                 "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_room_disco_info(self):
        [info] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='i' from='{NURSE}' to='{ROOM}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        features = {f["var"] for f in info.query.elements() if f.name == "feature"}
        self.assertTrue({"http://jabber.org/protocol/muc", "muc_temporary", "muc_semianonymous",
                         "http://jabber.org/protocol/muc#self-ping-optimization"} <= features)

    def test_stanza_to_missing_room(self):
        [error] = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' "
                                 f"to='nowhere@{SERVICE}'><body>x</body></message>")
        self.assertEqual(condition(error)[0], "item-not-found")


def config_submit(who, fields, room=ROOM):
    body = "".join(f"<field var='{var}'><value>{value}</value></field>" for var, value in fields)
    return (f"<iq xmlns='jabber:client' type='set' id='cfg' from='{who}' to='{room}'>"
            "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
            f"{body}</x></query></iq>")


class ConfigurationTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def test_owner_gets_the_form(self):
        [reply] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='f' from='{ROMEO}' to='{ROOM}'>"
                                 "<query xmlns='http://jabber.org/protocol/muc#owner'/></iq>")
        form = next(reply.query.elements("jabber:x:data", "x"))
        fields = {f.getAttribute("var") for f in form.elements() if f.name == "field"}
        self.assertTrue({"FORM_TYPE", "muc#roomconfig_roomname", "muc#roomconfig_whois",
                         "muc#roomconfig_moderatedroom"} <= fields)

    def test_non_owner_may_not_configure(self):
        [error] = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='f' from='{JULIET}' to='{ROOM}'>"
                                 "<query xmlns='http://jabber.org/protocol/muc#owner'/></iq>")
        self.assertEqual(condition(error)[0], "forbidden")
        [error] = self.h.receive(config_submit(JULIET, [("muc#roomconfig_moderatedroom", "1")]))
        self.assertEqual(condition(error)[0], "forbidden")
        self.assertFalse(self.h.muc.rooms.room(ROOM).config.moderated)

    def test_change_is_announced_with_104(self):
        out = self.h.receive(config_submit(ROMEO, [("muc#roomconfig_moderatedroom", "1")]))
        self.assertEqual(to(out, ROMEO)[0]["type"], "result")
        notices = [s for s in out if s.name == "message"]
        self.assertEqual(sorted(s["to"] for s in notices), sorted([ROMEO, JULIET]))
        self.assertEqual(codes(notices[0]), ["104"])
        self.assertTrue(self.h.muc.rooms.room(ROOM).config.moderated)

    def test_whois_change_is_172_only(self):
        out = self.h.receive(config_submit(ROMEO, [("muc#roomconfig_whois", "anyone")]))
        self.assertEqual(codes([s for s in out if s.name == "message"][0]), ["172"])

    def test_invalid_value_changes_nothing(self):
        [error] = self.h.receive(config_submit(ROMEO, [("muc#roomconfig_moderatedroom", "1"),
                                                       ("muc#roomconfig_historylength", "-3")]))
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.assertFalse(self.h.muc.rooms.room(ROOM).config.moderated)

    def test_visitor_in_moderated_room_may_not_speak(self):
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_moderatedroom", "1")]))
        self.h.join(NURSE, "nurse")
        [error] = self.h.say(NURSE, "may I?")
        self.assertEqual(condition(error)[0], "forbidden")


def admin_set(who, item, room=ROOM, id="adm"):
    return (f"<iq xmlns='jabber:client' type='set' id='{id}' from='{who}' to='{room}'>"
            f"<query xmlns='http://jabber.org/protocol/muc#admin'>{item}</query></iq>")


def admin_get(who, attrs, room=ROOM):
    return (f"<iq xmlns='jabber:client' type='get' id='list' from='{who}' to='{room}'>"
            f"<query xmlns='http://jabber.org/protocol/muc#admin'><item {attrs}/></query></iq>")


class AdministrationTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def test_kick_with_reason_and_actor(self):
        out = self.h.receive(admin_set(ROMEO, "<item nick='juliet' role='none'><reason>Out!</reason></item>"))
        juliet = to(out, JULIET)[0]
        self.assertEqual((juliet["type"], codes(juliet)), ("unavailable", ["307", "110"]))
        item = first(muc_x(juliet), "item")
        self.assertEqual((item["role"], str(first(item, "reason")), first(item, "actor")["nick"]),
                         ("none", "Out!", "romeo"))
        romeo_view = to(out, ROMEO)
        self.assertEqual(codes(romeo_view[0]), ["307"])
        self.assertEqual(romeo_view[-1]["type"], "result")
        self.assertIsNone(self.h.muc.rooms.room(ROOM).occupant_by_nick("juliet"))

    def test_participant_may_not_kick(self):
        self.h.join(NURSE, "nurse")
        [error] = self.h.receive(admin_set(JULIET, "<item nick='nurse' role='none'/>"))
        self.assertEqual(condition(error)[0], "not-allowed")

    def test_ban_removes_with_301_and_refuses_rejoin(self):
        out = self.h.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='juliet@example.org'/>"))
        self.assertEqual(codes(to(out, JULIET)[0]), ["301", "110"])
        [error] = self.h.join(JULIET, "juliet")
        self.assertEqual(condition(error)[0], "forbidden")

    def test_membership_for_absent_user_is_announced_to_moderators(self):
        out = self.h.receive(admin_set(ROMEO, "<item affiliation='member' jid='rosaline@example.org'/>"))
        self.assertEqual([s.name for s in out], ["message", "iq"])
        notice = out[0]
        self.assertEqual(notice["to"], ROMEO)
        self.assertEqual(items(notice), [{"affiliation": "member", "jid": "rosaline@example.org"}])
        [listing] = self.h.receive(admin_get(ROMEO, "affiliation='member'"))
        self.assertEqual([dict(i.attributes) for i in listing.query.elements()],
                         [{"affiliation": "member", "jid": "rosaline@example.org"}])

    def test_member_list_forbidden_to_participant(self):
        [error] = self.h.receive(admin_get(JULIET, "affiliation='member'"))
        self.assertEqual(condition(error)[0], "forbidden")

    def test_voice_revoke_and_grant(self):
        out = self.h.receive(admin_set(ROMEO, "<item nick='juliet' role='visitor'/>"))
        self.assertEqual(items(to(out, JULIET)[0])[0]["role"], "visitor")
        [error] = self.h.say(JULIET, "hmm")
        self.assertEqual(condition(error)[0], "forbidden")
        self.h.receive(admin_set(ROMEO, "<item nick='juliet' role='participant'/>"))
        self.assertEqual(len(self.h.say(JULIET, "yes")), 2)

    def test_full_jid_is_jid_malformed(self):
        [error] = self.h.receive(admin_set(ROMEO, "<item affiliation='member' jid='a@b/c'/>"))
        self.assertEqual(condition(error)[0], "jid-malformed")

    def test_last_owner_cannot_step_down(self):
        [error] = self.h.receive(admin_set(ROMEO, "<item affiliation='none' jid='romeo@example.org'/>"))
        self.assertEqual(condition(error)[0], "conflict")

    def test_losing_membership_in_members_only_room_is_321(self):
        self.h.receive(admin_set(ROMEO, "<item affiliation='member' jid='juliet@example.org'/>"))
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_membersonly", "1")]))
        out = self.h.receive(admin_set(ROMEO, "<item affiliation='none' jid='juliet@example.org'/>"))
        self.assertEqual(codes(to(out, JULIET)[0]), ["321", "110"])

    def test_members_only_switch_removes_non_members_with_322(self):
        out = self.h.receive(config_submit(ROMEO, [("muc#roomconfig_membersonly", "1")]))
        juliet = to(out, JULIET)
        self.assertEqual((juliet[0]["type"], codes(juliet[0])), ("unavailable", ["322", "110"]))
        # The owner who stays sees her leave, without the 322 that clients
        # (poezio) take for their own removal; then the 104 notice.
        gone = [s for s in to(out, ROMEO) if s.name == "presence"]
        self.assertEqual([(s["from"], s["type"], codes(s)) for s in gone],
                         [(f"{ROOM}/juliet", "unavailable", [])])
        self.assertEqual(items(gone[0]), [{"affiliation": "none", "role": "none", "jid": JULIET}])
        notices = [s for s in to(out, ROMEO) if s.name == "message"]
        self.assertEqual([codes(s) for s in notices], [["104"]])
        [error] = self.h.join(JULIET, "juliet")
        self.assertEqual(condition(error)[0], "registration-required")


class PersistenceTests(unittest.TestCase):
    def test_persistent_room_survives_a_new_service(self):
        from mucsvc.storage import MemoryRoomStore

        store = MemoryRoomStore()
        h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock, store=store)
        h.wire = Wire(rooms=h.muc.handler)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1"),
                                        ("muc#roomconfig_roomname", "The Garden")]))
        h.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='tybalt@example.org'><reason>feud</reason></item>"))
        h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
                  "<subject>Verona</subject></message>")
        h.say(ROMEO, "remember me", id="r1")
        h.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{ROMEO}' to='{ROOM}/romeo'/>")
        self.assertIn(ROOM, h.muc.rooms)  # persistent: empty but kept

        again = Harness()
        again.muc = MUCService(SERVICE, again.sent.append, again.clock, store=store)
        again.wire = Wire(rooms=again.muc.handler)
        room = again.muc.rooms.room(ROOM)
        self.assertEqual(room.config.name, "The Garden")
        self.assertEqual(room.subject.text, "Verona")
        self.assertEqual(room.affiliation_data("tybalt@example.org")["reason"], "feud")
        [error] = again.join("tybalt@example.org/x", "tybalt")
        self.assertEqual(condition(error)[0], "forbidden")
        out = to(again.join(JULIET, "juliet"), JULIET)
        history = [s for s in out if s.name == "message" and s.body]
        self.assertEqual([str(s.body) for s in history], ["remember me"])
        self.assertEqual(codes(out[0]), ["110"])  # not a new room: no 201

    def test_destroying_a_persistent_room_deletes_it(self):
        from mucsvc.storage import MemoryRoomStore

        store = MemoryRoomStore()
        h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock, store=store)
        h.wire = Wire(rooms=h.muc.handler)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        self.assertEqual([r.jid for r in store.load_rooms()], [ROOM])
        h.receive(f"<iq xmlns='jabber:client' type='set' id='d' from='{ROMEO}' to='{ROOM}'>"
                  "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>")
        self.assertEqual(store.load_rooms(), [])


class RequestTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def invite(self, who, invitee, reason=""):
        reason_xml = f"<reason>{reason}</reason>" if reason else ""
        return self.h.receive(f"<message xmlns='jabber:client' id='inv' from='{who}' to='{ROOM}'>"
                              f"<x xmlns='http://jabber.org/protocol/muc#user'><invite to='{invitee}'>"
                              f"{reason_xml}</invite></x></message>")

    def test_invite_is_relayed_from_the_room_with_inviter_nick(self):
        [invite] = self.invite(JULIET, "nurse@example.org", "come")
        self.assertEqual((invite["to"], invite["from"], invite["id"]), ("nurse@example.org", ROOM, "inv"))
        element = first(muc_x(invite), "invite")
        self.assertEqual((element["from"], str(first(element, "reason"))), (ROOM + "/juliet", "come"))
        self.assertEqual(str(invite.body), f"{ROOM}/juliet invited you to the room {ROOM} (come)")
        conference = next(invite.elements("jabber:x:conference", "x"))
        self.assertEqual(conference["jid"], ROOM)

    def test_invite_carries_the_password(self):
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_roomsecret", "s3cret")]))
        [invite] = self.invite(ROMEO, "nurse@example.org")
        self.assertEqual(str(first(muc_x(invite), "password")), "s3cret")

    def test_members_only_invite_by_participant_is_forbidden_then_allowed_for_admins(self):
        self.h.receive(admin_set(ROMEO, "<item affiliation='member' jid='juliet@example.org'/>"))
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_membersonly", "1")]))
        [error] = self.invite(JULIET, "nurse@example.org")
        self.assertEqual(condition(error)[0], "forbidden")
        out = self.invite(ROMEO, "nurse@example.org")
        self.assertEqual(out[-1]["to"], "nurse@example.org")
        room = self.h.muc.rooms.room(ROOM)
        self.assertEqual(room.affiliation_of("nurse@example.org").value, "member")

    def test_decline_goes_back_to_the_inviter(self):
        [decline] = self.h.receive(
            f"<message xmlns='jabber:client' from='{NURSE}' to='{ROOM}'>"
            "<x xmlns='http://jabber.org/protocol/muc#user'><decline to='juliet@example.org'>"
            "<reason>busy</reason></decline></x></message>")
        self.assertEqual((decline["to"], decline["from"]), ("juliet@example.org", ROOM))
        self.assertEqual(first(muc_x(decline), "decline")["from"], NURSE)

    def test_voice_request_and_grant(self):
        h = self.h
        h.receive(config_submit(ROMEO, [("muc#roomconfig_moderatedroom", "1")]))
        h.join(NURSE, "nurse")
        out = h.receive(f"<message xmlns='jabber:client' from='{NURSE}' to='{ROOM}'>"
                        "<x xmlns='jabber:x:data' type='submit'>"
                        "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                        "<field var='muc#role'><value>participant</value></field></x></message>")
        [request] = out
        self.assertEqual(request["to"], ROMEO)
        form = next(request.elements("jabber:x:data", "x"))
        values = {f["var"]: str(first(f, "value")) for f in form.elements() if f.name == "field"}
        self.assertEqual((values["muc#jid"], values["muc#roomnick"]), (NURSE, "nurse"))
        out = h.receive(f"<message xmlns='jabber:client' from='{ROMEO}' to='{ROOM}'>"
                        "<x xmlns='jabber:x:data' type='submit'>"
                        "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field>"
                        f"<field var='muc#jid'><value>{NURSE}</value></field>"
                        "<field var='muc#request_allow'><value>true</value></field></x></message>")
        self.assertEqual(items(to(out, NURSE)[0])[0]["role"], "participant")
        self.assertEqual(len(h.say(NURSE, "thank you")), 3)


class ServiceKickTests(unittest.TestCase):
    def test_service_kick_has_no_actor_and_reaches_every_session(self):
        h = Harness()
        h.create()
        h.join(JULIET, "juliet")
        h.join("juliet@example.org/phone", "juliet")
        h.muc.app.kick(ROOM, "juliet", "Bye")
        out = stanzas_in(h.sent)
        mine = [s for s in out if s["to"].startswith("juliet@")]
        self.assertEqual(sorted(s["to"] for s in mine), sorted([JULIET, "juliet@example.org/phone"]))
        for s in mine:
            self.assertEqual((s["type"], codes(s)), ("unavailable", ["307", "110"]))
            item = first(muc_x(s), "item")
            self.assertEqual(str(first(item, "reason")), "Bye")
            self.assertEqual([c.name for c in item.elements()], ["reason"])
        [romeo] = to(out, ROMEO)
        self.assertEqual(codes(romeo), ["307"])

    def test_owner_can_be_kicked_by_the_service(self):
        h = Harness()
        h.create()
        h.muc.app.kick(ROOM, "romeo")
        self.assertNotIn(ROOM, h.muc.rooms)  # the last one out of a temporary room


class AffiliationListFormTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def submit_lists(self, owners, admins=None):
        fields = "".join(f"<value>{j}</value>" for j in owners)
        body = f"<field var='muc#roomconfig_roomowners'>{fields}</field>"
        if admins is not None:
            body += "<field var='muc#roomconfig_roomadmins'>" + "".join(
                f"<value>{j}</value>" for j in admins) + "</field>"
        return self.h.receive(
            f"<iq xmlns='jabber:client' type='set' id='cfg' from='{ROMEO}' to='{ROOM}'>"
            "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
            "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
            f"{body}</x></query></iq>")

    def test_owner_list_grants_and_occupant_is_told(self):
        out = self.submit_lists(["romeo@example.org", "juliet@example.org"], ["nurse@example.org"])
        room = self.h.muc.rooms.room(ROOM)
        self.assertEqual(room.affiliation_of("juliet@example.org").value, "owner")
        self.assertEqual(room.affiliation_of("nurse@example.org").value, "admin")
        self.assertEqual(to(out, ROMEO)[0]["type"], "result")
        told = [s for s in to(out, JULIET) if s.name == "presence"]
        self.assertEqual(items(told[-1])[0]["affiliation"], "owner")

    def test_empty_owner_list_is_refused_and_changes_nothing(self):
        [error] = self.submit_lists([])
        self.assertEqual(condition(error)[0], "not-acceptable")
        self.assertEqual(self.h.muc.rooms.room(ROOM).affiliation_of("romeo@example.org").value, "owner")


class ShutdownTests(unittest.TestCase):
    def test_stopping_the_service_tells_each_occupant_332(self):
        h = Harness()
        h.muc.startService()
        h.create()
        h.join(JULIET, "juliet")
        del h.sent[:]
        h.muc.stopService()
        out = stanzas_in(h.sent)
        self.assertEqual(sorted(s["to"] for s in out), sorted([ROMEO, JULIET]))
        for s in out:
            self.assertEqual((s["type"], codes(s)), ("unavailable", ["332", "110"]))
            self.assertEqual(items(s)[0]["role"], "none")


class LimitTests(unittest.TestCase):
    def harness(self, **limits):
        from mucsvc.rooms import ServiceLimits

        h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock, limits=ServiceLimits(**limits))
        h.wire = Wire(rooms=h.muc.handler)
        return h

    def test_flooding_occupant_is_told_and_others_are_not_slowed(self):
        h = self.harness(event_rate=1.0, burst_factor=3)  # 3 in hand, then 1 a second
        h.create()  # the join and the instant-room IQ (IQs are not counted)
        h.join(JULIET, "juliet")
        results = [h.say(ROMEO, f"m{n}", id=f"m{n}") for n in range(3)]
        self.assertEqual([len(r) for r in results], [2, 2, 1])
        [error] = results[-1]
        name, element = condition(error)
        self.assertEqual((name, element["type"]), ("policy-violation", "wait"))
        self.assertEqual(len(h.say(JULIET, "still here")), 2)  # her own bucket
        h.create(room=f"tomb@{SERVICE}")  # and Romeo's bucket for another room
        self.assertEqual(len(h.say(ROMEO, "elsewhere", room=f"tomb@{SERVICE}")), 1)
        h.clock.advance(1)
        self.assertEqual(len(h.say(ROMEO, "again")), 2)

    def test_leaving_is_never_throttled(self):
        h = self.harness(event_rate=0.1, burst_factor=10)
        h.create()
        for n in range(3):
            h.say(ROMEO, f"m{n}")
        out = h.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{ROMEO}' to='{ROOM}/romeo'/>")
        self.assertEqual(out[0]["type"], "unavailable")

    def test_long_body_and_large_message_are_refused(self):
        h = self.harness(max_chars=10, max_stanza_size=200)
        h.create()
        [error] = h.say(ROMEO, "x" * 11)
        self.assertEqual(condition(error)[0], "policy-violation")
        self.assertIn("too long", str(first(first(error, "error"), "text")))
        [error] = h.say(ROMEO, "short", extra="<x xmlns='urn:example:big'>" + "y" * 300 + "</x>")
        self.assertIn("too large", str(first(first(error, "error"), "text")))
        self.assertEqual(len(h.muc.rooms.room(ROOM).history), 0)


def default_limits():
    """The limits ``twistd muc`` runs with when the file sets none."""
    from mucsvc.config import parse_config
    from mucsvc.settings import service_limits

    return service_limits(parse_config({"jid": SERVICE, "component_secret": "x",
                                        "http_muc_kick_authorization_header": "Bearer k"},
                                       environ={}))


CHAT_STATES = "http://jabber.org/protocol/chatstates"


class DefaultLimitTests(unittest.TestCase):
    """What real clients send, under the default limits: nobody typing or
    pasting meets them, a flood does."""

    def setUp(self):
        h = self.h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock, limits=default_limits())
        h.wire = Wire(rooms=h.muc.handler)
        h.create()
        h.join(JULIET, "juliet")

    def chat_state(self, who, state="composing", id="cs"):
        return self.h.receive(f"<message xmlns='jabber:client' type='groupchat' id='{id}' "
                              f"from='{who}' to='{ROOM}'><{state} xmlns='{CHAT_STATES}'/></message>")

    def test_a_pasted_block_with_a_chat_state_before_each_line_is_all_delivered(self):
        # poezio: <composing/> before every line, each line with <active/>.
        for n in range(25):
            states = self.chat_state(ROMEO, id=f"cs{n}")
            self.assertEqual([s.getAttribute("type") for s in states], ["groupchat", "groupchat"])
            line = self.h.say(ROMEO, f"line {n}", id=f"l{n}",
                              extra=f"<active xmlns='{CHAT_STATES}'/>")
            self.assertEqual(sorted((s["to"], s["type"]) for s in line),
                             [(JULIET, "groupchat"), (ROMEO, "groupchat")])
        # And a second paste a few seconds later still goes out whole.
        self.h.clock.advance(5)
        for n in range(25):
            self.chat_state(ROMEO, id=f"cs2-{n}")
            self.assertEqual(len(self.h.say(ROMEO, f"more {n}", id=f"m{n}")), 2)

    def test_a_flood_of_messages_is_refused_with_the_id_and_body_of_each(self):
        out = [self.h.say(ROMEO, f"spam {n}", id=f"s{n}") for n in range(200)]
        delivered = sum(1 for r in out if len(r) == 2)
        self.assertEqual(delivered, 59)  # 60 in hand, the join took one
        refused = [r[0] for r in out if len(r) == 1]
        self.assertEqual(len(refused), 141)
        for n, error in enumerate(refused, start=delivered):
            self.assertEqual((error["type"], error["id"], error["to"], error["from"]),
                             ("error", f"s{n}", ROMEO, ROOM))
            name, element = condition(error)
            self.assertEqual((name, element["type"]), ("policy-violation", "wait"))
            self.assertEqual(str(first(error, "body")), f"spam {n}")
        # Juliet's budget is her own; Romeo's comes back at one a second.
        self.assertEqual(len(self.h.say(JULIET, "still here")), 2)
        self.h.clock.advance(1)
        self.assertEqual(len(self.h.say(ROMEO, "calmer", id="c1")), 2)
        self.assertEqual(len(self.h.say(ROMEO, "too soon", id="c2")), 1)

    def test_a_flood_of_chat_states_is_refused_without_spending_the_messages(self):
        out = [self.chat_state(ROMEO, id=f"cs{n}") for n in range(100)]
        self.assertEqual(sum(1 for r in out if len(r) == 2), 60)
        errors = [r[0] for r in out if len(r) == 1]
        self.assertEqual(len(errors), 40)
        self.assertEqual(errors[0]["id"], "cs60")
        self.assertEqual(condition(errors[0])[0], "policy-violation")
        self.assertEqual(list(errors[0].elements(None, "body")), [])
        self.assertEqual(len(self.h.say(ROMEO, "words still go out")), 2)

    def test_joins_from_many_bookmarked_rooms_at_once_are_not_limited(self):
        rooms = [f"room{n}@{SERVICE}" for n in range(20)]
        for room in rooms:
            self.h.create(who=JULIET, nick="juliet", room=room)
        for room in rooms:  # a reconnect: leave-less rejoin of every room, at once
            out = self.h.join(NURSE, "nurse", room=room)
            self.assertIn("110", [c for s in to(out, NURSE) if s.name == "presence"
                                  for c in codes(s)], out)


class LimitEdgeTests(unittest.TestCase):
    def test_long_subject_and_large_invitation_are_refused(self):
        from mucsvc.rooms import ServiceLimits

        h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock,
                           limits=ServiceLimits(max_chars=10, max_stanza_size=300))
        h.wire = Wire(rooms=h.muc.handler)
        h.create()
        [error] = h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
                            f"<subject>{'s' * 11}</subject></message>")
        self.assertEqual(condition(error)[0], "policy-violation")
        self.assertEqual(h.muc.rooms.room(ROOM).subject.text, "")
        [error] = h.receive(f"<message xmlns='jabber:client' from='{ROMEO}' to='{ROOM}'>"
                            "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='nurse@example.org'>"
                            f"<reason>{'r' * 400}</reason></invite></x></message>")
        self.assertEqual((error["to"], condition(error)[0]), (ROMEO, "policy-violation"))


class HistoricTests(unittest.TestCase):
    def test_what_goes_into_history(self):
        from mucsvc.protocol.room_messages import is_historic
        from tests.helpers import stanza

        def historic(children):
            return is_historic(stanza(f"<message xmlns='jabber:client' type='groupchat'>{children}</message>"))

        self.assertTrue(historic("<body>x</body>"))
        self.assertFalse(historic("<body>x</body><no-store xmlns='urn:xmpp:hints'/>"))
        self.assertFalse(historic("<no-permanent-store xmlns='urn:xmpp:hints'/><body>x</body>"))
        self.assertTrue(historic("<store xmlns='urn:xmpp:hints'/>"))
        self.assertTrue(historic("<encryption xmlns='urn:xmpp:eme:0'/>"))
        self.assertTrue(historic("<displayed xmlns='urn:xmpp:chat-markers:0'/>"))
        self.assertFalse(historic("<active xmlns='http://jabber.org/protocol/chatstates'/>"))
