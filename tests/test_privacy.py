"""In a semi-anonymous room no real JID reaches a participant, whatever path
the stanza takes: presence, groupchat, private messages, relayed IQs and
their answers, invitations, errors, subject, history, nick changes, kicks."""

from twisted.trial import unittest

from tests.test_rooms_protocol import (
    JULIET, NURSE, ROMEO, ROOM, Harness, admin_set, config_submit,
)

# Juliet (a participant) must never learn these.
SECRETS = ("romeo@example.org", "nurse@example.org", "balcony", "kitchen")


class SemiAnonymousRoomTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.seen_by_juliet = []

    def send(self, xml):
        out = self.h.receive(xml)
        self.seen_by_juliet += [s for s in out if (s.getAttribute("to") or "").startswith("juliet@")]
        return out

    def assert_no_leak(self):
        self.assertTrue(self.seen_by_juliet)
        for stanza in self.seen_by_juliet:
            xml = stanza.toXml()
            for secret in SECRETS:
                self.assertNotIn(secret, xml, xml)

    def test_every_path(self):
        room = ROOM
        self.send(f"<presence xmlns='jabber:client' from='{JULIET}' to='{room}/juliet'>"
                  "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        self.send(f"<presence xmlns='jabber:client' from='{NURSE}' to='{room}/nurse'>"
                  "<x xmlns='http://jabber.org/protocol/muc'/><status>hello</status></presence>")
        self.send(f"<message xmlns='jabber:client' type='groupchat' id='g' from='{ROMEO}' to='{room}'><body>hi</body></message>")
        self.send(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{room}'><subject>s</subject></message>")
        self.send(f"<message xmlns='jabber:client' type='chat' id='p' from='{NURSE}' to='{room}/juliet'><body>psst</body></message>")
        # an IQ from the nurse to Juliet, and Juliet's answer
        relayed = [s for s in self.send(
            f"<iq xmlns='jabber:client' type='get' id='v' from='{NURSE}' to='{room}/juliet'>"
            "<query xmlns='jabber:iq:version'/></iq>") if s.name == "iq"]
        self.assertEqual(len(relayed), 1)
        self.send(f"<iq xmlns='jabber:client' type='result' id='{relayed[0]['id']}' from='{JULIET}' "
                  f"to='{room}/nurse'><query xmlns='jabber:iq:version'/></iq>")
        # Juliet asks the romeo occupant something; it answers with an error
        relayed = [s for s in self.send(
            f"<iq xmlns='jabber:client' type='get' id='w' from='{JULIET}' to='{room}/romeo'>"
            "<query xmlns='jabber:iq:version'/></iq>") if s.name == "iq"]
        self.send(f"<iq xmlns='jabber:client' type='error' id='{relayed[0]['id']}' from='{ROMEO}' "
                  f"to='{room}/juliet'><error type='cancel'><service-unavailable "
                  "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        # invitation by the nurse to Juliet's account
        self.send(f"<message xmlns='jabber:client' from='{NURSE}' to='{room}'>"
                  "<x xmlns='http://jabber.org/protocol/muc#user'><invite to='juliet@example.org'/></x></message>")
        # nick changes, probes, errors Juliet triggers, a kick, a late joiner's history
        self.send(f"<presence xmlns='jabber:client' from='{NURSE}' to='{room}/angelica'/>")
        self.send(f"<presence xmlns='jabber:client' type='probe' from='{JULIET}' to='{room}/romeo'/>")
        self.send(f"<presence xmlns='jabber:client' from='{JULIET}' to='{room}/romeo'/>")  # conflict
        self.send(f"<message xmlns='jabber:client' type='chat' from='{JULIET}' to='{room}/nobody'><body>x</body></message>")
        self.send(admin_set(ROMEO, "<item nick='angelica' role='none'><reason>out</reason></item>"))
        self.send(f"<message xmlns='jabber:client' type='groupchat' from='{JULIET}' to='{room}'><body>me</body></message>")
        self.send(config_submit(ROMEO, [("muc#roomconfig_roomname", "Garden")]))
        self.send(f"<presence xmlns='jabber:client' type='unavailable' from='{JULIET}' to='{room}/juliet'/>")
        self.send(f"<presence xmlns='jabber:client' from='{JULIET}' to='{room}/juliet'>"
                  "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        self.assert_no_leak()

    def test_moderators_do_see_real_jids(self):
        out = self.h.join(JULIET, "juliet")
        told = [s for s in out if s["to"] == ROMEO]
        self.assertIn(JULIET, told[0].toXml())
