"""A minimal XMPP client for playing scripts: what a scansion character does.

It opens a plaintext c2s stream, authenticates with SASL PLAIN, binds the
resource the script asks for (or lets the server pick one), establishes a
session if the server offers it, and from then on only sends what it is
told and queues every stanza it receives. It sends no initial presence and
answers nothing by itself: a script that wants presence sends it.

A reader thread parses the stream with ``XMLPullParser`` and puts each
complete top-level element on a queue; the player takes them from there
with a bounded wait.
"""

from __future__ import annotations

import base64
import itertools
import queue
import socket
import threading
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from tests.scansion.stanzas import CLIENT_NS, to_xml

STREAMS_NS = "http://etherx.jabber.org/streams"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
BIND_NS = "urn:ietf:params:xml:ns:xmpp-bind"
SESSION_NS = "urn:ietf:params:xml:ns:xmpp-session"

FEATURES = f"{{{STREAMS_NS}}}features"
SASL_SUCCESS = f"{{{SASL_NS}}}success"
SASL_FAILURE = f"{{{SASL_NS}}}failure"

_CLOSED = object()  # queued by the reader thread when the stream ends


class XmppClientError(Exception):
    """Logging in did not work: a problem of the setup, not of the script."""


class StreamClosed(Exception):
    """The server closed the stream (or the connection) while we waited."""


