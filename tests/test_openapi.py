"""``GET /openapi.json`` documents exactly the routes the Klein apps have."""

import json
import re

from treq.testing import StubTreq
from twisted.trial import unittest

from mucsvc.link import LinkState
from mucsvc.web.app import WebApp
from mucsvc.web.hats import HatsApi
from mucsvc.web.muc_admin import MucAdminApi
from mucsvc.web.openapi import document
from tests.test_rooms_protocol import Harness

#: Where each sub-application is mounted in `WebApp`.
MOUNTS = {HatsApi: "/muc_hats", MucAdminApi: "/muc_admin"}
#: Routes that take every method and answer 405 to all but these themselves.
SELF_CHECKED = {"/muc_kick": {"post"}, "/muc_moderate": {"post"}}
METHODS = {"get", "put", "post", "delete", "patch"}


def routed() -> set:
    """``(path, method)`` of every Klein route, in OpenAPI's path syntax."""
    found = set()
    for app, prefix in ((WebApp, ""), *MOUNTS.items()):
        for rule in app.app.url_map.iter_rules():
            path = (prefix + rule.rule).rstrip("/") or "/"
            if "__rest__" in path or (app is WebApp and path in MOUNTS.values()):
                continue  # a mount point: its routes are the sub-application's
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
            methods = {m.lower() for m in rule.methods or ()} & METHODS
            if not rule.methods:
                methods = SELF_CHECKED.get(path, set())
            found |= {(path, method) for method in methods}
    return found


def documented(doc) -> set:
    return {(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS}


class OpenApiTests(unittest.TestCase):
    def test_every_route_is_documented_and_every_documented_path_routed(self):
        doc = document()
        self.assertEqual(documented(doc) - routed(), set(), "documented, not routed")
        self.assertEqual(routed() - documented(doc), set(), "routed, not documented")

    def test_every_operation_has_responses_and_known_security(self):
        doc = document()
        schemes = set(doc["components"]["securitySchemes"])
        for path, item in doc["paths"].items():
            for method, operation in item.items():
                self.assertTrue(operation["responses"], (path, method))
                for requirement in operation.get("security", []):
                    self.assertLessEqual(set(requirement), schemes)
                for name in re.findall(r"{(\w+)}", path):
                    self.assertIn(name, [p["name"] for p in operation["parameters"]
                                         if p["in"] == "path"], (path, method))

    def test_the_room_apis_say_what_a_process_sharing_the_slots_answers(self):
        paths = document()["paths"]
        for path, operations in paths.items():
            for method, operation in operations.items():
                responses = operation["responses"]
                if path.startswith(("/muc_admin", "/muc_kick", "/muc_moderate", "/muc_hats")):
                    self.assertIn("421", responses, (path, method))
                    self.assertIn("standby", responses["409"]["description"], (path, method))
                else:
                    self.assertNotIn("421", responses, (path, method))
        kick = paths["/muc_kick"]["post"]["responses"]["409"]["description"]
        self.assertTrue(kick.startswith("a ban of the room's last owner; or: "), kick)

    def test_every_reference_resolves(self):
        doc = document()
        text = json.dumps(doc)
        for name in re.findall(r'"#/components/schemas/(\w+)"', text):
            self.assertIn(name, doc["components"]["schemas"])

    async def test_served_as_json(self):
        h = Harness()
        treq = StubTreq(WebApp(LinkState(h.clock), h.muc, kick_authorization="Bearer k").resource())
        response = await treq.get("http://localhost/openapi.json")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders("content-type"), ["application/json"])
        served = json.loads(await response.content())
        self.assertEqual(served["openapi"], "3.0.3")
        self.assertEqual(served, json.loads(json.dumps(document())))

    def test_the_document_is_valid_openapi(self):
        from openapi_spec_validator import validate  # a test dependency (setup.cfg)
        validate(json.loads(json.dumps(document())))
