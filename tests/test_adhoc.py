"""Ad-hoc commands on the service JID: the admins' "Destroy Rooms"."""

from twisted.internet.task import Clock
from twisted.trial import unittest

from mucsvc.muc import MUCService
from mucsvc.protocol.adhoc import NS_COMMANDS, AdHocCommands
from mucsvc.protocol.service_commands import DESTROY_NODE, destroy_rooms_command
from tests.helpers import SERVICE, Wire, stanzas_in

ADMIN = "admin@example.org/console"
ROMEO = "romeo@example.org/balcony"


class DestroyCommandTests(unittest.TestCase):
    def setUp(self):
        self.sent = []
        clock = Clock()
        self.muc = MUCService(SERVICE, self.sent.append, clock, admins=["admin@example.org"])
        self.wire = Wire(rooms=self.muc.handler)
        commands = AdHocCommands(self.sent.append, SERVICE, self.muc.is_admin)
        commands.add(destroy_rooms_command(self.muc))
        service = self.wire.service
        service.extra_features.append(NS_COMMANDS)
        service.iq_handlers[(NS_COMMANDS, "command")] = commands.handle
        service.item_nodes[NS_COMMANDS] = commands.items
        self.receive(f"<presence xmlns='jabber:client' from='{ROMEO}' to='garden@{SERVICE}/romeo'>"
                     "<x xmlns='http://jabber.org/protocol/muc'/></presence>")

    def receive(self, xml):
        self.wire.receive(xml)
        out = stanzas_in(self.sent + self.wire.take())
        del self.sent[:]
        return out

    def command(self, who, form=""):
        return self.receive(f"<iq xmlns='jabber:client' type='set' id='c' from='{who}' to='{SERVICE}'>"
                            f"<command xmlns='{NS_COMMANDS}' node='{DESTROY_NODE}'>{form}</command></iq>")

    def test_commands_listed_for_admins_only(self):
        query = f"<query xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/>"
        [listing] = self.receive(f"<iq xmlns='jabber:client' type='get' id='l' from='{ADMIN}' to='{SERVICE}'>{query}</iq>")
        self.assertEqual([i["node"] for i in listing.query.elements()], [DESTROY_NODE])
        [listing] = self.receive(f"<iq xmlns='jabber:client' type='get' id='l' from='{ROMEO}' to='{SERVICE}'>{query}</iq>")
        self.assertEqual(list(listing.query.elements()), [])

    def test_non_admin_is_forbidden(self):
        [error] = self.command(ROMEO)
        self.assertEqual(error["type"], "error")
        self.assertIn("forbidden", error.toXml())
        self.assertIn(f"garden@{SERVICE}", self.muc.rooms)

    def test_without_form_returns_the_room_list(self):
        [reply] = self.command(ADMIN)
        command = reply.command
        self.assertEqual(command["status"], "executing")
        self.assertIn(f"garden@{SERVICE}", command.toXml())

    def test_destroys_the_rooms_and_tells_occupants(self):
        form = ("<x xmlns='jabber:x:data'><field var='rooms'>"
                f"<value>garden@{SERVICE}</value><value>nowhere@{SERVICE}</value></field></x>")
        out = self.command(ADMIN, form)
        gone, reply = out
        self.assertEqual((gone["to"], gone["type"]), (ROMEO, "unavailable"))
        note = reply.command.note
        self.assertEqual((reply.command["status"], note["type"], str(note)),
                         ("completed", "info", f"The following rooms were destroyed:\ngarden@{SERVICE}"))
        self.assertNotIn(f"garden@{SERVICE}", self.muc.rooms)


class AnotherProcessesRoomTests(DestroyCommandTests):
    """With several processes, a room another serves (its copy here read
    from the database) is neither offered nor destroyed here."""

    def setUp(self):
        super().setUp()
        self.receive(f"<presence xmlns='jabber:client' from='{ROMEO}' to='attic@{SERVICE}/romeo'>"
                     "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        commands = AdHocCommands(self.sent.append, SERVICE, self.muc.is_admin)
        commands.add(destroy_rooms_command(self.muc, lambda jid: jid == f"attic@{SERVICE}"))
        self.wire.service.iq_handlers[(NS_COMMANDS, "command")] = commands.handle

    def test_only_this_processs_rooms_are_offered_and_destroyed(self):
        [reply] = self.command(ADMIN)
        self.assertIn(f"garden@{SERVICE}", reply.command.toXml())
        self.assertNotIn(f"attic@{SERVICE}", reply.command.toXml())
        form = ("<x xmlns='jabber:x:data' type='submit'><field var='rooms'>"
                f"<value>attic@{SERVICE}</value><value>garden@{SERVICE}</value></field></x>")
        out = self.command(ADMIN, form)
        self.assertIn(f"attic@{SERVICE}", self.muc.rooms)
        self.assertNotIn(f"garden@{SERVICE}", self.muc.rooms)
        [done] = [s for s in out if s.name == "iq"]
        self.assertNotIn(f"attic@{SERVICE}", done.toXml())
