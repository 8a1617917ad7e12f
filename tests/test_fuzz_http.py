"""Generated requests against the HTTP endpoints (property-based).

Whatever the method, path, headers or body, on the kick and the hats API:
never a 500 or a traceback, every error is JSON with an ``error`` key, and
without the right Authorization nothing happens to any room.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treq.testing import StubTreq

from mucsvc.hats.service import HatsService
from mucsvc.link import LinkState
from mucsvc.web.hats import HatsApi
from mucsvc.web.app import WebApp
from tests.test_rooms_protocol import JULIET, ROOM, Harness

AUTH = "Bearer right"
ALLOWED = {200, 400, 401, 404, 405, 413, 503}  # 503: /health while the link is down

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8)
kick_bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "nickname": st.one_of(st.sampled_from(["juliet", "romeo", "Juliet", "\U0001F916", ""]), json_values),
        "muc": st.one_of(st.sampled_from([ROOM, "GARDEN@muc.example.org", "garden@elsewhere",
                                          "muc.example.org", "a@b/c", "@@", "", "garden@.example.org",
                                          "garden@muc..example.org", "garden@muc.example.org.",
                                          "@muc.example.org", ROOM + "/"]), json_values),
        "reason": json_values}).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    # Nesting hundreds to thousands of levels deep, and huge numerals.
    st.integers(100, 5000).map(lambda n: b'{"nickname": "juliet", "muc": ' + b"[" * n + b"]" * n + b"}"),
    st.integers(100, 5000).map(lambda n: b'{"nickname": "juliet", "muc": "%s", "reason": %s}' % (
        ROOM.encode(), b"9" * n)),
)


def fire(deferred):
    results = []
    deferred.addBoth(results.append)
    assert results, "the request did not complete"
    if hasattr(results[0], "raiseException"):
        results[0].raiseException()
    return results[0]


def build():
    h = Harness()
    h.create()
    h.join(JULIET, "juliet")
    del h.sent[:]
    app = WebApp(LinkState(h.clock), h.muc, kick_authorization=AUTH)
    app.hats = HatsApi(HatsService(h.muc), AUTH).resource()
    return h, StubTreq(app.resource())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
       path=st.sampled_from(["/muc_kick", "/muc_kick/", "/health", "/metrics", "/nowhere",
                             "/muc_kick?x=1", "/%00", "/muc_hats", "/muc_hats/add",
                             "/muc_hats/remove", f"/muc_hats?user=romeo@example.org&muc={ROOM}",
                             "/muc_hats?user=&muc="]),
       # Header values as HTTP allows them (Twisted itself refuses control characters).
       auth=st.one_of(st.none(), st.just(AUTH), st.just(AUTH + " "),
                      st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)),
       content_type=st.sampled_from([None, "application/json", "text/plain",
                                     "application/x-www-form-urlencoded"]),
       body=kick_bodies)
def test_generated_requests(method, path, auth, content_type, body):
    h, treq = build()
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth.encode("utf-8", "surrogatepass")
    if content_type:
        headers["Content-Type"] = content_type
    response = fire(treq.request(method, "http://localhost" + path, headers=headers, data=body))
    stub_flush = getattr(treq, "flush", None)
    if stub_flush:
        stub_flush()
    content = fire(response.content())
    assert response.code in ALLOWED, (response.code, content)
    if method == "HEAD":
        return
    if path.startswith("/metrics") and response.code == 200:
        return
    assert response.headers.getRawHeaders("content-type") == ["application/json"]
    document = json.loads(content)
    if response.code not in (200, 503):
        assert set(document) >= {"error"} and isinstance(document["error"], str)
        assert "Traceback" not in content.decode()
    if auth != AUTH:
        assert h.muc.rooms.room(ROOM).occupant_by_nick("juliet") is not None
        assert h.sent == []
