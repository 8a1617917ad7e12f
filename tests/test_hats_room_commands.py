"""A room's own hat commands (XEP-0317 v0.3) through the protocol: who may
see and run them, their forms, what each changes and shows, and that they
change the same hats as the ``hats`` service."""

from twisted.trial import unittest

from mucsvc.hats.room_commands import (
    ASSIGN, CREATE, DESTROY, FORM_TYPE, LIST, LIST_ASSIGNED, NAMES, NS_COMMANDS, UNASSIGN,
    RoomHatCommands,
)
from tests.helpers import SERVICE
from tests.test_hats import HATS, JULIET_BARE, PRINCIPAL, TEACHER, Service, presences_from
from tests.test_hats_room import HOST, RecordingStore, config_changed_messages, shown
from tests.test_rooms_protocol import JULIET, NURSE, ROMEO, ROOM, admin_set
from tests.test_rooms_protocol import condition as condition_and_error

DATA = "jabber:x:data"
ADMIN = "admin@example.org/console"
ADMIN_OF_ROOM = "friar@example.org/cell"


def condition(stanza) -> str:
    return condition_and_error(stanza)[0]


def fields(**values):
    return "".join(f"<field var='{var}'><value>{value}</value></field>"
                   for var, value in values.items())


def submitted(content):
    return f"<x xmlns='{DATA}' type='submit'>{content}</x>"


class Commands(unittest.TestCase):
    """Romeo owns a persistent room, Friar is its admin, Juliet a member;
    the nurse is in the room without an affiliation."""

    def setUp(self):
        self.store = RecordingStore()
        self.s = Service(self.store)
        RoomHatCommands(self.s.hats.wardrobe, self.s.sent.append).install(self.s.muc.handler)
        self.s.muc.rooms.admins.add("admin@example.org")
        self.s.create(("muc#roomconfig_persistentroom", "1"))
        self.s.receive(admin_set(ROMEO, "<item affiliation='admin' jid='friar@example.org'/>"))
        self.s.join(JULIET, "juliet")
        self.s.join(NURSE, "nurse")
        self.s.take()
        del self.store.applied[:]

    def command(self, who, node, content="", action="execute", room=ROOM):
        action = f" action='{action}'" if action else ""
        return self.s.receive(
            f"<iq xmlns='jabber:client' type='set' id='c' from='{who}' to='{room}'>"
            f"<command xmlns='{NS_COMMANDS}' node='{node}'{action}>{content}</command></iq>")

    def reply(self, out):
        [reply] = [s for s in out if s.name == "iq"]
        return reply

    def completed(self, out):
        reply = self.reply(out)
        self.assertEqual((reply["type"], reply.command["status"]), ("result", "completed"),
                         reply.toXml())
        return reply.command

    def refused(self, out):
        reply = self.reply(out)
        self.assertEqual(reply["type"], "error", reply.toXml())
        [text] = [str(t) for t in reply.error.elements() if t.name == "text"]
        return condition(reply), text

    def form_of(self, command):
        [x] = list(command.elements(DATA, "x"))
        return x

    def field_map(self, x):
        return {f["var"]: f for f in x.elements(DATA, "field")}

    def rows(self, command):
        x = self.form_of(command)
        return [{f["var"]: "".join(str(v) for v in f.elements(DATA, "value"))
                 for f in item.elements(DATA, "field")} for item in x.elements(DATA, "item")]

    def create(self, uri=TEACHER, title="Teacher", hue="210", who=ROMEO):
        values = {"hats#uri": uri, "hats#title": title}
        if hue is not None:
            values["hats#hue"] = hue
        return self.command(who, CREATE, submitted(fields(**values)))

    def assign(self, user=JULIET_BARE, uri=TEACHER, who=ROMEO, var="hats#uri"):
        return self.command(who, ASSIGN, submitted(fields(**{"hats#jid": user, var: uri})))

    def user_hats(self, user=JULIET_BARE):
        return self.successResultOf(self.s.hats.get_user_hats(user, ROOM))

    def room_hats(self):
        return self.successResultOf(self.s.hats.get_room_hats(ROOM))


