"""The room APIs of a process sharing ejabberd's slots: a standby refuses
them (409), a holder answers about the rooms it serves and sends the
caller on (421) about the others, asking ejabberd where it does not know."""

from __future__ import annotations

import io
import json

import pytest
from twisted.internet import task
from twisted.web import server
from twisted.web.test.requesthelper import DummyRequest

from mucsvc.protocol.served_rooms import ServedRooms
from mucsvc.web.slot_guard import SlotGuard, room_named_by
from tests.helpers import SERVICE, stanzas_in


class Slots:
    serving = True


class Inner:
    def __init__(self):
        self.seen = []

    def render(self, request):
        self.seen.append(request.path)
        request.setResponseCode(200)
        return b"inner"


def request_for(path: bytes, *, args=None, body=None, method=b"GET"):
    request = DummyRequest(path.lstrip(b"/").split(b"/"))
    request.path = path
    request.method = method
    request.args = args or {}
    request.content = io.BytesIO(json.dumps(body).encode() if body is not None else b"")
    return request


class Holder:
    def __init__(self, connected=True):
        self.clock = task.Clock()
        self.sent = []
        self.connected = connected
        self.served = ServedRooms(SERVICE, self.sent.append, self.clock, lambda: self.connected)
        self.slots = Slots()
        self.inner = Inner()
        self.guard = SlotGuard(self.inner, self.slots, self.served, SERVICE)

    def render(self, request):
        body = self.guard.render(request)
        if body is not server.NOT_DONE_YET:
            request.write(body)
            request.finish()
        return request

    def answer_probes(self, here: bool):
        for probe in stanzas_in(self.sent):
            if here:
                self.served.is_probe(probe)
        del self.sent[:]
        if not here:
            self.clock.advance(self.served.timeout)


def status_and_body(request):
    return (request.responseCode or 200), b"".join(request.written)


@pytest.mark.parametrize("path, status", [(b"/muc_admin/rooms", 409), (b"/muc_kick", 409),
                                          (b"/muc_hats", 409), (b"/muc_moderate", 409),
                                          (b"/health", 200), (b"/metrics", 200)])
def test_a_standby_refuses_the_room_apis_and_answers_the_rest(path, status):
    holder = Holder()
    holder.slots.serving = False
    code, body = status_and_body(holder.render(request_for(path)))
    assert code == status
    if status == 409:
        assert b"standby" in body and holder.inner.seen == []


@pytest.mark.parametrize("request_, named", [
    (request_for(b"/muc_admin/rooms/lounge/config", method=b"POST"), f"lounge@{SERVICE}"),
    (request_for(b"/muc_admin/rooms/Lounge%40" + SERVICE.encode()), f"lounge@{SERVICE}"),
    (request_for(b"/muc_admin/rooms", body={"room": "garden", "owner": "a@b"}, method=b"POST"),
     f"garden@{SERVICE}"),
    (request_for(b"/muc_kick", body={"nickname": "Bob", "muc": f"attic@{SERVICE}"},
                 method=b"POST"), f"attic@{SERVICE}"),
    (request_for(b"/muc_moderate", body={"muc": f"attic@{SERVICE}", "id": "1"},
                 method=b"POST"), f"attic@{SERVICE}"),
    (request_for(b"/muc_hats", args={b"user": [b"a@b"], b"muc": [f"den@{SERVICE}".encode()]}),
     f"den@{SERVICE}"),
    (request_for(b"/muc_hats/definitions/create", body={"muc": f"den@{SERVICE}"},
                 method=b"POST"), f"den@{SERVICE}"),
    (request_for(b"/muc_admin/rooms"), None),
    (request_for(b"/muc_kick", body=["not", "an", "object"], method=b"POST"), None),
    (request_for(b"/muc_kick", body={"muc": "attic@elsewhere.example"}, method=b"POST"), None),
    (request_for(b"/muc_kick", body={"muc": 7}, method=b"POST"), None),
])
def test_the_room_is_read_where_the_request_names_it(request_, named):
    assert room_named_by(request_, SERVICE) == named
    assert request_.content.read(1) in (b"[", b"{", b"")  # the body is left for its handler


def test_a_room_served_here_is_answered_and_one_served_elsewhere_is_sent_on():
    holder = Holder()
    holder.served.mark(f"lounge@{SERVICE}")
    code, _ = status_and_body(holder.render(request_for(b"/muc_admin/rooms/lounge")))
    assert code == 200 and holder.sent == []
    request = holder.render(request_for(b"/muc_admin/rooms/attic/config", method=b"POST"))
    assert not request.finished  # asked ejabberd first
    holder.answer_probes(here=False)
    code, body = status_and_body(request)
    assert code == 421 and f"attic@{SERVICE}".encode() in body
    assert json.loads(body)["error"].startswith(f"room attic@{SERVICE} is served by another")
    assert holder.inner.seen == [b"/muc_admin/rooms/lounge"]
    # Known now: answered at once.
    code, _ = status_and_body(holder.render(request_for(b"/muc_admin/rooms/attic")))
    assert code == 421 and holder.sent == []


def test_a_room_found_here_by_its_probe_is_answered_by_the_handler():
    holder = Holder()
    request = holder.render(request_for(b"/muc_kick", method=b"POST",
                                        body={"nickname": "Bob", "muc": f"den@{SERVICE}"}))
    holder.answer_probes(here=True)
    assert status_and_body(request) == (200, b"inner") and holder.inner.seen == [b"/muc_kick"]


def test_without_the_component_link_a_room_not_known_is_unavailable():
    holder = Holder(connected=False)
    code, body = status_and_body(holder.render(request_for(b"/muc_admin/rooms/den")))
    assert code == 503 and b"ejabberd" in body and holder.inner.seen == []


def test_requests_naming_no_room_go_to_their_handler():
    holder = Holder()
    for request in (request_for(b"/muc_admin/rooms"), request_for(b"/health")):
        assert status_and_body(holder.render(request)) == (200, b"inner")
    assert holder.sent == []
