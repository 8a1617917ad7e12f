"""The load driver's side of an XEP-0114 component link, as raw bytes.

One :class:`ComponentLink` either *accepts* a component (the benchmark plays
the host server and the component under test connects to it) or *connects*
to a host server as a component (the benchmark's users live on that
component).  After the handshake it writes stanzas as prepared text in big
batched writes and counts what comes back by scanning the raw bytes for a
few markers (``<presence``, ``<message``, …): no XML parsing, so the driver
stays cheap next to the system it measures.

:class:`Pump` keeps a bounded number of expected answers in flight: it
writes the next batch whenever what was sent minus what was received drops
below the window, and notes the time the last expected stanza arrived.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time

STREAMS_NS = "http://etherx.jabber.org/streams"

#: What the driver counts in the byte stream, by name.
MARKERS = {
    "presence": (b"<presence",),
    "message": (b"<message",),
    "iq": (b"<iq",),
    # Any error stanza, error element or stream error (the load's own text
    # never says "error"): must stay 0.
    "error": (b"error",),
}
_PATTERNS = [(name, pattern) for name, patterns in MARKERS.items() for pattern in patterns]
_TAIL = max(len(p) for _, p in _PATTERNS) - 1


class LinkError(RuntimeError):
    pass


def handshake_digest(stream_id: str, secret: str) -> str:
    return hashlib.sha1((stream_id + secret).encode("utf-8")).hexdigest()


class ComponentLink(asyncio.Protocol):
    """A component stream in ``role`` ``"accept"`` (we are the server) or
    ``"connect"`` (we are the component ``domain``)."""

    def __init__(self, role: str, domain: str, secret: str):
        assert role in ("accept", "connect")
        self.role = role
        self.domain = domain
        self.secret = secret
        self.transport = None
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.counts = dict.fromkeys(MARKERS, 0)
        self.bytes_received = 0
        self.bytes_sent = 0
        self._buffer = b""  # handshake only
        self._tail = b""
        self.last = b""  # the last bytes received, to show what went wrong
        self._stream_id = None
        self._authenticated = False
        self.listener = None  # called after every chunk, once authenticated

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        if self.role == "connect":
            self._write_raw(
                "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                f"xmlns:stream='{STREAMS_NS}' to='{self.domain}'>")

    def connection_lost(self, exc):
        if not self.ready.done():
            self.ready.set_exception(LinkError(f"connection lost during handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(exc)
        if self.listener is not None:
            self.listener()

    def data_received(self, data: bytes):
        if self._authenticated:
            self._count(data)
            return
        self._buffer += data
        try:
            self._handshake()
        except LinkError as e:
            if not self.ready.done():
                self.ready.set_exception(e)
            self.transport.close()

    # -- handshake ---------------------------------------------------------------

    def _handshake(self):
        text = self._buffer.decode("utf-8", "replace")
        if "<stream:error" in text:
            raise LinkError(f"stream error during handshake: {text[:500]}")
        if self._stream_id is None:
            match = re.search(r"<stream:stream\b[^>]*>", text)
            if match is None:
                return
            header = match.group(0)
            if self.role == "accept":
                self._stream_id = os.urandom(8).hex()
                self._write_raw(
                    "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' "
                    f"xmlns:stream='{STREAMS_NS}' from='{self.domain}' id='{self._stream_id}'>")
            else:
                found = re.search(r"""\bid=['"]([^'"]+)['"]""", header)
                if found is None:
                    raise LinkError(f"no stream id in {header!r}")
                self._stream_id = found.group(1)
                self._write_raw(f"<handshake>{handshake_digest(self._stream_id, self.secret)}</handshake>")
            text = text[match.end():]
            self._buffer = text.encode("utf-8")
        if self.role == "accept":
            match = re.search(r"<handshake>([0-9a-fA-F]*)</handshake>", text)
            if match is None:
                return
            if match.group(1).lower() != handshake_digest(self._stream_id, self.secret):
                self._write_raw("<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:"
                                "xmpp-streams'/></stream:error></stream:stream>")
                raise LinkError("the component sent a wrong handshake digest")
            self._write_raw("<handshake/>")
        else:
            match = re.search(r"<handshake\s*/>|<handshake\s*>\s*</handshake>", text)
            if match is None:
                return
        rest = text[match.end():].encode("utf-8")
        self._buffer = b""
        self._authenticated = True
        self.ready.set_result(None)
        if rest:
            self._count(rest)

    # -- counting -----------------------------------------------------------------

    def _count(self, data: bytes):
        self.bytes_received += len(data)
        tail = self._tail
        counts = self.counts
        for name, pattern in _PATTERNS:
            found = data.count(pattern)
            if tail:
                # A match across the chunk boundary lies within the last
                # len-1 bytes before it and the first len-1 bytes after it.
                edge = len(pattern) - 1
                found += (tail[-edge:] + data[:edge]).count(pattern)
            if found:
                counts[name] += found
        self._tail = (tail + data)[-_TAIL:] if len(data) < _TAIL else data[-_TAIL:]
        self.last = data[-2000:] if len(data) >= 2000 else (self.last + data)[-2000:]
        if self.listener is not None:
            self.listener()

    def snapshot(self) -> dict:
        return dict(self.counts)

    # -- writing ---------------------------------------------------------------------

    def _write_raw(self, text: str):
        data = text.encode("utf-8")
        self.bytes_sent += len(data)
        self.transport.write(data)

    def write(self, data: bytes):
        self.bytes_sent += len(data)
        self.transport.write(data)

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.transport.write(b"</stream:stream>")
            finally:
                self.transport.close()


async def accept_component(domain: str, secret: str, host: str = "127.0.0.1"):
    """Listen on a free port; returns ``(port, server, links)`` where ``links``
    is a future of the first :class:`ComponentLink` that connects."""
    loop = asyncio.get_running_loop()
    first = loop.create_future()

    def factory():
        link = ComponentLink("accept", domain, secret)
        if not first.done():
            first.set_result(link)
        return link

    server = await loop.create_server(factory, host, 0)
    port = server.sockets[0].getsockname()[1]
    return port, server, first


async def connect_component(port: int, domain: str, secret: str, host: str = "127.0.0.1",
                            timeout: float = 10.0) -> ComponentLink:
    loop = asyncio.get_running_loop()
    _, link = await loop.create_connection(
        lambda: ComponentLink("connect", domain, secret), host, port)
    await asyncio.wait_for(link.ready, timeout)
    return link


class PhaseResult:
    """What one measured phase sent, received and took."""

    def __init__(self, name, expected: dict, received: dict, seconds: float, ok: bool,
                 problem: str = "", driver_cpu: float = 0.0):
        self.name = name
        self.expected = expected
        self.received = received
        self.seconds = seconds
        self.ok = ok
        self.problem = problem
        self.driver_cpu = driver_cpu

    def __repr__(self):
        state = "ok" if self.ok else f"FAIL ({self.problem})"
        return f"<{self.name}: {self.seconds:.3f}s {state} received={self.received}>"


class Pump:
    """Writes ``batches`` (``(bytes, expected answers)``) to ``link`` keeping at
    most ``window`` expected answers of kind ``key`` outstanding, until
    ``expected`` (a dict kind -> count) has arrived.

    A phase fails when nothing arrives for ``stall`` seconds, when the link
    closes, or when, after the expected count, more than expected arrives
    within ``settle`` seconds (a fast wrong answer is a failure too).
    """

    def __init__(self, link: ComponentLink, batches, key: str, expected: dict, window: int,
                 stall: float = 30.0, settle: float = 0.3):
        self.link = link
        self.batches = iter(batches)
        self.key = key
        self.expected = expected
        self.window = window
        self.stall = stall
        self.settle = settle
        self._base = link.snapshot()
        self._in_flight = 0  # expected answers of `key` written so far
        self._exhausted = False
        self._done = asyncio.get_running_loop().create_future()
        self._t_first = None
        self._t_last = None

    def received(self) -> dict:
        now = self.link.counts
        return {name: now[name] - self._base[name] for name in now}

    def _got(self) -> int:
        return self.link.counts[self.key] - self._base[self.key]

    def _feed(self):
        got = self._got()
        if self._t_last is None and got >= self.expected[self.key]:
            self._t_last = time.perf_counter()
            if not self._done.done():
                self._done.set_result(None)
            return
        if self.link.transport.is_closing() and not self._done.done():
            self._done.set_result(None)
            return
        if self._exhausted:
            return
        chunks = []
        while self._in_flight - got < self.window:
            try:
                data, answers = next(self.batches)
            except StopIteration:
                self._exhausted = True
                break
            chunks.append(data)
            self._in_flight += answers
        if chunks:
            if self._t_first is None:
                self._t_first = time.perf_counter()
            self.link.write(b"".join(chunks))

    async def run(self, name: str) -> PhaseResult:
        cpu0 = time.process_time()
        self.link.listener = self._feed
        try:
            self._feed()
            last_progress, last_seen = time.monotonic(), -1
            while not self._done.done():
                await asyncio.wait([self._done], timeout=0.5)
                seen = sum(self.received().values())
                if seen != last_seen:
                    last_progress, last_seen = time.monotonic(), seen
                elif time.monotonic() - last_progress > self.stall:
                    break
            # Anything beyond the expected count that arrives soon after is wrong.
            await asyncio.sleep(self.settle)
        finally:
            self.link.listener = None
        received = self.received()
        seconds = (self._t_last or time.perf_counter()) - (self._t_first or time.perf_counter())
        problems = []
        for kind, count in self.expected.items():
            if received[kind] != count:
                problems.append(f"{kind}: {received[kind]} of {count}")
        if "error" not in self.expected and received["error"]:
            problems.append(f"{received['error']} times 'error' in the answers")
        if self.link.transport.is_closing():
            problems.append("the link closed")
        if problems:
            problems.append("last bytes received: "
                            + self.link.last[-600:].decode("utf-8", "replace"))
        return PhaseResult(name, self.expected, received, seconds, not problems,
                           "; ".join(problems), time.process_time() - cpu0)
