"""Input a client should not send, answered once and without harm."""

from twisted.trial import unittest

from tests.test_rooms_protocol import (
    JULIET, ROMEO, ROOM, Harness, admin_set, condition, config_submit, to,
)

DEEP = 1500  # past Python's recursion limit


def nested(depth: int) -> str:
    return "<a xmlns='urn:example:deep'>" * depth + "x" + "</a>" * depth


class DeepNestingTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def assertRefusedOnce(self, out, kind, sender):
        [error] = out
        self.assertEqual((error.name, error["type"], error["to"]), (kind, "error", sender))
        self.assertEqual(condition(error)[0], "policy-violation")
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_a_deep_groupchat_message_is_refused_and_nobody_else_hears_of_it(self):
        out = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' "
                             f"to='{ROOM}'><body>hi</body>{nested(DEEP)}</message>")
        self.assertRefusedOnce(out, "message", JULIET)
        self.assertEqual(len(self.h.muc.rooms.room(ROOM).history), 0)

    def test_a_deep_join_is_refused_and_nobody_joins(self):
        out = self.h.receive(f"<presence xmlns='jabber:client' from='paris@example.org/x' "
                             f"to='{ROOM}/paris'><x xmlns='http://jabber.org/protocol/muc'/>"
                             f"{nested(DEEP)}</presence>")
        self.assertRefusedOnce(out, "presence", "paris@example.org/x")
        self.assertIsNone(self.h.muc.rooms.room(ROOM).occupant_by_nick("paris"))

    def test_a_deep_iq_to_an_occupant_is_answered_once(self):
        out = self.h.receive(f"<iq xmlns='jabber:client' type='get' id='v' from='{JULIET}' "
                             f"to='{ROOM}/romeo'><query xmlns='jabber:iq:version'>"
                             f"{nested(DEEP)}</query></iq>")
        self.assertRefusedOnce(out, "iq", JULIET)

    def test_moderate_nesting_is_reflected_as_it_came(self):
        out = self.h.receive(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' "
                             f"to='{ROOM}'><body>hi</body>{nested(50)}</message>")
        self.assertEqual(len(to(out, ROMEO)), 1)
        self.assertIn("x", to(out, ROMEO)[0].toXml())


class ForgedElementTests(unittest.TestCase):
    def test_what_only_the_room_may_say_is_stripped_from_groupchat(self):
        h = Harness()
        h.create()
        h.join(JULIET, "juliet")
        out = h.receive(
            f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{ROOM}'>"
            "<body>hi</body>"
            "<x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x>"
            f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='forged'/>"
            "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.org' id='hers'/>"
            f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='2000-01-01T00:00:00Z'/>"
            "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>")
        [reflected] = to(out, ROMEO)
        xml = reflected.toXml()
        self.assertNotIn("muc#user", xml)
        self.assertNotIn("forged", xml)
        self.assertNotIn("2000-01-01", xml)
        self.assertIn("hers", xml)


class JidTests(unittest.TestCase):
    def test_an_empty_localpart_bans_nobody(self):
        h = Harness()
        h.create()
        [error] = h.receive(admin_set(ROMEO, "<item affiliation='outcast' jid='@example.org'/>"))
        self.assertEqual(condition(error)[0], "jid-malformed")
        self.assertEqual(dict(h.muc.rooms.room(ROOM).affiliations), {"romeo@example.org":
                                                                   h.muc.rooms.room(ROOM).affiliation_of(ROMEO)})
        self.assertEqual(len(to(h.join(JULIET, "juliet"), JULIET)), 3)

    def test_empty_localparts_in_the_owner_list_are_refused(self):
        h = Harness()
        h.create()
        [error] = h.receive(config_submit(ROMEO, [("muc#roomconfig_roomadmins", "@example.org")]))
        self.assertEqual(condition(error)[0], "not-acceptable")


class HugeNumberTests(unittest.TestCase):
    def test_a_number_of_thousands_of_digits_is_not_acceptable(self):
        h = Harness()
        h.create()
        for var in ("muc#roomconfig_historylength", "muc#roomconfig_maxusers"):
            [error] = h.receive(config_submit(ROMEO, [(var, "9" * 5000)]))
            self.assertEqual(condition(error)[0], "not-acceptable", var)
            self.assertLess(len(error.toXml()), 1000)
        self.assertEqual(self.flushLoggedErrors(), [])


class RoomsPerUserTests(unittest.TestCase):
    def test_one_user_cannot_take_every_room(self):
        from mucsvc.muc import MUCService
        from mucsvc.rooms import ServiceLimits
        from tests.helpers import SERVICE, Wire

        h = Harness()
        h.muc = MUCService(SERVICE, h.sent.append, h.clock,
                           limits=ServiceLimits(max_rooms_per_user=3, max_rooms=1000))
        h.wire = Wire(rooms=h.muc.handler)
        for i in range(3):
            h.create(room=f"r{i}@{SERVICE}")
        [refused] = h.join(ROMEO, "romeo", room=f"r3@{SERVICE}")
        self.assertEqual((refused["type"], condition(refused)[0]), ("error", "policy-violation"))
        self.assertNotIn(f"r3@{SERVICE}", h.muc.rooms)
        self.assertEqual(h.muc.rooms.refused["per_user"], 1)
        # Someone else still can.
        self.assertIn(f"r3@{SERVICE}", [s["from"].split("/")[0] for s in h.join(JULIET, "juliet", room=f"r3@{SERVICE}")])
        self.assertIn(f"r3@{SERVICE}", h.muc.rooms)


class LogExcerptTests(unittest.TestCase):
    def test_any_stanza_is_logged_in_a_few_hundred_characters(self):
        from mucsvc.protocol.router import _excerpt
        from tests.helpers import stanza

        deep = stanza(f"<message xmlns='jabber:client' to='{ROOM}'>{nested(5000)}</message>")
        wide = stanza(f"<message xmlns='jabber:client' to='{ROOM}'><body>{'x' * 100000}</body></message>")
        for big in (deep, wide):
            text = _excerpt(big)
            self.assertLessEqual(len(text), 301)
            self.assertTrue(text.startswith("<message") and text.endswith("…"))
        small = stanza("<message xmlns='jabber:client' to='a@b'><body>a &amp; b</body></message>")
        self.assertEqual(_excerpt(small), '<message to="a@b"><body>a &amp; b</body></message>')