class DiscoveryTests(Commands):
    def items(self, who):
        [listing] = self.s.receive(
            f"<iq xmlns='jabber:client' type='get' id='d' from='{who}' to='{ROOM}'>"
            f"<query xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/></iq>")
        return [(i["jid"], i["node"], i["name"]) for i in listing.query.elements()]

    def test_owners_admins_and_service_admins_see_the_commands(self):
        expected = [(ROOM, node, name) for node, name in NAMES.items()]
        for who in (ROMEO, ADMIN_OF_ROOM, ADMIN):
            self.assertEqual(self.items(who), expected, who)
        self.assertEqual({node for _, node, _ in expected},
                         {LIST, CREATE, DESTROY, ASSIGN, UNASSIGN, LIST_ASSIGNED})

    def test_members_and_others_see_none(self):
        for who in (JULIET, NURSE, "paris@example.org/court"):
            self.assertEqual(self.items(who), [], who)

    def test_rooms_advertise_commands_and_hats(self):
        [info] = self.s.receive(f"<iq xmlns='jabber:client' type='get' id='i' from='{NURSE}' "
                                f"to='{ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
        features = [f["var"] for f in info.query.elements() if f.name == "feature"]
        self.assertEqual((features.count(HATS), features.count(NS_COMMANDS)), (1, 1))

    def test_a_command_node_describes_itself_to_managers_only(self):
        query = f"<query xmlns='http://jabber.org/protocol/disco#info' node='{CREATE}'/>"
        [info] = self.s.receive(
            f"<iq xmlns='jabber:client' type='get' id='i' from='{ROMEO}' to='{ROOM}'>{query}</iq>")
        [identity] = [e for e in info.query.elements() if e.name == "identity"]
        self.assertEqual((identity["category"], identity["type"], identity["name"]),
                         ("automation", "command-node", "Create a Hat"))
        [error] = self.s.receive(
            f"<iq xmlns='jabber:client' type='get' id='i' from='{JULIET}' to='{ROOM}'>{query}</iq>")
        self.assertEqual(condition(error), "item-not-found")


class PermissionTests(Commands):
    def test_members_and_outsiders_are_forbidden_and_nothing_changes(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True})
        self.s.take()
        del self.store.applied[:]
        for who in (JULIET, NURSE, "paris@example.org/court"):
            for node, content in ((LIST, ""), (LIST_ASSIGNED, ""), (CREATE, ""),
                                  (CREATE, submitted(fields(**{"hats#uri": HOST,
                                                               "hats#title": "Host"}))),
                                  (DESTROY, submitted(fields(**{"hats#uri": TEACHER}))),
                                  (UNASSIGN, submitted(fields(**{"hats#jid": JULIET_BARE,
                                                                 "hats#uri": TEACHER})))):
                self.assertEqual(self.refused(self.command(who, node, content)),
                                 ("forbidden", "Only owners and admins of the room manage its hats"))
        self.assertEqual((self.s.take(), self.store.applied), ([], []))
        self.assertEqual([h["uri"] for h in self.room_hats()], [TEACHER])

    def test_an_admin_of_the_room_and_a_service_admin_may(self):
        self.completed(self.create(who=ADMIN_OF_ROOM))
        self.completed(self.create(uri=HOST, title="Host", who=ADMIN))
        self.assertEqual([h["uri"] for h in self.room_hats()], [HOST, TEACHER])

    def test_an_unknown_node_is_not_found(self):
        self.assertEqual(self.refused(self.command(ROMEO, "urn:xmpp:hats:commands:don")),
                         ("item-not-found", "No such command"))


