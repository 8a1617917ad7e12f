"""The admins' hat commands on the service JID (Prosody's mod_muc_hats_adhoc nodes)."""

from twisted.trial import unittest

from mucsvc.hats.commands import ADD_NODE, REMOVE_NODE, hat_commands
from mucsvc.protocol.adhoc import NS_COMMANDS, AdHocCommands
from mucsvc.protocol.service_commands import DESTROY_NODE, destroy_rooms_command
from tests.helpers import SERVICE
from tests.test_hats import JULIET_BARE, TEACHER, Service, hats_of, presences_from
from tests.test_rooms_protocol import JULIET, NURSE, ROMEO, ROOM

ADMIN = "admin@example.org/console"


def form(**values):
    fields = "".join(f"<field var='{var}'><value>{value}</value></field>" for var, value in values.items())
    return f"<x xmlns='jabber:x:data' type='submit'>{fields}</x>"


class HatCommandTests(unittest.TestCase):
    def setUp(self):
        self.s = Service()
        self.s.muc.rooms.admins.add("admin@example.org")
        commands = AdHocCommands(self.s.sent.append, SERVICE, self.s.muc.is_admin)
        commands.add(destroy_rooms_command(self.s.muc))
        for command in hat_commands(self.s.hats):
            commands.add(command)
        service = self.s.wire.service
        service.extra_features.append(NS_COMMANDS)
        service.iq_handlers[(NS_COMMANDS, "command")] = commands.handle
        service.item_nodes[NS_COMMANDS] = commands.items
        self.s.create()
        self.s.join(JULIET, "juliet")
        self.s.take()

    def command(self, who, node, content=""):
        return self.s.receive(f"<iq xmlns='jabber:client' type='set' id='c' from='{who}' to='{SERVICE}'>"
                              f"<command xmlns='{NS_COMMANDS}' node='{node}'>{content}</command></iq>")

    def completed(self, out):
        [reply] = [s for s in out if s.name == "iq"]
        self.assertEqual((reply["type"], reply.command["status"]), ("result", "completed"))
        note = reply.command.note
        return note["type"], str(note)

    def hats(self):
        return self.successResultOf(self.s.hats.get_user_hats(JULIET_BARE, ROOM))

    def test_listed_for_admins_only(self):
        query = f"<query xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/>"
        [listing] = self.s.receive(
            f"<iq xmlns='jabber:client' type='get' id='l' from='{ADMIN}' to='{SERVICE}'>{query}</iq>")
        self.assertEqual({(i["node"], i["name"]) for i in listing.query.elements()}, {
            (DESTROY_NODE, "Destroy Rooms"),
            (ADD_NODE, "Add hat to a user"),
            (REMOVE_NODE, "Remove hat from a user"),
        })
        [listing] = self.s.receive(
            f"<iq xmlns='jabber:client' type='get' id='l' from='{NURSE}' to='{SERVICE}'>{query}</iq>")
        self.assertEqual(list(listing.query.elements()), [])

    def test_non_admins_are_forbidden_even_room_owners(self):
        for node in (ADD_NODE, REMOVE_NODE):
            [error] = self.command(ROMEO, node, form(user=JULIET_BARE, room=ROOM, uri=TEACHER))
            self.assertEqual(error["type"], "error")
            self.assertIn("forbidden", error.toXml())
        self.assertEqual(self.hats(), {})

    def test_add_without_a_form_returns_prosodys_form(self):
        [reply] = self.command(ADMIN, ADD_NODE)
        self.assertEqual(reply.command["status"], "executing")
        x = next(reply.command.elements("jabber:x:data", "x"))
        fields = {f["var"]: (f.getAttribute("type"), any(c.name == "required" for c in f.elements()))
                  for f in x.elements("jabber:x:data", "field") if f["var"] != "FORM_TYPE"}
        self.assertEqual(fields, {"user": ("jid-single", True), "room": ("jid-single", True),
                                  "title": ("text-single", False), "uri": ("text-single", True)})

    def test_remove_form_has_no_title(self):
        [reply] = self.command(ADMIN, REMOVE_NODE)
        x = next(reply.command.elements("jabber:x:data", "x"))
        self.assertEqual({f["var"] for f in x.elements("jabber:x:data", "field")} - {"FORM_TYPE"},
                         {"user", "room", "uri"})

    def test_add_gives_an_active_required_hat_and_shows_it(self):
        out = self.command(ADMIN, ADD_NODE, form(user=JULIET_BARE, room=ROOM, title="Teacher", uri=TEACHER))
        self.assertEqual(self.completed(out), ("info", "The hat has been added successfully"))
        self.assertEqual(self.hats(), {TEACHER: {"active": True, "required": True, "title": "Teacher"}})
        juliet = presences_from(out, "juliet")
        self.assertEqual(sorted(s["to"] for s in juliet), sorted([ROMEO, JULIET]))
        for stanza in juliet:
            self.assertEqual(hats_of(stanza), [(TEACHER, "Teacher")])

    def test_add_without_title(self):
        out = self.command(ADMIN, ADD_NODE, form(user=JULIET_BARE, room=ROOM, uri=TEACHER))
        self.assertEqual(self.completed(out)[0], "info")
        self.assertEqual(self.hats(), {TEACHER: {"active": True, "required": True}})

    def test_remove_takes_it_off_and_shows_that(self):
        self.command(ADMIN, ADD_NODE, form(user=JULIET_BARE, room=ROOM, uri=TEACHER))
        out = self.command(ADMIN, REMOVE_NODE, form(user=JULIET_BARE, room=ROOM, uri=TEACHER))
        self.assertEqual(self.completed(out), ("info", "The hat has been removed successfully"))
        self.assertEqual(self.hats(), {})
        juliet = presences_from(out, "juliet")
        self.assertEqual(len(juliet), 2)
        for stanza in juliet:
            self.assertIsNone(hats_of(stanza))

    def test_errors_are_error_notes(self):
        cases = [
            (ADD_NODE, dict(user=JULIET_BARE, room=f"nowhere@{SERVICE}", uri=TEACHER),
             "There was an error adding the hat: no such room"),
            (ADD_NODE, dict(user="nurse@example.org", room=ROOM, uri=TEACHER),
             "There was an error adding the hat: user not affiliated with room"),
            (REMOVE_NODE, dict(user="nurse@example.org", room=ROOM, uri=TEACHER),
             "There was an error removing the hat: user not affiliated with room"),
            (REMOVE_NODE, dict(user=JULIET_BARE, room=f"nowhere@{SERVICE}", uri=TEACHER),
             "There was an error removing the hat: no such room"),
        ]
        for node, values, text in cases:
            self.assertEqual(self.completed(self.command(ADMIN, node, form(**values))), ("error", text))
        note = self.completed(self.command(ADMIN, ADD_NODE, form(user=JULIET_BARE, room=ROOM, uri="teacher")))
        self.assertEqual(note[0], "error")
        self.assertTrue(note[1].startswith("There was an error adding the hat: a hat id must be an absolute URI"))
        self.assertEqual(self.hats(), {})

    def test_missing_required_fields_are_named(self):
        out = self.command(ADMIN, ADD_NODE, form(room=ROOM, title="Teacher"))
        self.assertEqual(self.completed(out),
                         ("error", "user: Required value missing\nuri: Required value missing"))
        self.assertEqual(self.hats(), {})
