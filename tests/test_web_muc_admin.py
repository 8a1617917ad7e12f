"""The room-admin API (``/muc_admin``) through the Klein app, no socket.

A real ``MUCService`` with a memory archive holds a configured room with
romeo (owner) and juliet; each test says what the HTTP client got and what
happened to the rooms and to the occupants (the stanzas sent).
"""

import json

from treq.testing import StubTreq
from twisted.trial import unittest
from wokkel.generic import parseXml

from mucsvc.link import LinkState
from mucsvc.storage import SQLiteRoomStore
from mucsvc.web.app import ADMIN_OFF, WebApp
from mucsvc.web.muc_admin import MucAdminApi
from mucsvc.web.requests import MAX_BODY
from tests.helpers import SERVICE
from tests.test_room_archive import Harness
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, codes, config_submit, first, muc_x
from tests.test_use_cases import FailingStore

AUTH = "Bearer adm1n"
BASE = "http://localhost/muc_admin"
ROMEO_BARE, JULIET_BARE = ROMEO.split("/")[0], JULIET.split("/")[0]


class AdminHarness(Harness):
    def __init__(self, store=None, admin=True):
        super().__init__(store=store)
        self.create()
        self.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1"),
                                           ("muc#roomconfig_roomname", "The garden")]))
        self.join(JULIET, "juliet")
        del self.sent[:]
        self.app = WebApp(LinkState(self.clock), self.muc, kick_authorization="Bearer kick")
        if admin:
            self.app.muc_admin = MucAdminApi(self.muc, AUTH).resource()
        self.treq = StubTreq(self.app.resource())

    def stanzas(self):
        out = [s for text in self.sent for s in
               parseXml(f"<b xmlns='jabber:client'>{text}</b>".encode()).elements()]
        del self.sent[:]
        return out


class AdminTestCase(unittest.TestCase):
    store = None

    def setUp(self):
        self.h = AdminHarness(store=self.store() if self.store else None)

    async def call(self, method, path, body=None, *, auth=AUTH, raw=None, params=None):
        headers = {"Authorization": auth} if auth is not None else {}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        response = await self.h.treq.request(method, BASE + path, data=data, headers=headers,
                                             params=params)
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        return response.code, json.loads(await response.content())

    @property
    def room(self):
        return self.h.muc.rooms.room(ROOM)


class OffTests(unittest.TestCase):
    async def test_every_path_is_404_naming_the_setting_when_unset(self):
        h = AdminHarness(admin=False)
        for method, path in (("GET", "/rooms"), ("POST", "/rooms"), ("GET", "/rooms/garden"),
                             ("POST", "/rooms/garden/destroy"), ("GET", "")):
            response = await h.treq.request(method, BASE + path, headers={"Authorization": AUTH})
            self.assertEqual(response.code, 404)
            self.assertEqual(await response.json(), {"error": ADMIN_OFF})
        self.assertIn("http_muc_admin_authorization_header", ADMIN_OFF)
        self.assertIsNotNone(h.muc.rooms.room(ROOM))


class AuthorizationTests(AdminTestCase):
    ROUTES = (("GET", "/rooms"), ("POST", "/rooms"), ("GET", "/rooms/garden"),
              ("GET", "/rooms/garden/occupants"), ("GET", "/rooms/garden/affiliations"),
              ("GET", "/rooms/garden/archive"), ("POST", "/rooms/garden/config"),
              ("POST", "/rooms/garden/affiliations"), ("POST", "/rooms/garden/destroy"),
              ("POST", "/rooms/garden/message"), ("POST", "/rooms/garden/invitations"),
              ("PUT", "/rooms/garden/avatar"), ("GET", "/rooms/garden/avatar"),
              ("DELETE", "/rooms/garden/avatar"),
              ("GET", "/nowhere"), ("DELETE", "/rooms"))

    async def test_missing_or_wrong_header_is_401_and_changes_nothing(self):
        for auth in (None, "Bearer wrong", AUTH + "x", "bearer adm1n"):
            for method, path in self.ROUTES:
                code, answer = await self.call(method, path, {"reason": "x"}, auth=auth)
                self.assertEqual((code, answer), (401, {"error": "Authorization failed"}),
                                 (method, path, auth))
        self.assertIsNotNone(self.room)
        self.assertEqual(self.h.stanzas(), [])


