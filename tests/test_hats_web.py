"""The hats HTTP API, mounted in the web app, driven with StubTreq (no socket)."""

import json

from treq.testing import StubTreq
from twisted.trial import unittest

from mucsvc.link import LinkState
from mucsvc.web.app import WebApp
from mucsvc.web.hats import HatsApi
from mucsvc.web.requests import MAX_BODY
from tests.helpers import SERVICE
from tests.test_hats import JULIET_BARE, PRINCIPAL, TEACHER, Service, hats_of, presences_from
from tests.test_rooms_protocol import JULIET, NURSE, ROMEO, ROOM

AUTHORIZATION = "Bearer hats-secret"
GOOD = {"Authorization": AUTHORIZATION}
QUERY = f"?user={JULIET_BARE}&muc={ROOM}"


class Api(unittest.TestCase):
    def setUp(self):
        self.s = Service()
        self.s.create()
        self.s.join(JULIET, "juliet")
        self.s.take()
        self.link = LinkState(self.s.clock)
        app = WebApp(self.link)
        app.hats = HatsApi(self.s.hats, AUTHORIZATION).resource()
        self.treq = StubTreq(app.resource())

    async def call(self, method, path, body=None, headers=GOOD, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        response = await self.treq.request(method, "http://localhost" + path, data=data,
                                           headers=headers)
        content = await response.content()
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        return response.code, json.loads(content)

    def hats(self):
        return self.successResultOf(self.s.hats.get_user_hats(JULIET_BARE, ROOM))


class ReadTests(Api):
    async def test_get_returns_the_hats(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Teacher"})
        self.assertEqual(await self.call("GET", "/muc_hats" + QUERY),
                         (200, {"hats": {TEACHER: {"active": True, "required": False, "title": "Teacher"}}}))

    async def test_get_of_no_hats(self):
        self.assertEqual(await self.call("GET", "/muc_hats" + QUERY), (200, {"hats": {}}))

    async def test_get_needs_user_and_muc_once(self):
        for query in (f"?user={JULIET_BARE}", f"?muc={ROOM}", "",
                      f"?user={JULIET_BARE}&user=x@example.org&muc={ROOM}"):
            code, body = await self.call("GET", "/muc_hats" + query)
            self.assertEqual(code, 400)
            self.assertIn("once in the query string", body["error"])

    async def test_unknown_room_is_404(self):
        self.assertEqual(await self.call("GET", f"/muc_hats?user={JULIET_BARE}&muc=nowhere@{SERVICE}"),
                         (404, {"error": "no such room", "condition": "item-not-found"}))

    async def test_unaffiliated_user_is_404(self):
        self.assertEqual(await self.call("GET", f"/muc_hats?user=nurse@example.org&muc={ROOM}"),
                         (404, {"error": "user not affiliated with room", "condition": "item-not-found"}))


class ChangeTests(Api):
    async def test_add_with_attachment_shows_the_hat(self):
        code, body = await self.call("POST", "/muc_hats/add", {
            "user": JULIET_BARE, "muc": ROOM, "hat": TEACHER,
            "attachment": {"active": True, "title": "Teacher"}})
        self.assertEqual((code, body), (200, {"hats": {TEACHER: {"active": True, "required": False,
                                                                  "title": "Teacher"}}}))
        [to_romeo] = [s for s in presences_from(self.s.take(), "juliet") if s["to"] == ROMEO]
        self.assertEqual(hats_of(to_romeo), [(TEACHER, "Teacher")])

    async def test_add_without_attachment(self):
        code, body = await self.call("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": TEACHER})
        self.assertEqual((code, body), (200, {"hats": {TEACHER: {"active": False, "required": False}}}))

    async def test_remove(self):
        self.s.hats.set_user_hats(JULIET_BARE, ROOM, {TEACHER: {"active": True}, PRINCIPAL: {}})
        self.s.take()
        code, body = await self.call("POST", "/muc_hats/remove", {"user": JULIET_BARE, "muc": ROOM, "hat": TEACHER})
        self.assertEqual((code, body), (200, {"hats": {PRINCIPAL: {"active": False, "required": False}}}))
        for stanza in presences_from(self.s.take(), "juliet"):
            self.assertIsNone(hats_of(stanza))

    async def test_remove_of_an_absent_hat_is_ok(self):
        self.assertEqual(await self.call("POST", "/muc_hats/remove",
                                         {"user": JULIET_BARE, "muc": ROOM, "hat": TEACHER}),
                         (200, {"hats": {}}))

    async def test_put_makes_exactly_these_the_hats(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        code, body = await self.call("PUT", "/muc_hats" + QUERY, {"hats": {PRINCIPAL: {"required": True}}})
        self.assertEqual((code, body), (200, {"hats": {PRINCIPAL: {"active": False, "required": True}}}))
        self.assertEqual(self.hats(), body["hats"])

    async def test_put_nothing_takes_every_hat_off(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        self.assertEqual(await self.call("PUT", "/muc_hats" + QUERY, {"hats": {}}), (200, {"hats": {}}))

    async def test_invalid_input_is_400_and_changes_nothing(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        self.s.take()
        before = self.hats()
        cases = [
            ("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": "teacher"}),
            ("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": PRINCIPAL,
                                       "attachment": {"active": "yes"}}),
            ("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": PRINCIPAL,
                                       "attachment": {"colour": "red"}}),
            ("POST", "/muc_hats/remove", {"user": JULIET_BARE, "muc": ROOM, "hat": "x y"}),
            ("PUT", "/muc_hats" + QUERY, {"hats": {PRINCIPAL: {}, "bad": {}}}),
            ("PUT", "/muc_hats" + QUERY, {"hats": None}),
        ]
        for method, path, document in cases:
            code, body = await self.call(method, path, document)
            self.assertEqual((code, body["condition"]), (400, "bad-request"), (method, path, document))
        self.assertEqual(self.hats(), before)
        self.assertEqual(self.s.take(), [])

    async def test_malformed_requests_are_400(self):
        for path, document in (("/muc_hats/add", {"muc": ROOM, "hat": TEACHER}),
                               ("/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": 5}),
                               ("/muc_hats/remove", {"user": JULIET_BARE, "muc": ROOM})):
            code, body = await self.call("POST", path, document)
            self.assertEqual(code, 400)
            self.assertTrue(body["error"].startswith("Missing or not a string"))
        self.assertEqual(await self.call("PUT", "/muc_hats" + QUERY, {}), (400, {"error": "Missing hats"}))
        self.assertEqual(await self.call("POST", "/muc_hats/add", raw=b"{nope"),
                         (400, {"error": "Body is not JSON"}))
        self.assertEqual(await self.call("POST", "/muc_hats/add", raw=b"\xff"),
                         (400, {"error": "Body is not UTF-8"}))
        self.assertEqual(await self.call("POST", "/muc_hats/add", ["user"]),
                         (400, {"error": "Body is not a JSON object"}))

    async def test_body_too_large_is_413(self):
        code, _ = await self.call("PUT", "/muc_hats" + QUERY, raw=b" " * (MAX_BODY + 1))
        self.assertEqual(code, 413)

    async def test_errors_of_the_service_map_to_404(self):
        self.assertEqual(await self.call("POST", "/muc_hats/add",
                                         {"user": NURSE, "muc": ROOM, "hat": TEACHER}),
                         (404, {"error": "user not affiliated with room", "condition": "item-not-found"}))
        self.assertEqual(await self.call("PUT", f"/muc_hats?user={JULIET_BARE}&muc=x@{SERVICE}", {"hats": {}}),
                         (404, {"error": "no such room", "condition": "item-not-found"}))