class CreateTests(Commands):
    def test_executing_returns_the_xeps_form(self):
        reply = self.reply(self.command(ROMEO, CREATE))
        self.assertEqual(reply.command["status"], "executing")
        form = self.field_map(self.form_of(reply.command))
        self.assertEqual(str(next(form["FORM_TYPE"].elements(DATA, "value"))), FORM_TYPE)
        self.assertEqual({var: (f["type"], any(c.name == "required" for c in f.elements()))
                          for var, f in form.items() if var != "FORM_TYPE"},
                         {"hats#uri": ("text-single", True), "hats#title": ("text-single", True),
                          "hats#hue": ("text-single", False)})
        self.assertEqual(self.room_hats(), [])

    def test_submitting_creates_the_hat_and_tells_the_room(self):
        out = self.create(hue="327.255249")
        self.assertEqual(str(self.completed(out).note), "The hat has been created")
        self.assertEqual(self.room_hats(), [{"uri": TEACHER, "title": "Teacher", "hue": 327.255249}])
        self.assertEqual(len(config_changed_messages(out)), 3)
        self.assertEqual(self.store.applied, [["save_room"]])

    def test_the_complete_action_and_no_action_work_alike(self):
        self.completed(self.command(ROMEO, CREATE, submitted(fields(**{
            "hats#uri": TEACHER, "hats#title": "Teacher"})), action="complete"))
        self.completed(self.command(ROMEO, CREATE, submitted(fields(**{
            "hats#uri": HOST, "hats#title": "Host"})), action=None))
        self.assertEqual([h["uri"] for h in self.room_hats()], [HOST, TEACHER])

    def test_creating_an_existing_uri_updates_it_and_shows_its_wearers_again(self):
        self.create()
        self.completed(self.assign())
        self.s.take()
        out = self.create(title="Lehrer", hue="")
        self.completed(out)
        for stanza in presences_from(out, "juliet"):
            self.assertEqual(shown(stanza), [(TEACHER, "Lehrer", None)])
        self.assertEqual(self.room_hats(), [{"uri": TEACHER, "title": "Lehrer", "hue": None}])

    def test_bad_fields_are_refused_and_change_nothing(self):
        cases = [
            ({"hats#title": "Teacher"}, ("bad-request", "hats#uri: Required value missing")),
            ({"hats#uri": TEACHER}, ("bad-request", "hats#title: Required value missing")),
            ({"hats#uri": "teacher", "hats#title": "T"}, None),
            ({"hats#uri": TEACHER, "hats#title": "T", "hats#hue": "red"}, None),
            ({"hats#uri": TEACHER, "hats#title": "T", "hats#hue": "360"}, None),
        ]
        for values, expected in cases:
            error = self.refused(self.command(ROMEO, CREATE, submitted(fields(**values))))
            if expected is None:
                self.assertEqual(error[0], "bad-request", values)
            else:
                self.assertEqual(error, expected)
        self.assertEqual((self.room_hats(), self.s.take(), self.store.applied), ([], [], []))

    def test_cancelling_changes_nothing(self):
        reply = self.reply(self.command(ROMEO, CREATE, action="cancel"))
        self.assertEqual(reply.command["status"], "canceled")
        reply = self.reply(self.command(ROMEO, CREATE, f"<x xmlns='{DATA}' type='cancel'/>",
                                        action=None))
        self.assertEqual(reply.command["status"], "canceled")
        self.assertEqual(self.room_hats(), [])

    def test_there_is_no_previous_or_next_stage(self):
        for action in ("prev", "next", "bogus"):
            self.assertEqual(self.refused(self.command(ROMEO, CREATE, submitted(fields(**{
                "hats#uri": TEACHER, "hats#title": "Teacher"})), action=action)),
                ("bad-request", "Incorrect value of 'action' attribute"))
        self.assertEqual(self.room_hats(), [])

    def test_a_refused_commit_is_an_internal_server_error_and_changes_nothing(self):
        self.store.armed = True
        reply = self.reply(self.create())
        self.assertEqual((reply["type"], condition(reply)), ("error", "internal-server-error"))
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.room_hats(), [])
        self.assertEqual(config_changed_messages(self.s.take()), [])