class ListTests(AdminTestCase):
    async def test_online_rooms_with_counts(self):
        code, answer = await self.call("GET", "/rooms")
        self.assertEqual(code, 200)
        self.assertEqual(answer, {"rooms": [{"jid": ROOM, "name": "The garden", "occupants": 2,
                                             "persistent": True, "public": False,
                                             "locked": False}],
                                  "complete": True})

    async def test_online_rooms_are_paged_by_jid(self):
        for name in ("apple", "berry", "cherry"):
            code, _ = await self.call("POST", "/rooms", {"room": name, "owner": ROMEO_BARE})
            self.assertEqual(code, 201)
        code, page = await self.call("GET", "/rooms", params={"max": "2"})
        self.assertEqual([r["jid"] for r in page["rooms"]],
                         [f"apple@{SERVICE}", f"berry@{SERVICE}"])
        self.assertFalse(page["complete"])
        code, page = await self.call("GET", "/rooms", params={"max": "2",
                                                               "after": f"berry@{SERVICE}"})
        self.assertEqual([r["jid"] for r in page["rooms"]], [f"cherry@{SERVICE}", ROOM])
        self.assertTrue(page["complete"])

    async def test_with_several_processes_the_rooms_another_serves_are_not_listed(self):
        for name in ("apple", "berry", "cherry"):
            await self.call("POST", "/rooms", {"room": name, "owner": ROMEO_BARE})

        class Served:  # apple is another process's, cherry not known yet
            def served(self, jid):
                return {f"apple@{SERVICE}": False, f"berry@{SERVICE}": True, ROOM: True}.get(jid)
        self.h.app.muc_admin = MucAdminApi(self.h.muc, AUTH, Served()).resource()
        code, page = await self.call("GET", "/rooms")
        self.assertEqual([r["jid"] for r in page["rooms"]],
                         [f"berry@{SERVICE}", f"cherry@{SERVICE}", ROOM])

    async def test_bad_max_is_400(self):
        for value in ("0", "-1", "x", "1001"):
            code, answer = await self.call("GET", "/rooms", params={"max": value})
            self.assertEqual((code, answer), (400, {"error": "max must be an integer from 1 to 1000"}))

    async def test_room_options(self):
        code, answer = await self.call("GET", "/rooms/garden")
        self.assertEqual(code, 200)
        self.assertEqual((answer["jid"], answer["locked"], answer["occupants"]), (ROOM, False, 2))
        options = answer["options"]
        self.assertEqual((options["name"], options["persistent"], options["members_only"]),
                         ("The garden", True, False))
        self.assertNotIn("password", options)
        self.assertFalse(options["password_protected"])
        self.assertEqual(options["presence_broadcast"], ["moderator", "participant", "visitor"])

    async def test_the_room_may_be_named_by_its_jid_in_any_case(self):
        for name in (ROOM, "Garden@MUC.Example.ORG", "GARDEN"):
            code, answer = await self.call("GET", f"/rooms/{name}")
            self.assertEqual((code, answer["jid"]), (200, ROOM))

    async def test_unknown_room_is_404(self):
        for name in ("nowhere", "garden@elsewhere.example", "not@a@jid", "@" + SERVICE):
            for suffix in ("", "/occupants", "/affiliations", "/archive"):
                code, answer = await self.call("GET", f"/rooms/{name}{suffix}")
                self.assertEqual((code, answer), (404, {"error": f"Room not found: {name}"}))

    async def test_occupants_with_role_affiliation_and_real_jid(self):
        code, answer = await self.call("GET", "/rooms/garden/occupants")
        self.assertEqual(code, 200)
        self.assertEqual(answer, {"jid": ROOM, "occupants": [
            {"nick": "juliet", "role": "participant", "affiliation": "none",
             "jid": JULIET, "jids": [JULIET]},
            {"nick": "romeo", "role": "moderator", "affiliation": "owner",
             "jid": ROMEO, "jids": [ROMEO]}]})

    async def test_affiliations_with_reasons(self):
        await self.call("POST", "/rooms/garden/affiliations", {"affiliations": [
            {"jid": "tybalt@example.org", "affiliation": "outcast", "reason": "Feud"}]})
        code, answer = await self.call("GET", "/rooms/garden/affiliations")
        self.assertEqual(code, 200)
        self.assertEqual(answer, {"jid": ROOM, "affiliations": [
            {"jid": ROMEO_BARE, "affiliation": "owner", "reason": ""},
            {"jid": "tybalt@example.org", "affiliation": "outcast", "reason": "Feud"}]})

    async def test_archive_pages(self):
        for i in range(3):
            self.h.say(JULIET, f"hello {i}", id=f"m{i}")
        code, answer = await self.call("GET", "/rooms/garden/archive", params={"max": "2"})
        self.assertEqual(code, 200)
        self.assertEqual([m["nick"] for m in answer["messages"]], ["juliet", "juliet"])
        self.assertIn("hello 0", answer["messages"][0]["payload"])
        self.assertTrue(answer["messages"][0]["payload"].startswith("<message "))
        self.assertNotIn('to=""', answer["messages"][0]["payload"])
        self.assertEqual(answer["messages"][0]["author"], JULIET_BARE)
        self.assertFalse(answer["complete"])
        after = answer["messages"][-1]["id"]
        code, answer = await self.call("GET", "/rooms/garden/archive", params={"after": after})
        self.assertEqual([("hello 2" in m["payload"]) for m in answer["messages"]], [True])
        self.assertTrue(answer["complete"])
        code, answer = await self.call("GET", "/rooms/garden/archive", params={"before": after})
        self.assertEqual(len(answer["messages"]), 1)
        self.assertIn("hello 0", answer["messages"][0]["payload"])

    async def test_archive_of_a_members_only_room_is_readable_by_the_service(self):
        self.h.say(JULIET, "secret")
        await self.call("POST", "/rooms/garden/config", {"options": {"members_only": True}})
        code, answer = await self.call("GET", "/rooms/garden/archive")
        self.assertEqual((code, len(answer["messages"])), (200, 1))

    async def test_archive_with_an_unknown_id_is_404(self):
        for value in ("nonsense", "12345"):
            code, answer = await self.call("GET", "/rooms/garden/archive", params={"after": value})
            self.assertEqual((code, answer), (404, {"error": "No such message in the room's archive"}))