class GuardTests(Api):
    async def test_wrong_missing_or_repeated_authorization_is_401(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": AUTHORIZATION + "x"},
                        {"Authorization": [AUTHORIZATION, AUTHORIZATION]}):
            for method, path, document in (
                    ("GET", "/muc_hats" + QUERY, None),
                    ("PUT", "/muc_hats" + QUERY, {"hats": {}}),
                    ("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": PRINCIPAL}),
                    ("POST", "/muc_hats/remove", {"user": JULIET_BARE, "muc": ROOM, "hat": TEACHER})):
                self.assertEqual(await self.call(method, path, document, headers=headers),
                                 (401, {"error": "Authorization failed"}))
        self.assertEqual(list(self.hats()), [TEACHER])

    async def test_the_kick_header_is_not_enough(self):
        self.assertEqual((await self.call("GET", "/muc_hats" + QUERY,
                                          headers={"Authorization": "Bearer test-kick"}))[0], 401)

    async def test_wrong_method_is_405(self):
        for method in ("DELETE", "POST"):
            response = await self.treq.request(method, "http://localhost/muc_hats" + QUERY, headers=GOOD)
            self.assertEqual((response.code, await response.json()), (405, {"error": "Method not allowed"}))
            self.assertEqual(response.headers.getRawHeaders("allow"), ["GET, PUT"])
        self.assertEqual((await self.call("GET", "/muc_hats/add"))[0], 405)

    async def test_unknown_path_below_is_404(self):
        self.assertEqual(await self.call("GET", "/muc_hats/nowhere"), (404, {"error": "Not found"}))

    async def test_the_rest_of_the_app_is_still_there(self):
        code, body = await self.call("GET", "/health", headers={})
        self.assertEqual(code, 503)

    async def test_unconfigured_the_api_says_it_is_off(self):
        self.treq = StubTreq(WebApp(self.link).resource())
        off = {"error": "the hats API is off: set http_muc_hats_authorization_header"}
        for method, path in (("GET", "/muc_hats" + QUERY), ("POST", "/muc_hats/add"),
                             ("POST", "/muc_hats/remove"), ("PUT", "/muc_hats" + QUERY),
                             ("GET", "/muc_hats"), ("DELETE", "/muc_hats/nowhere")):
            self.assertEqual(await self.call(method, path, {}), (404, off), (method, path))
        # The rest of the app still answers as before.
        self.assertEqual(await self.call("GET", "/nowhere", headers={}), (404, {"error": "Not found"}))

    def test_an_empty_authorization_is_refused(self):
        self.assertRaises(ValueError, HatsApi, self.s.hats, "")