class AssignTests(Commands):
    def setUp(self):
        super().setUp()
        self.create()
        self.create(uri=HOST, title="Host", hue=None)
        self.s.take()
        del self.store.applied[:]

    def test_the_form_offers_the_rooms_hats(self):
        for node in (ASSIGN, UNASSIGN, DESTROY):
            reply = self.reply(self.command(ROMEO, node))
            self.assertEqual(reply.command["status"], "executing")
            form = self.field_map(self.form_of(reply.command))
            hat = form["hats#uri"]
            self.assertEqual(hat["type"], "list-single")
            self.assertEqual([(o["label"], str(o.value)) for o in hat.elements(DATA, "option")],
                             [("Host", HOST), ("Teacher", TEACHER)])
            if node != DESTROY:
                self.assertEqual(form["hats#jid"]["type"], "jid-single")

    def test_assigning_shows_the_hat_with_its_hue_to_everyone(self):
        out = self.assign()
        self.assertEqual(str(self.completed(out).note), "The hat has been assigned")
        juliet = presences_from(out, "juliet")
        self.assertEqual(sorted(s["to"] for s in juliet), sorted([ROMEO, JULIET, NURSE]))
        for stanza in juliet:
            self.assertEqual(shown(stanza), [(TEACHER, "Teacher", "210")])
        self.assertEqual(self.user_hats(), {TEACHER: {"active": True, "required": True}})
        self.assertEqual(self.store.applied, [["set_affiliation"]])

    def test_ejabberds_field_names_are_read_too(self):
        self.completed(self.assign(var="hat"))
        self.completed(self.command(ROMEO, ASSIGN, submitted(fields(**{
            "accountjid": JULIET_BARE, "hat": HOST}))))
        self.assertEqual(sorted(self.user_hats()), [HOST, TEACHER])

    def test_assigning_a_hat_the_room_does_not_have_is_refused(self):
        self.assertEqual(self.refused(self.assign(uri=PRINCIPAL)),
                         ("item-not-found", "no such hat in the room"))
        self.assertEqual(self.user_hats(), {})

    def test_the_wearer_must_be_a_member_admin_or_owner(self):
        for user in ("nurse@example.org", "paris@example.org"):
            self.assertEqual(self.refused(self.assign(user=user)),
                             ("item-not-found", "user not affiliated with room"))
        self.assertEqual(self.refused(self.assign(user="not a@jid@@"))[0], "bad-request")
        self.assertEqual(self.refused(self.command(ROMEO, ASSIGN, submitted(fields(**{
            "hats#uri": TEACHER})))), ("bad-request", "hats#jid: Required value missing"))
        self.assertEqual(self.store.applied, [])

    def test_a_full_jid_names_its_user(self):
        self.completed(self.assign(user=JULIET))
        self.assertEqual(list(self.user_hats()), [TEACHER])

    def test_unassigning_takes_it_off(self):
        self.assign()
        self.s.take()
        out = self.command(ROMEO, UNASSIGN, submitted(fields(**{"hats#jid": JULIET_BARE,
                                                                "hats#uri": TEACHER})))
        self.assertEqual(str(self.completed(out).note), "The hat has been removed")
        for stanza in presences_from(out, "juliet"):
            self.assertIsNone(shown(stanza))
        self.assertEqual(self.user_hats(), {})

    def test_lists(self):
        self.assign()
        self.completed(self.assign(user="romeo@example.org", uri=HOST))
        self.assertEqual(self.rows(self.completed(self.command(ROMEO, LIST))), [
            {"hats#uri": HOST, "hats#title": "Host", "hats#hue": ""},
            {"hats#uri": TEACHER, "hats#title": "Teacher", "hats#hue": "210"},
        ])
        self.assertEqual(self.rows(self.completed(self.command(ROMEO, LIST_ASSIGNED))), [
            {"hats#jid": JULIET_BARE, "hats#uri": TEACHER, "hats#title": "Teacher",
             "hats#hue": "210"},
            {"hats#jid": "romeo@example.org", "hats#uri": HOST, "hats#title": "Host",
             "hats#hue": ""},
        ])

    def test_destroying_takes_the_hat_off_its_wearers(self):
        self.assign()
        self.s.take()
        del self.store.applied[:]
        out = self.command(ROMEO, DESTROY, submitted(fields(**{"hats#uri": TEACHER})))
        self.assertEqual(str(self.completed(out).note), "The hat has been destroyed")
        self.assertEqual(self.store.applied, [["save_room", "set_affiliation"]])
        self.assertEqual(len(config_changed_messages(out)), 3)
        juliet = presences_from(out, "juliet")
        self.assertEqual(len(juliet), 3)
        for stanza in juliet:
            self.assertIsNone(shown(stanza))
        self.assertEqual(([h["uri"] for h in self.room_hats()], self.user_hats()), ([HOST], {}))
        self.assertEqual(self.refused(self.command(ROMEO, DESTROY, submitted(fields(hat=TEACHER)))),
                         ("item-not-found", "no such hat in the room"))


class OneDataTests(Commands):
    """The room's commands, the ``hats`` service and the service admins'
    commands read and change the same hats."""

    def test_a_hat_given_with_the_prosody_style_api_is_listed_and_destroyable(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, PRINCIPAL, {"active": True, "title": "Principal"})
        self.s.take()
        self.assertEqual(self.rows(self.completed(self.command(ROMEO, LIST))),
                         [{"hats#uri": PRINCIPAL, "hats#title": "Principal", "hats#hue": ""}])
        self.completed(self.command(ROMEO, DESTROY, submitted(fields(**{"hats#uri": PRINCIPAL}))))
        self.assertEqual(self.user_hats(), {})

    def test_a_hat_assigned_by_command_is_seen_by_the_service_and_removed_by_it(self):
        self.create()
        self.completed(self.assign())
        self.assertEqual(self.successResultOf(self.s.hats.get_room_hats(ROOM)),
                         [{"uri": TEACHER, "title": "Teacher", "hue": 210.0}])
        self.successResultOf(self.s.hats.remove_user_hat(JULIET_BARE, ROOM, TEACHER))
        self.assertEqual(self.rows(self.completed(self.command(ROMEO, LIST_ASSIGNED))), [])

    def test_another_rooms_hats_are_its_own(self):
        other = f"tomb@{SERVICE}"
        self.s.create(("muc#roomconfig_persistentroom", "1"), room=other)
        self.create()
        self.assertEqual(self.rows(self.completed(self.command(ROMEO, LIST, room=other))), [])