class CreateTests(AdminTestCase):
    async def test_create_with_options_unlocked_and_owned(self):
        code, answer = await self.call("POST", "/rooms", {
            "room": "orchard", "owner": "Capulet@Example.org",
            "options": {"persistent": True, "name": "Orchard", "members_only": True}})
        self.assertEqual(code, 201)
        jid = f"orchard@{SERVICE}"
        self.assertEqual((answer["jid"], answer["locked"]), (jid, False))
        room = self.h.muc.rooms.room(jid)
        self.assertEqual((room.config.name, room.config.persistent, room.config.members_only),
                         ("Orchard", True, True))
        self.assertEqual(room.affiliation_of("capulet@example.org").value, "owner")
        self.assertFalse(room.locked)
        self.assertEqual(self.h.stanzas(), [])
        # Anyone may join at once: it is not locked.
        out = self.h.join("capulet@example.org/home", "lord", room=jid)
        self.assertEqual(out[0].getAttribute("type"), None)

    async def test_create_an_existing_room_is_409(self):
        code, answer = await self.call("POST", "/rooms", {"room": ROOM, "owner": ROMEO_BARE})
        self.assertEqual((code, answer), (409, {"error": "The room exists already"}))

    async def test_create_refusals(self):
        cases = [({"owner": ROMEO_BARE}, "Missing or not a string: room, owner"),
                 ({"room": "x", "owner": 5}, "Missing or not a string: room, owner"),
                 ({"room": "x", "owner": "example.org"},
                  "owner must be a bare JID with a local part: example.org"),
                 ({"room": "x@elsewhere.example", "owner": ROMEO_BARE},
                  "Room is not on muc.example.org: x@elsewhere.example"),
                 ({"room": "x", "owner": ROMEO_BARE, "options": []}, "options must be a JSON object"),
                 ({"room": "x", "owner": ROMEO_BARE, "options": {"colour": "red"}},
                  "unknown room option 'colour'"),
                 ({"room": "x", "owner": ROMEO_BARE, "options": {"persistent": "yes"}},
                  "persistent must be a boolean")]
        for body, error in cases:
            code, answer = await self.call("POST", "/rooms", body)
            self.assertEqual((code, answer), (400, {"error": error}), body)
        self.assertIsNone(self.h.muc.rooms.room(f"x@{SERVICE}"))

    async def test_bad_bodies(self):
        for raw, error in ((b"\xff", "Body is not UTF-8"), (b"{", "Body is not JSON"),
                           (b"[]", "Body is not a JSON object")):
            for path in ("/rooms", "/rooms/garden/config", "/rooms/garden/affiliations",
                         "/rooms/garden/destroy"):
                code, answer = await self.call("POST", path, raw=raw)
                self.assertEqual((code, answer), (400, {"error": error}), path)
        code, answer = await self.call("POST", "/rooms", raw=b" " * (MAX_BODY + 1))
        self.assertEqual(code, 413)
        self.assertIsNotNone(self.room)

    async def test_other_methods_are_405(self):
        response = await self.h.treq.request("DELETE", BASE + "/rooms/garden",
                                              headers={"Authorization": AUTH})
        self.assertEqual(response.code, 405)
        [allow] = response.headers.getRawHeaders("allow")
        self.assertEqual(sorted(allow.split(", ")), ["GET", "HEAD"])


