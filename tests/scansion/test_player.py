"""The player's rules (pass over, order, nothing, rewrite, variables), without a server.

Characters log in through a stand-in for ``XmppClient.connect`` whose
clients record what they send and hand out what a test queued for them.
"""

from __future__ import annotations

import queue

import pytest

from tests.scansion.client import StreamClosed
from tests.scansion.parser import parse_script
from tests.scansion.runner import ScriptError, ScriptFailure, Target, run_script
from tests.scansion.stanzas import parse_stanzas, to_xml

MUC_USER = "http://jabber.org/protocol/muc#user"
QUICK = {"receive_timeout": 0.2, "quiet_period": 0.1}

HEADER = """\
# test
[Client] Romeo
\tjid: romeo@localhost/balcony
\tpassword: password
[Client] Juliet
\tjid: juliet@localhost
\tpassword: password
-----
"""


class FakeClient:
    def __init__(self, full_jid: str):
        self.full_jid = full_jid
        self.sent: list[str] = []
        self.inbox: queue.Queue = queue.Queue()
        self.disconnected = False
        self.stream_closed = False

    def deliver(self, xml: str) -> None:
        for element in parse_stanzas(xml):
            self.inbox.put(element)

    def send(self, stanza) -> None:
        self.sent.append(to_xml(stanza))

    def next_stanza(self, timeout: float):
        try:
            return self.inbox.get(timeout=max(timeout, 0))
        except queue.Empty:
            if self.stream_closed:
                raise StreamClosed("the server closed the stream") from None
            return None

    def disconnect(self, timeout: float) -> None:
        self.disconnected = True


class FakeServer:
    """Hands out FakeClients; ``inbox`` lets a test queue stanzas before login."""

    def __init__(self):
        self.clients: dict[str, FakeClient] = {}
        self.pending: dict[str, list[str]] = {}

    def queue_for(self, user: str, xml: str) -> None:
        self.pending.setdefault(user, []).append(xml)

    def connect(self, *, username, resource, **_):
        client = FakeClient(f"{username}@localhost/{resource or 'server-chosen'}")
        for xml in self.pending.pop(username, []):
            client.deliver(xml)
        self.clients[username] = client
        return client


def play(body: str, server: FakeServer, muc_domain: str = "conference.localhost"):
    script = parse_script(HEADER + body, source="test.scs")
    return run_script(script, Target(5222, muc_domain=muc_domain), connect=server.connect, **QUICK)


def test_stanzas_the_script_does_not_mention_are_passed_over():
    server = FakeServer()
    server.queue_for("romeo", "<message from='a@localhost'><body>noise</body></message>")
    server.queue_for("romeo", "<presence from='juliet@localhost/x'/>")
    play("Romeo connects\nRomeo receives:\n\t<presence from='juliet@localhost/x'/>\n", server)


def test_expected_stanzas_must_arrive_in_the_scripts_order():
    server = FakeServer()
    server.queue_for("romeo", "<message id='2'/>")
    server.queue_for("romeo", "<message id='1'/>")
    body = "Romeo connects\nRomeo receives:\n\t<message id='1'/>\n\t<message id='2'/>\n"
    with pytest.raises(ScriptFailure) as failure:
        play(body, server)
    assert failure.value.step.line == 10
    assert 'expected:\n  <message id="2"/>' in str(failure.value)


def test_a_timeout_explains_itself():
    server = FakeServer()
    server.queue_for(
        "romeo",
        f"<presence from='room@conference.localhost/Romeo'>"
        f"<x xmlns='{MUC_USER}'><status code='110'/></x></presence>",
    )
    body = (
        "Romeo connects\n"
        "Romeo sends:\n\t<presence to='room@conference.localhost/Romeo'/>\n"
        f"Romeo receives:\n\t<presence><x xmlns='{MUC_USER}'><status code='201'/></x></presence>\n"
    )
    with pytest.raises(ScriptFailure) as failure:
        play(body, server)
    message = str(failure.value)
    assert message.startswith("test.scs line 12 (Romeo receives): no matching stanza within 0.2s")
    assert '<status code="201"/>' in message  # what was expected
    assert "received meanwhile, not matching (1):" in message
    assert "code='110', expected '201'" in message  # why the received one was passed over
    assert "line 10: Romeo sends:" in message  # what happened before


def test_receives_nothing_holds_when_nothing_arrives():
    server = FakeServer()
    play("Romeo connects\nRomeo receives: nothing\n", server)


def test_receives_nothing_fails_when_a_stanza_arrives():
    server = FakeServer()
    server.queue_for("romeo", "<message><body>surprise</body></message>")
    with pytest.raises(ScriptFailure, match="(?s)expected nothing within 0.1s, got:.*surprise"):
        play("Romeo connects\nRomeo receives: nothing\n", server)


def test_full_and_bare_jids_are_substituted_at_run_time():
    server = FakeServer()
    body = (
        "Romeo connects\nJuliet connects\n"
        "Romeo sends:\n\t<message to=\"${Juliet's full JID}\" from=\"${Romeo's JID}\"/>\n"
    )
    play(body, server)
    assert server.clients["romeo"].sent == [
        '<message to="juliet@localhost/server-chosen" from="romeo@localhost"/>'
    ]


def test_the_requested_resource_is_bound():
    server = FakeServer()
    play("Romeo connects\n", server)
    assert server.clients["romeo"].full_jid == "romeo@localhost/balcony"


def test_the_muc_domain_is_rewritten_in_sent_and_expected_stanzas():
    server = FakeServer()
    server.queue_for("romeo", "<presence from='room@muc.localhost/Romeo'/>")
    body = (
        "Romeo connects\n"
        "Romeo sends:\n\t<presence to='room@conference.localhost/Romeo'/>\n"
        "Romeo receives:\n\t<presence from='room@conference.localhost/Romeo'/>\n"
    )
    play(body, server, muc_domain="muc.localhost")
    assert server.clients["romeo"].sent == ['<presence to="room@muc.localhost/Romeo"/>']


def test_everyone_is_disconnected_even_after_a_failure():
    server = FakeServer()
    body = "Romeo connects\nJuliet connects\nRomeo receives:\n\t<message/>\n"
    with pytest.raises(ScriptFailure):
        play(body, server)
    assert server.clients["romeo"].disconnected
    assert server.clients["juliet"].disconnected


def test_a_closed_stream_fails_the_expectation():
    server = FakeServer()
    play_body = "Romeo connects\nRomeo receives:\n\t<message/>\n"
    original_connect = server.connect

    def connect_then_close(**kwargs):
        client = original_connect(**kwargs)
        client.stream_closed = True
        return client

    server.connect = connect_then_close
    with pytest.raises(ScriptFailure, match="stream closed before a match"):
        play(play_body, server)


def test_a_full_jid_before_its_client_connects_is_a_script_error():
    server = FakeServer()
    body = "Romeo connects\nRomeo sends:\n\t<message to=\"${Juliet's full JID}\"/>\n"
    with pytest.raises(ScriptError, match="Juliet's full JID is unknown before Juliet connects"):
        play(body, server)


def test_a_statement_for_a_client_not_connected_is_a_script_error():
    server = FakeServer()
    with pytest.raises(ScriptError, match="Romeo is not connected"):
        play("Romeo sends:\n\t<presence/>\n", server)


def test_a_script_error_is_not_a_script_failure():
    """Conformance xfails accept only ScriptFailure, so setup errors stay visible."""
    assert not issubclass(ScriptError, ScriptFailure)
    assert issubclass(ScriptFailure, AssertionError)
