"""Generated requests against the whole HTTP API (property-based).

The operations come from the OpenAPI document the service serves (its
paths, methods, parameters, body fields and security schemes), so an
endpoint added there is fuzzed without touching this file. Every API is
on, each with its own header value. Whatever the method, path, headers or
body: never a 500 or a traceback, every answer but the metrics is JSON and
every error has an ``error`` string, a documented operation answers one of
the statuses it documents, and without the header of the operation's own
scheme (none, a wrong one, or another API's) it is 401 and nothing happens:
no room, option, affiliation, hat, occupant or archived message changes,
and no stanza goes out.
"""

import itertools
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treq.testing import StubTreq

from mucsvc.hats.service import HatsService
from mucsvc.link import LinkState
from mucsvc.rooms import Affiliation
from mucsvc.storage.archive import ArchiveQuery
from mucsvc.web.app import WebApp
from mucsvc.web.hats import HatsApi
from mucsvc.web.muc_admin import MucAdminApi
from mucsvc.web.openapi import document
from tests.test_room_archive import Harness
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, config_submit

#: One header value per security scheme of the document.
HEADERS = {"muc_kick": "Bearer kick", "muc_moderate": "Bearer moderate",
           "muc_hats": "Bearer hats", "muc_admin": "Bearer admin"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ALLOWED = {200, 201, 400, 401, 404, 405, 409, 413, 503}  # 503: /health while the link is down
HAT = "http://example.org/hats/gardener"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8)
text_values = st.text(st.characters(min_codepoint=32, max_codepoint=0x1F916), max_size=30)


# ---- the document ----------------------------------------------------------------


def operations(doc) -> list:
    """``(path template, method, operation)`` of every documented operation."""
    return [(path, method, operation) for path, item in doc["paths"].items()
            for method, operation in item.items() if method in METHODS]


DOCUMENT = json.loads(json.dumps(document()))  # as served: JSON types only
OPERATIONS = operations(DOCUMENT)
PATHS = sorted(DOCUMENT["paths"])


def resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def scheme_of(operation) -> str | None:
    """The security scheme an operation needs (None: open to anyone)."""
    names = [name for requirement in operation.get("security", []) for name in requirement]
    assert len(names) <= 1, operation
    return names[0] if names else None


# ---- values -----------------------------------------------------------------------


def build():
    """A persistent room with romeo (its owner, with a hat) and juliet in it,
    and one message of juliet's archived; every HTTP API on."""
    h = Harness()
    h.create()
    h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
    h.join(JULIET, "juliet")
    room = h.muc.rooms.room(ROOM)
    hats = HatsService(h.muc)
    fire(hats.set_user_hats("romeo@example.org", ROOM, {HAT: {"active": True}}))
    h.say(JULIET, "hello")
    message_id = str(archived(h)[0][0])
    del h.sent[:]
    app = WebApp(LinkState(h.clock), h.muc, kick_authorization=HEADERS["muc_kick"],
                 moderate_authorization=HEADERS["muc_moderate"])
    app.hats = HatsApi(hats, HEADERS["muc_hats"]).resource()
    app.muc_admin = MucAdminApi(h.muc, HEADERS["muc_admin"]).resource()
    assert room is not None
    return h, StubTreq(app.resource()), message_id


def archived(h) -> list:
    return [(m.seq, m.retracted, m.payload) for room in h.muc.rooms.rooms()
            for m in h.muc.app.archive_query(room, None, ArchiveQuery(max=1000)).messages]


def snapshot(h):
    """Everything a request could change, as plain data."""
    return (sorted((room.jid, repr(room.config), room.locked, repr(room.subject),
                    [(a.value, repr(room.affiliation_list(a))) for a in Affiliation],
                    sorted((o.nick, o.role.value, sorted(o.sessions)) for o in room.occupants))
                   for room in h.muc.rooms.rooms()),
            archived(h))


#: Plausible values of fields and parameters by name, beside arbitrary JSON,
#: so that generated requests also get past the checks and do something.
SAMPLES = {
    "room": ["garden", "garden", ROOM, "GARDEN", "fresh", "a@b@c", "%00", "@", "", "garden@elsewhere"],
    "muc": [ROOM, "GARDEN@muc.example.org", "garden@elsewhere", "muc.example.org", "a@b/c",
            "@@", "", ROOM + "/"],
    "nickname": ["juliet", "romeo", "Juliet", "\U0001F916", ""],
    "owner": ["romeo@example.org", "juliet@example.org", "x"],
    "user": ["romeo@example.org", "juliet@example.org", "nurse@example.org", ""],
    "jid": ["juliet@example.org", "romeo@example.org", "x@", ""],
    "hat": [HAT, "urn:uuid:00000000-0000-0000-0000-000000000000", "not a uri"],
    "affiliation": ["outcast", "owner", "member", "none", "king"],
    "options": [{"persistent": False}, {"members_only": True}, {"name": "New"},
                {"max_users": 1}, {"whois": "anyone"}, {}],
    "users": [["nurse@example.org"], ["juliet@example.org", "x"], []],
    "after": ["garden@muc.example.org", "0", "zz"],
    "before": ["1", "zz"],
    "max": ["1", "0", "1001", "x", "50"],
    "hats": [{}, {HAT: {"active": True}}, {"bad": 1}],
    "ban": [True, False],
}