class ChangeTests(AdminTestCase):
    async def test_change_options_is_announced_like_a_form(self):
        code, answer = await self.call("POST", "/rooms/garden/config",
                                       {"options": {"name": "Rose garden", "whois": "anyone"}})
        self.assertEqual(code, 200)
        self.assertEqual(answer["options"]["name"], "Rose garden")
        self.assertEqual(self.room.config.whois, "anyone")
        sent = self.h.stanzas()
        self.assertEqual(sorted(s["to"] for s in sent), sorted([JULIET, ROMEO]))
        self.assertIn("172", codes(sent[0]))

    async def test_bad_options_change_nothing(self):
        for options, error in (({}, "options must be a non-empty JSON object"),
                               ({"max_users": 0}, "max_users must be a positive integer or unlimited"),
                               ({"whois": "nobody"}, "whois must be one of ['anyone', 'moderators']")):
            code, answer = await self.call("POST", "/rooms/garden/config", {"options": options})
            self.assertEqual((code, answer), (400, {"error": error}))
        self.assertEqual(self.room.config.name, "The garden")
        self.assertEqual(self.h.stanzas(), [])

    async def test_affiliation_batch_ban_removes_with_301(self):
        code, answer = await self.call("POST", "/rooms/garden/affiliations", {"affiliations": [
            {"jid": "nurse@example.org", "affiliation": "member"},
            {"jid": JULIET_BARE, "affiliation": "outcast", "reason": "Spam"}]})
        self.assertEqual(code, 200)
        self.assertIn({"jid": JULIET_BARE, "affiliation": "outcast", "reason": "Spam"},
                      answer["affiliations"])
        self.assertEqual(sorted(self.room._by_nick), ["romeo"])
        [juliet] = [s for s in self.h.stanzas() if s["to"] == JULIET]
        self.assertEqual(codes(juliet), ["301", "110"])
        self.assertEqual(str(first(first(muc_x(juliet), "item"), "reason")), "Spam")

    async def test_a_bad_item_changes_nothing(self):
        for items, error in (([], "affiliations must be a non-empty list"),
                             ("x", "affiliations must be a non-empty list"),
                             ([{"jid": "a@example.org", "affiliation": "member"},
                               {"jid": "b@example.org", "affiliation": "king"}],
                              "Unknown affiliation: king"),
                             ([{"jid": "a@example.org"}],
                              "each affiliation needs jid and affiliation strings"),
                             ([5], "each affiliation must be a JSON object"),
                             ([{"jid": "a@@b", "affiliation": "member"}], "Invalid JID: a@@b")):
            code, answer = await self.call("POST", "/rooms/garden/affiliations",
                                           {"affiliations": items})
            self.assertEqual((code, answer), (400, {"error": error}))
        self.assertEqual(self.room.affiliation_of("a@example.org").value, "none")

    async def test_the_last_owner_cannot_go(self):
        for affiliation in ("none", "member", "outcast", "admin"):
            code, answer = await self.call("POST", "/rooms/garden/affiliations", {"affiliations": [
                {"jid": ROMEO_BARE, "affiliation": affiliation}]})
            self.assertEqual((code, answer), (409, {"error": "A room needs at least one owner"}))
        self.assertEqual(self.room.affiliation_of(ROMEO_BARE).value, "owner")
        self.assertEqual(self.h.stanzas(), [])
        # Handing the room over in one batch is fine.
        code, answer = await self.call("POST", "/rooms/garden/affiliations", {"affiliations": [
            {"jid": JULIET_BARE, "affiliation": "owner"}, {"jid": ROMEO_BARE, "affiliation": "none"}]})
        self.assertEqual(code, 200)
        self.assertEqual(self.room.affiliation_of(JULIET_BARE).value, "owner")

    async def test_destroy_with_reason_and_venue(self):
        code, answer = await self.call("POST", "/rooms/garden/destroy",
                                       {"reason": "Moved", "alternate_venue": f"orchard@{SERVICE}"})
        self.assertEqual((code, answer), (200, {"destroyed": ROOM}))
        self.assertIsNone(self.h.muc.rooms.room(ROOM))
        sent = self.h.stanzas()
        self.assertEqual(sorted(s["to"] for s in sent), sorted([JULIET, ROMEO]))
        destroy = first(muc_x(sent[0]), "destroy")
        self.assertEqual(destroy["jid"], f"orchard@{SERVICE}")
        self.assertEqual(str(first(destroy, "reason")), "Moved")

    async def test_destroy_refusals(self):
        for body, error in (({"reason": 5}, "reason must be a string"),
                            ({"alternate_venue": "x@y/z"},
                             "alternate_venue must be a bare JID with a local part: x@y/z")):
            code, answer = await self.call("POST", "/rooms/garden/destroy", body)
            self.assertEqual((code, answer), (400, {"error": error}))
        self.assertIsNotNone(self.room)


