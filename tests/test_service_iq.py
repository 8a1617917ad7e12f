"""IQs to the service JID: disco, ping, version, and errors for the rest."""

from twisted.trial import unittest

from tests.helpers import SERVICE, Wire

NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"


def iq(body, type="get", to=SERVICE, id="q1"):
    return f"<iq xmlns='jabber:client' type='{type}' id='{id}' from='user@example.org/r' to='{to}'>{body}</iq>"


class ServiceIQTests(unittest.TestCase):
    def setUp(self):
        self.wire = Wire()

    def reply(self, xml):
        self.wire.receive(xml)
        sent = self.wire.take()
        self.assertEqual(len(sent), 1, [s.toXml() for s in sent])
        return sent[0]

    def test_disco_info(self):
        reply = self.reply(iq(f"<query xmlns='{NS_DISCO_INFO}'/>"))
        self.assertEqual((reply["type"], reply["id"], reply["to"], reply["from"]),
                         ("result", "q1", "user@example.org/r", SERVICE))
        query = reply.query
        identities = [(i["category"], i["type"]) for i in query.elements(NS_DISCO_INFO, "identity")]
        features = {f["var"] for f in query.elements(NS_DISCO_INFO, "feature")}
        self.assertEqual(identities, [("conference", "text")])
        self.assertEqual(features, {
            NS_DISCO_INFO, "http://jabber.org/protocol/disco#items",
            "http://jabber.org/protocol/muc", "urn:xmpp:ping", "jabber:iq:version"})

    def test_disco_info_unknown_node(self):
        reply = self.reply(iq(f"<query xmlns='{NS_DISCO_INFO}' node='x'/>"))
        self.assertEqual(reply["type"], "error")
        self.assertTrue(reply.error.firstChildElement().name == "item-not-found")

    def test_disco_items_lists_public_rooms(self):
        self.wire.service.public_rooms = lambda: [("lobby@" + SERVICE, "The Lobby")]
        reply = self.reply(iq("<query xmlns='http://jabber.org/protocol/disco#items'/>"))
        items = [(i["jid"], i.getAttribute("name")) for i in reply.query.elements()]
        self.assertEqual(items, [("lobby@" + SERVICE, "The Lobby")])

    def test_ping(self):
        reply = self.reply(iq("<ping xmlns='urn:xmpp:ping'/>"))
        self.assertEqual(reply["type"], "result")
        self.assertIsNone(reply.firstChildElement())

    def test_version(self):
        reply = self.reply(iq("<query xmlns='jabber:iq:version'/>"))
        fields = {child.name: str(child) for child in reply.query.elements()}
        self.assertEqual(fields, {"name": "mucsvc", "version": "1.2.3"})

    def test_unknown_get_and_set_are_service_unavailable(self):
        for kind in ("get", "set"):
            reply = self.reply(iq("<query xmlns='urn:example:nothing'/>", type=kind))
            self.assertEqual(reply["type"], "error")
            self.assertEqual(reply.error.firstChildElement().name, "service-unavailable")

    def test_empty_iq_is_service_unavailable(self):
        reply = self.reply(iq(""))
        self.assertEqual(reply.error.firstChildElement().name, "service-unavailable")

    def test_results_and_errors_get_no_reply(self):
        for kind in ("result", "error"):
            self.wire.receive(iq("", type=kind))
        self.assertEqual(self.wire.take(), [])

    def test_message_to_service_gets_error_but_error_message_does_not(self):
        self.wire.receive(f"<message xmlns='jabber:client' from='u@example.org/r' to='{SERVICE}'><body>hi</body></message>")
        self.assertEqual(self.wire.take()[0].error.firstChildElement().name, "service-unavailable")
        self.wire.receive(f"<message xmlns='jabber:client' type='error' from='u@example.org/r' to='{SERVICE}'/>")
        self.assertEqual(self.wire.take(), [])

    def test_added_feature_and_handler(self):
        self.wire.service.extra_features.append("urn:example:extra")
        self.wire.service.iq_handlers[("urn:example:extra", "do")] = (
            lambda stanza, recipient: None)
        reply = self.reply(iq(f"<query xmlns='{NS_DISCO_INFO}'/>"))
        self.assertIn("urn:example:extra", {f["var"] for f in reply.query.elements()
                                            if f.name == "feature"})
        self.wire.receive(iq("<do xmlns='urn:example:extra'/>", type="set"))
        self.assertEqual(self.wire.take(), [])


class RouterTests(unittest.TestCase):
    def test_handler_exception_is_answered_and_logged(self):
        class Broken:
            def handle(self, stanza, recipient):
                raise RuntimeError("boom")

        wire = Wire(rooms=Broken())
        wire.receive(iq("<query xmlns='urn:x'/>", to="room@" + SERVICE))
        [reply] = wire.take()
        self.assertEqual(reply.error.firstChildElement().name, "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        # the stream keeps working
        wire.receive(iq("<ping xmlns='urn:xmpp:ping'/>"))
        self.assertEqual(wire.take()[0]["type"], "result")

    def test_rooms_absent_means_item_not_found(self):
        wire = Wire()
        wire.receive(iq("<query xmlns='urn:x'/>", to="room@" + SERVICE))
        self.assertEqual(wire.take()[0].error.firstChildElement().name, "item-not-found")

    def test_room_stanzas_reach_rooms_handler_with_parsed_recipient(self):
        seen = []

        class Rooms:
            def handle(self, stanza, recipient):
                seen.append((stanza.name, recipient.user, recipient.resource))

        wire = Wire(rooms=Rooms())
        wire.receive(f"<presence xmlns='jabber:client' from='u@example.org/r' to='Room@{SERVICE}/Nick'/>")
        self.assertEqual(seen, [("presence", "room", "Nick")])

    def test_other_domain_is_jid_malformed(self):
        wire = Wire()
        wire.receive(iq("<ping xmlns='urn:xmpp:ping'/>", to="elsewhere.example.org"))
        self.assertEqual(wire.take()[0].error.firstChildElement().name, "jid-malformed")

    def test_service_jid_with_resource_is_service_unavailable(self):
        wire = Wire()
        wire.receive(iq("<ping xmlns='urn:xmpp:ping'/>", to=SERVICE + "/x"))
        self.assertEqual(wire.take()[0].error.firstChildElement().name, "service-unavailable")


class RecipientParsingTests(unittest.TestCase):
    def test_unpreppable_nick_is_handed_on_raw(self):
        from mucsvc.protocol.router import parse_recipient

        recipient = parse_recipient("Room@muc.example.org/\U0001F916")
        self.assertEqual((recipient.userhost(), recipient.resource), ("room@muc.example.org", "\U0001F916"))
        self.assertIsNone(parse_recipient("bad@@host/x"))
        self.assertEqual(parse_recipient("room@muc.example.org/Nick").resource, "Nick")
