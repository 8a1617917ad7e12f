"""Generated requests against the room-admin API (property-based).

The room-admin API in depth (``test_fuzz_http.py`` covers every API from
the OpenAPI document). Without the right Authorization, whatever the
method, path and body: 401,
JSON, never a 500, and nothing changes (rooms, options, affiliations,
occupants, stanzas sent).  With it: never a 500 either.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mucsvc.web.openapi import document
from tests.test_fuzz_http import fire, json_values
from tests.test_web_muc_admin import AUTH, AdminHarness

ROOMS = ["garden", "garden@muc.example.org", "GARDEN", "nowhere", "a@b@c", "%00", "@", ""]
#: The paths of a room, from the OpenAPI document (so new ones are fuzzed too),
#: and one that is not there.
ROOM_PATH = "/muc_admin/rooms/{room}"
SUFFIXES = sorted({path[len(ROOM_PATH):] for path in document()["paths"]
                   if path == ROOM_PATH or path.startswith(ROOM_PATH + "/")}) + ["/nothing"]

paths = st.one_of(
    st.sampled_from(["", "/", "/rooms", "/rooms/", "/rooms?max=2", "/rooms?after=zz&max=0",
                     "/nowhere"]),
    st.builds(lambda room, suffix: f"/rooms/{room}{suffix}", st.sampled_from(ROOMS),
              st.sampled_from(SUFFIXES)))
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={
        "room": st.one_of(st.sampled_from(ROOMS), json_values),
        "owner": st.one_of(st.just("romeo@example.org"), json_values),
        "options": st.one_of(st.fixed_dictionaries({}, optional={
            "persistent": json_values, "name": json_values, "members_only": json_values,
            "max_users": json_values}), json_values),
        "affiliations": st.one_of(st.lists(st.fixed_dictionaries({}, optional={
            "jid": st.one_of(st.just("juliet@example.org"), json_values),
            "affiliation": st.one_of(st.sampled_from(["outcast", "owner", "none"]), json_values),
            "reason": json_values})), json_values),
        "reason": json_values, "alternate_venue": json_values, "body": json_values,
        "users": st.one_of(st.lists(st.sampled_from(["nurse@example.org", "x", ""])), json_values),
        "password": json_values,
    }).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=100))


def snapshot(h):
    return sorted((room.jid, repr(room.config), sorted((j, a.value)
                                                       for j, a in room.affiliations.items()),
                   sorted(room._by_nick)) for room in h.muc.rooms.rooms())


def send(h, method, path, auth, body):
    headers = {"Authorization": auth} if auth is not None else {}
    response = fire(h.treq.request(method, "http://localhost/muc_admin" + path, headers=headers,
                                   data=body))
    return response, fire(response.content())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]), path=paths,
       auth=st.one_of(st.none(), st.just("Bearer wrong"), st.just(AUTH.lower()),
                      st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)),
       body=bodies)
def test_without_the_header_nothing_changes(method, path, auth, body):
    if auth is not None and auth.strip(" \t") == AUTH:
        auth = None
    h = AdminHarness()
    before = snapshot(h)
    response, content = send(h, method, path, auth, body)
    assert response.code == 401, (response.code, content)
    if method != "HEAD":
        assert json.loads(content) == {"error": "Authorization failed"}
    assert snapshot(h) == before
    assert h.sent == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(["GET", "POST", "DELETE"]), path=paths, body=bodies)
def test_with_the_header_never_a_500(method, path, body):
    h = AdminHarness()
    response, content = send(h, method, path, AUTH, body)
    assert response.code in {200, 201, 400, 404, 405, 409, 413}, (response.code, content)
    document = json.loads(content)
    if response.code >= 400:
        assert isinstance(document.get("error"), str)