class MessageTests(AdminTestCase):
    async def test_a_message_from_the_room_itself_to_everyone(self):
        code, answer = await self.call("POST", "/rooms/garden/message", {"body": "Closing <soon> & co"})
        self.assertEqual((code, answer), (200, {"jid": ROOM, "sent_to": 2}))
        sent = self.h.stanzas()
        self.assertEqual(sorted(s["to"] for s in sent), sorted([JULIET, ROMEO]))
        for message in sent:
            self.assertEqual((message.name, message["from"], message["type"]),
                             ("message", ROOM, "groupchat"))
            self.assertEqual(str(first(message, "body")), "Closing <soon> & co")

    async def test_a_message_needs_a_body(self):
        for body in ({}, {"body": ""}, {"body": 5}):
            code, answer = await self.call("POST", "/rooms/garden/message", body)
            self.assertEqual((code, answer), (400, {"error": "body must be a non-empty string"}))
        code, answer = await self.call("POST", "/rooms/nowhere/message", {"body": "x"})
        self.assertEqual(code, 404)
        self.assertEqual(self.h.stanzas(), [])


class InvitationTests(AdminTestCase):
    async def test_direct_invitations_from_the_room(self):
        code, answer = await self.call("POST", "/rooms/garden/invitations", {
            "users": ["Nurse@example.org", "nurse@example.org", "friar@example.org"],
            "reason": "Tea & cake", "password": "pw"})
        self.assertEqual((code, answer), (200, {"jid": ROOM, "invited": 2}))
        sent = self.h.stanzas()
        self.assertEqual([s["to"] for s in sent], ["nurse@example.org", "friar@example.org"])
        for message in sent:
            self.assertEqual(message["from"], ROOM)
            x = first(message, "x")
            self.assertEqual((x.uri, x["jid"], x["reason"], x["password"]),
                             ("jabber:x:conference", ROOM, "Tea & cake", "pw"))
        self.assertEqual(self.room.affiliation_of("nurse@example.org").value, "none")

    async def test_invitation_refusals(self):
        for body, error in (({}, "users must be a non-empty list of JIDs"),
                            ({"users": []}, "users must be a non-empty list of JIDs"),
                            ({"users": [5]}, "users must be a non-empty list of JIDs"),
                            ({"users": ["example.org"]},
                             "user must be a bare JID with a local part: example.org"),
                            ({"users": ["a@example.org"], "reason": 5}, "reason must be a string")):
            code, answer = await self.call("POST", "/rooms/garden/invitations", body)
            self.assertEqual((code, answer), (400, {"error": error}))
        self.assertEqual(self.h.stanzas(), [])