def value_for(name: str, schema: dict, message_id: str):
    """Mostly a plausible value of the field (``SAMPLES``), else any JSON."""
    samples = list(SAMPLES.get(name, []))
    if name == "id":
        samples += [message_id, message_id, "1", "x"]
    schema = resolved(schema)
    if schema.get("type") == "array" and "properties" in resolved(schema.get("items", {})):
        return st.one_of(st.lists(object_for(resolved(schema["items"]), message_id),
                                  min_size=1, max_size=3), json_values)
    if samples:
        return st.one_of(st.sampled_from(samples), st.sampled_from(samples), json_values)
    return json_values


def object_for(schema: dict, message_id: str):
    """An object with the schema's fields: the required ones mostly there."""
    schema = resolved(schema)
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.one_of(
        st.fixed_dictionaries(
            {name: value_for(name, sub, message_id) for name, sub in properties.items()
             if name in required},
            optional={name: value_for(name, sub, message_id) for name, sub in properties.items()
                      if name not in required}),
        st.fixed_dictionaries({}, optional={
            name: value_for(name, sub, message_id) for name, sub in properties.items()}))


def body_for(operation, message_id: str):
    raw = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=200),
                    # Nesting hundreds to thousands of levels deep, and huge numerals.
                    st.integers(100, 5000).map(lambda n: b'{"a": ' + b"[" * n + b"]" * n + b"}"),
                    st.integers(100, 5000).map(lambda n: b'{"max_users": ' + b"9" * n + b"}"))
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return st.one_of(st.none(), raw)
    valid = object_for(content["schema"], message_id).map(lambda d: json.dumps(d).encode())
    return st.one_of(valid, valid, valid, raw)


def path_for(template: str, operation, message_id: str):
    names = re.findall(r"{(\w+)}", template)
    parts = [st.sampled_from(SAMPLES.get(name, ["x"])) for name in names]
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]

    def fill(values, present, arguments):
        path = template
        for name, value in zip(names, values):
            path = path.replace("{" + name + "}", value.replace("/", "%2F").replace("?", "%3F"), 1)
        pairs = [f"{p['name']}={v}" for p, keep, v in zip(query, present, arguments) if keep]
        return path + ("?" + "&".join(pairs) if pairs else "")

    return st.builds(fill, st.tuples(*parts),
                     st.tuples(*[st.just(True) if p["required"] else st.booleans()
                                 for p in query]),
                     st.tuples(*[value_for(p["name"], p["schema"], message_id)
                                 .filter(lambda v: isinstance(v, str))
                                 .map(lambda v: v.replace("&", "%26").replace("#", "%23"))
                                 for p in query]))


# ---- requests ----------------------------------------------------------------------


def fire(deferred):
    results = []
    deferred.addBoth(results.append)
    assert results, "the request did not complete"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def send(treq, method, path, authorization, content_type, body):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.encode("utf-8", "surrogatepass")
    if content_type:
        headers["Content-Type"] = content_type
    response = fire(treq.request(method.upper(), "http://localhost" + path, headers=headers,
                                 data=body))
    return response, fire(response.content())


def check(response, content, method, path, operation):
    """What holds of every answer, whoever asked."""
    assert response.code in ALLOWED, (response.code, content)
    if operation is not None and method != "head":
        documented = {int(code) for code in operation["responses"]}
        assert response.code in documented | {405}, (method, path, response.code, content)
    if method == "head" or (path.lstrip("/").startswith("metrics") and response.code == 200):
        return None
    assert response.headers.getRawHeaders("content-type") == ["application/json"], path
    answer = json.loads(content)
    if response.code >= 400 and not (path.lstrip("/").startswith("health")
                                     and response.code == 503):
        assert isinstance(answer.get("error"), str), answer
        assert "Traceback" not in content.decode(), content
    return answer