class XmppClient:
    """One logged-in c2s session. Use ``XmppClient.connect(...)``."""

    def __init__(self, sock: socket.socket, domain: str, name: str):
        self.name = name
        self.domain = domain
        self.full_jid: str | None = None
        self._socket = sock
        self._send_lock = threading.Lock()
        self._inbox: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self._close_reason = "the server closed the stream"
        self._ids = itertools.count(1)
        self._new_parser()
        self._reader = threading.Thread(
            target=self._read_loop, name=f"xmpp-reader-{name}", daemon=True
        )
        self._reader.start()

    # -- logging in --------------------------------------------------------

    @classmethod
    def connect(
        cls,
        *,
        port: int,
        username: str,
        password: str,
        domain: str = "localhost",
        address: str = "127.0.0.1",
        resource: str | None = None,
        name: str | None = None,
        timeout: float = 10.0,
    ) -> XmppClient:
        """Log in as ``username@domain``; returns once the session is ready."""
        label = name or username
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            raise XmppClientError(f"{label}: cannot connect to {address}:{port}: {error}") from None
        sock.settimeout(None)  # the reader thread blocks; waits are bounded on the queue
        client = cls(sock, domain, label)
        try:
            client._log_in(username, password, resource, timeout)
        except BaseException:
            client.abort()
            raise
        return client

    def _log_in(self, username, password, resource, timeout) -> None:
        features = self._open_stream(timeout)
        mechanisms = [
            (mechanism.text or "").strip()
            for mechanism in features.iterfind(f"{{{SASL_NS}}}mechanisms/{{{SASL_NS}}}mechanism")
        ]
        if "PLAIN" not in mechanisms:
            raise XmppClientError(f"{self.name}: server offers no SASL PLAIN (offers {mechanisms})")
        credentials = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
        self.send_raw(f"<auth xmlns='{SASL_NS}' mechanism='PLAIN'>{credentials}</auth>")
        outcome = self._negotiation_reply(timeout, {SASL_SUCCESS, SASL_FAILURE})
        if outcome.tag == SASL_FAILURE:
            raise XmppClientError(f"{self.name}: authentication refused: {to_xml(outcome)}")

        features = self._open_stream(timeout)
        if features.find(f"{{{BIND_NS}}}bind") is None:
            raise XmppClientError(f"{self.name}: server offers no resource binding")
        bind = Element(f"{{{BIND_NS}}}bind")
        if resource:
            ElementTree.SubElement(bind, f"{{{BIND_NS}}}resource").text = resource
        result = self._iq_set(bind, timeout)
        self.full_jid = (result.findtext(f"{{{BIND_NS}}}bind/{{{BIND_NS}}}jid") or "").strip()
        if not self.full_jid:
            raise XmppClientError(f"{self.name}: bind result carries no JID: {to_xml(result)}")
        if features.find(f"{{{SESSION_NS}}}session") is not None:
            self._iq_set(Element(f"{{{SESSION_NS}}}session"), timeout)

    def _open_stream(self, timeout) -> Element:
        self.send_raw(
            "<?xml version='1.0'?>"
            f"<stream:stream xmlns='{CLIENT_NS}' xmlns:stream='{STREAMS_NS}' "
            f"to='{self.domain}' version='1.0'>"
        )
        return self._negotiation_reply(timeout, {FEATURES})

    def _iq_set(self, payload: Element, timeout) -> Element:
        iq = Element(f"{{{CLIENT_NS}}}iq", {"type": "set", "id": f"login{next(self._ids)}"})
        iq.append(payload)
        self.send(iq)
        reply = self._negotiation_reply(timeout, {f"{{{CLIENT_NS}}}iq"})
        if reply.get("id") != iq.get("id") or reply.get("type") != "result":
            raise XmppClientError(f"{self.name}: {to_xml(iq)} was answered with {to_xml(reply)}")
        return reply

    def _negotiation_reply(self, timeout, wanted: set[str]) -> Element:
        try:
            element = self.next_stanza(timeout)
        except StreamClosed as closed:
            raise XmppClientError(f"{self.name}: stream closed while logging in: {closed}") from None
        if element is None:
            raise XmppClientError(f"{self.name}: no answer within {timeout}s while logging in")
        if element.tag not in wanted:
            raise XmppClientError(f"{self.name}: unexpected {to_xml(element)} while logging in")
        return element

    # -- talking -------------------------------------------------------------

    def send(self, stanza: Element) -> None:
        self.send_raw(to_xml(stanza))

    def send_raw(self, text: str) -> None:
        if self._closed.is_set():
            raise StreamClosed(f"{self.name}: cannot send, {self._close_reason}")
        with self._send_lock:
            try:
                self._socket.sendall(text.encode("utf-8"))
            except OSError as error:
                raise StreamClosed(f"{self.name}: cannot send: {error}") from None

    def next_stanza(self, timeout: float) -> Element | None:
        """The next received element, or None if none arrives within ``timeout``.

        Raises ``StreamClosed`` once everything received before the end of
        the stream has been taken.
        """
        try:
            item = self._inbox.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._inbox.put(_CLOSED)  # stays closed for later calls
            raise StreamClosed(f"{self.name}: {self._close_reason}")
        return item

    # -- leaving -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def disconnect(self, timeout: float = 5.0) -> None:
        """Close the stream and wait (bounded) for the server to close its side."""
        if not self._closed.is_set():
            try:
                self.send_raw("</stream:stream>")
            except StreamClosed:
                pass
            self._closed.wait(timeout)
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once; safe to call more than once."""
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._socket.close()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5.0)

    # -- reading (reader thread) ---------------------------------------------

    def _new_parser(self) -> None:
        self._parser = ElementTree.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._stream_root: Element | None = None

    def _read_loop(self) -> None:
        try:
            while True:
                data = self._socket.recv(65536)
                if not data:
                    break
                if not self._feed(data):
                    break
        except OSError as error:
            if not self._closed.is_set():
                self._close_reason = f"connection lost: {error}"
        except ElementTree.ParseError as error:
            self._close_reason = f"the server sent malformed XML: {error}"
        finally:
            self._closed.set()
            self._inbox.put(_CLOSED)

    def _feed(self, data: bytes) -> bool:
        """Parse ``data``; queue complete stanzas. False once the stream ended."""
        self._parser.feed(data)
        for event, element in self._parser.read_events():
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self._stream_root = element
                continue
            self._depth -= 1
            if self._depth == 0:
                return False  # </stream:stream>
            if self._depth == 1:
                self._stream_root.remove(element)
                self._inbox.put(element)
                if element.tag == SASL_SUCCESS:
                    # The server's next bytes start a new stream (RFC 6120 6.4.6).
                    self._new_parser()
                    return True
        return True