class StoredTests(AdminTestCase):
    def store(self):
        return FailingStore()

    async def test_a_change_the_store_refuses_is_503_and_undone(self):
        for method, path, body in (
                ("POST", "/rooms", {"room": "orchard", "owner": ROMEO_BARE,
                                    "options": {"persistent": True}}),
                ("POST", "/rooms/garden/config", {"options": {"name": "Other"}}),
                ("POST", "/rooms/garden/affiliations",
                 {"affiliations": [{"jid": JULIET_BARE, "affiliation": "outcast"}]}),
                ("POST", "/rooms/garden/destroy", {})):
            self.h.muc.app.store.armed = True
            code, answer = await self.call(method, path, body)
            self.assertEqual((code, answer), (503, {"error": "The change could not be stored"}))
        self.assertIsNone(self.h.muc.rooms.room(f"orchard@{SERVICE}"))
        self.assertEqual(self.room.config.name, "The garden")
        self.assertEqual(sorted(self.room._by_nick), ["juliet", "romeo"])
        self.assertEqual(self.h.stanzas(), [])
        self.flushLoggedErrors(OSError)


class RestartTests(unittest.TestCase):
    async def test_a_created_room_and_its_affiliations_survive_a_restart(self):
        path = self.mktemp()
        h = AdminHarness(store=SQLiteRoomStore(path))
        treq = h.treq
        headers = {"Authorization": AUTH}
        response = await treq.post(BASE + "/rooms", headers=headers, json={
            "room": "orchard", "owner": ROMEO_BARE, "options": {"persistent": True,
                                                                "name": "Orchard"}})
        self.assertEqual(response.code, 201)
        response = await treq.post(BASE + "/rooms/orchard/affiliations", headers=headers, json={
            "affiliations": [{"jid": "tybalt@example.org", "affiliation": "outcast",
                              "reason": "Feud"}]})
        self.assertEqual(response.code, 200)
        h.muc.app.store.close()
        again = Harness(store=SQLiteRoomStore(path))
        room = again.muc.rooms.room(f"orchard@{SERVICE}")
        self.assertEqual(room.config.name, "Orchard")
        self.assertEqual(room.affiliation_of(ROMEO_BARE).value, "owner")
        self.assertEqual(room.affiliation_data("tybalt@example.org").get("reason"), "Feud")
        again.muc.app.store.close()


class HatDefinitionsAreNoOptionTests(AdminTestCase):
    """A room's hats (XEP-0317 v0.3) have operations of their own, which
    also change their wearers: they are neither shown nor set as options."""

    async def test_options_neither_show_nor_take_hats(self):
        from mucsvc.rooms.hat_definitions import HatDefinition
        self.h.muc.app.define_hat(self.room, HatDefinition("urn:x:host", "Host", 5.0))
        code, body = await self.call("GET", "/rooms/garden")
        self.assertEqual(code, 200)
        self.assertNotIn("hats", body["options"])
        for path, document in (
                ("/rooms/garden/config", {"options": {"hats": []}}),
                ("/rooms", {"room": "shed", "owner": "romeo@example.org",
                            "options": {"hats": [{"uri": "urn:x:a", "title": "A"}]}})):
            code, body = await self.call("POST", path, document)
            self.assertEqual((code, body), (400, {"error": "unknown room option 'hats'"}), path)
        self.assertEqual(self.room.config.hats, (HatDefinition("urn:x:host", "Host", 5.0),))
        self.assertIsNone(self.h.muc.rooms.room(f"shed@{SERVICE}"))