authorizations = st.one_of(
    st.none(), st.sampled_from(sorted(HEADERS.values())),
    st.sampled_from(sorted(HEADERS.values())).map(lambda v: v + " "),
    st.sampled_from(sorted(HEADERS.values())).map(str.upper),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
content_types = st.sampled_from([None, "application/json", "text/plain",
                                 "application/x-www-form-urlencoded"])


@st.composite
def requests(draw, message_id):
    """A documented operation with generated parameters and body, or another
    method on a documented path, or a made-up path."""
    kind = draw(st.sampled_from(["documented"] * 4 + ["other method", "other path"]))
    if kind == "other path":
        path = draw(st.sampled_from(["/nowhere", "/%00", "/muc_kick/", "/muc_admin",
                                     "/muc_admin/", "/muc_admin/rooms/garden/nothing",
                                     "/muc_hats/nothing", "//health", "/metrics/x"]))
        return draw(st.sampled_from(METHODS)), path, None, draw(st.none() | st.binary(max_size=50))
    template, method, operation = draw(st.sampled_from(OPERATIONS))
    path = draw(path_for(template, operation, message_id))
    body = draw(body_for(operation, message_id))
    if kind == "other method":
        method = draw(st.sampled_from([m for m in METHODS
                                       if m not in DOCUMENT["paths"][template]]))
        operation = None
    return method, path, operation, body


def owner_of(path: str):
    """The operation of the document serving ``path`` whatever the method:
    the scheme of its path (a path of one API only ever needs that API's
    header)."""
    bare = path.split("?", 1)[0]
    for template in PATHS:
        pattern = "^" + re.sub(r"{\w+}", "[^/]*", template) + "$"
        if re.match(pattern, bare):
            return next(iter(DOCUMENT["paths"][template].values()))
    return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), content_type=content_types)
def test_generated_requests(data, content_type):
    h, treq, message_id = build()
    method, path, operation, body = data.draw(requests(message_id), label="request")
    served_by = owner_of(path)
    scheme = scheme_of(served_by) if served_by is not None else None
    # Half the time the path's own header, so that requests also get through.
    authorization = data.draw(st.one_of(st.just(HEADERS.get(scheme)), authorizations),
                              label="authorization")
    before = snapshot(h)
    response, content = send(treq, method, path, authorization, content_type, body)
    check(response, content, method, path, operation)
    # HTTP drops the blanks around a header's value: "Bearer kick " is the header.
    if scheme is None or (authorization or "").strip(" \t") != HEADERS[scheme]:
        assert snapshot(h) == before, (method, path)
        assert h.sent == [], (method, path)
        if operation is not None and scheme is not None:
            assert response.code == 401, (method, path, response.code, content)


def test_every_documented_operation_refuses_every_other_header():
    """Each operation of the document once with no header and with each
    other API's header: 401, and nothing happens (beside the generated
    requests above, which sample)."""
    assert OPERATIONS, "the document lists no operation"
    h, treq, message_id = build()
    before = snapshot(h)
    for (template, method, operation), authorization in itertools.product(
            OPERATIONS, [None, *HEADERS.values()]):
        scheme = scheme_of(operation)
        if scheme is None or authorization == HEADERS[scheme]:
            continue
        path = template.replace("{room}", "garden")
        if any(p["in"] == "query" and p["required"] for p in operation.get("parameters", [])):
            path += "?user=romeo@example.org&muc=" + ROOM
        response, content = send(treq, method, path, authorization, "application/json",
                                 json.dumps({"muc": ROOM, "nickname": "juliet", "id": message_id,
                                             "room": "fresh", "owner": "romeo@example.org",
                                             "user": "romeo@example.org", "hat": HAT}).encode())
        assert (response.code, json.loads(content)) == (401, {"error": "Authorization failed"}), (
            method, template, authorization)
    assert snapshot(h) == before
    assert h.sent == []


def test_the_right_header_does_something():
    """The generated requests can change things: with the right header the
    same kinds of request kick, retract, give hats and create rooms (so a
    "nothing changed" above is the header's doing)."""
    h, treq, message_id = build()
    before = snapshot(h)
    for method, path, scheme, document_ in (
            ("post", "/muc_moderate", "muc_moderate", {"muc": ROOM, "id": message_id}),
            ("post", "/muc_hats/remove", "muc_hats",
             {"user": "romeo@example.org", "muc": ROOM, "hat": HAT}),
            ("post", "/muc_admin/rooms", "muc_admin", {"room": "fresh", "owner": "romeo@example.org"}),
            ("post", "/muc_kick", "muc_kick", {"muc": ROOM, "nickname": "juliet"})):
        response, content = send(treq, method, path, HEADERS[scheme], "application/json",
                                 json.dumps(document_).encode())
        assert response.code in (200, 201), (path, content)
    assert snapshot(h) != before
    assert h.sent != []
