"""The client's stream handling, against a scripted server on a socket pair."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from tests.scansion.client import StreamClosed, XmppClient, XmppClientError

STREAM_HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>"
)
SASL_FEATURES = (
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
)
BIND_FEATURES = (
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
    "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>"
)
WAIT = 5.0


class ScriptedServer:
    """The server end of a socket pair: read until a marker, then write."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.sock.settimeout(WAIT)
        self.received = ""

    def read_until(self, marker: str) -> str:
        while marker not in self.received:
            data = self.sock.recv(4096)
            if not data:
                raise AssertionError(f"client closed before sending {marker!r}; got {self.received!r}")
            self.received += data.decode()
        before, _, self.received = self.received.partition(marker)
        return before + marker

    def write(self, text: str) -> None:
        self.sock.sendall(text.encode())


@pytest.fixture
def pair():
    client_end, server_end = socket.socketpair()
    yield client_end, ScriptedServer(server_end)
    server_end.close()
    client_end.close()


def started_stream(pair) -> tuple[XmppClient, ScriptedServer]:
    client_end, server = pair
    client = XmppClient(client_end, "localhost", "Romeo")
    server.write(STREAM_HEADER)
    return client, server


def test_stanzas_split_across_reads_are_reassembled(pair):
    client, server = started_stream(pair)
    server.write("<message id='1'><bo")
    server.write("dy>hi</body></message><presence/>")
    message = client.next_stanza(WAIT)
    assert message.tag == "{jabber:client}message"
    assert message.findtext("{jabber:client}body") == "hi"
    assert client.next_stanza(WAIT).tag == "{jabber:client}presence"
    assert client.next_stanza(0.05) is None
    client.abort()


def test_the_end_of_the_stream_comes_after_what_was_sent_before_it(pair):
    client, server = started_stream(pair)
    server.write("<message id='last'/></stream:stream>")
    assert client.next_stanza(WAIT).get("id") == "last"
    with pytest.raises(StreamClosed, match="closed the stream"):
        client.next_stanza(WAIT)
    with pytest.raises(StreamClosed):
        client.next_stanza(WAIT)  # and stays closed
    client.abort()


def test_disconnect_closes_the_stream_and_waits_for_the_server(pair):
    client, server = started_stream(pair)
    def close_too():
        server.read_until("</stream:stream>")
        server.write("</stream:stream>")

    closer = threading.Thread(target=close_too)
    closer.start()
    client.disconnect(timeout=WAIT)
    closer.join(WAIT)
    assert client.closed


def serve_login(server: ScriptedServer, log: dict) -> None:
    server.read_until("version='1.0'>")
    server.write(STREAM_HEADER + SASL_FEATURES)
    auth = server.read_until("</auth>")
    log["auth"] = auth
    server.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
    server.read_until("version='1.0'>")
    server.write(STREAM_HEADER + BIND_FEATURES)
    log["bind"] = server.read_until("</iq>")
    server.write(
        "<iq type='result' id='login1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
        "<jid>romeo@localhost/balcony</jid></bind></iq>"
    )
    log["session"] = server.read_until("</iq>")
    server.write("<iq type='result' id='login2'/>")
    log["after login"] = server.read_until("</stream:stream>")
    server.write("</stream:stream>")


def test_login_uses_plain_binds_the_resource_and_sends_no_presence(pair, monkeypatch):
    client_end, server = pair
    log: dict = {}
    serving = threading.Thread(target=serve_login, args=(server, log))
    serving.start()
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: client_end)

    client = XmppClient.connect(port=5222, username="romeo", password="pw", resource="balcony", timeout=WAIT)
    assert client.full_jid == "romeo@localhost/balcony"
    client.disconnect(timeout=WAIT)
    serving.join(WAIT)

    assert "mechanism='PLAIN'" in log["auth"]
    assert base64.b64encode(b"\0romeo\0pw").decode() in log["auth"]
    assert "<resource>balcony</resource>" in log["bind"]
    assert "urn:ietf:params:xml:ns:xmpp-session" in log["session"]
    assert log["after login"] == "</stream:stream>"  # no initial presence, nothing else


def test_a_refused_login_is_a_setup_error_not_a_script_failure(pair, monkeypatch):
    client_end, server = pair

    def refuse():
        server.read_until("version='1.0'>")
        server.write(STREAM_HEADER + SASL_FEATURES)
        server.read_until("</auth>")
        server.write("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>")

    serving = threading.Thread(target=refuse)
    serving.start()
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: client_end)
    with pytest.raises(XmppClientError, match="authentication refused"):
        XmppClient.connect(port=5222, username="romeo", password="wrong", timeout=WAIT)
    serving.join(WAIT)
    assert not isinstance(XmppClientError("x"), AssertionError)