class DefinitionTests(Api):
    """The room's hats (XEP-0317 v0.3) at /muc_hats/definitions."""

    async def test_create_lists_and_shows_the_hue_to_the_wearers(self):
        self.s.hats.add_user_hat(JULIET_BARE, ROOM, TEACHER, {"active": True, "title": "Own"})
        self.s.take()
        code, body = await self.call("POST", "/muc_hats/definitions/create",
                                     {"muc": ROOM, "hat": TEACHER, "title": "Teacher", "hue": 210})
        self.assertEqual((code, body), (200, {"hats": [{"uri": TEACHER, "title": "Teacher",
                                                        "hue": 210.0}]}))
        [to_romeo] = [s for s in presences_from(self.s.take(), "juliet") if s["to"] == ROMEO]
        [hat] = [h for e in to_romeo.elements() if e.name == "hats" for h in e.elements()]
        self.assertEqual((hat["title"], hat["hue"]), ("Teacher", "210"))
        self.assertEqual(await self.call("GET", f"/muc_hats/definitions?muc={ROOM}"), (code, body))

    async def test_a_hat_given_to_a_user_is_one_of_the_rooms_hats(self):
        await self.call("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": PRINCIPAL,
                                                  "attachment": {"title": "Principal"}})
        self.assertEqual(await self.call("GET", f"/muc_hats/definitions?muc={ROOM}"),
                         (200, {"hats": [{"uri": PRINCIPAL, "title": "Principal", "hue": None}]}))

    async def test_destroy_takes_it_off_every_wearer(self):
        await self.call("POST", "/muc_hats/definitions/create",
                        {"muc": ROOM, "hat": TEACHER, "title": "Teacher"})
        await self.call("POST", "/muc_hats/add", {"user": JULIET_BARE, "muc": ROOM, "hat": TEACHER,
                                                  "attachment": {"active": True}})
        self.s.take()
        self.assertEqual(await self.call("POST", "/muc_hats/definitions/destroy",
                                         {"muc": ROOM, "hat": TEACHER}), (200, {"hats": []}))
        self.assertEqual(self.hats(), {})
        for stanza in presences_from(self.s.take(), "juliet"):
            self.assertIsNone(hats_of(stanza))
        self.assertEqual(await self.call("POST", "/muc_hats/definitions/destroy",
                                         {"muc": ROOM, "hat": TEACHER}),
                         (404, {"error": "no such hat in the room", "condition": "item-not-found"}))

    async def test_refusals(self):
        cases = [
            ("GET", "/muc_hats/definitions", None, 400),
            ("GET", f"/muc_hats/definitions?muc=nowhere@{SERVICE}", None, 404),
            ("POST", "/muc_hats/definitions/create", {"muc": ROOM, "hat": TEACHER}, 400),
            ("POST", "/muc_hats/definitions/create", {"muc": ROOM, "hat": "t", "title": "T"}, 400),
            ("POST", "/muc_hats/definitions/create",
             {"muc": ROOM, "hat": TEACHER, "title": "T", "hue": 360}, 400),
            ("POST", "/muc_hats/definitions/create",
             {"muc": ROOM, "hat": TEACHER, "title": "T", "hue": "90"}, 400),
            ("POST", "/muc_hats/definitions/create",
             {"muc": ROOM, "hat": TEACHER, "title": "T", "hue": True}, 400),
            ("POST", "/muc_hats/definitions/create",
             {"muc": f"x@{SERVICE}", "hat": TEACHER, "title": "T"}, 404),
            ("POST", "/muc_hats/definitions/destroy", {"muc": ROOM}, 400),
            ("GET", "/muc_hats/definitions/create", None, 405),
        ]
        for method, path, document, status in cases:
            code, body = await self.call(method, path, document)
            self.assertEqual(code, status, (method, path, document, body))
            self.assertIn("error", body)
        self.assertEqual(self.successResultOf(self.s.hats.get_room_hats(ROOM)), [])
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            self.assertEqual(await self.call("POST", "/muc_hats/definitions/create",
                                             {"muc": ROOM, "hat": TEACHER, "title": "T"},
                                             headers=headers),
                             (401, {"error": "Authorization failed"}))
        self.assertEqual(self.successResultOf(self.s.hats.get_room_hats(ROOM)), [])

    async def test_a_refused_commit_is_503_and_changes_nothing(self):
        from tests.test_hats_room import RecordingStore
        store = RecordingStore()
        self.s = Service(store)
        self.s.create(("muc#roomconfig_persistentroom", "1"))
        app = WebApp(self.link)
        app.hats = HatsApi(self.s.hats, AUTHORIZATION).resource()
        self.treq = StubTreq(app.resource())
        store.armed = True
        self.assertEqual(await self.call("POST", "/muc_hats/definitions/create",
                                         {"muc": ROOM, "hat": TEACHER, "title": "T"}),
                         (503, {"error": "The change could not be stored"}))
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(self.successResultOf(self.s.hats.get_room_hats(ROOM)), [])
