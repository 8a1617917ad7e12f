"""What every HTTP endpoint of the service checks the same way: the
``Authorization`` header, the size of the body, that it is a JSON object,
and the room a request names.  The kick, the moderation endpoint and the
hats API use these, so a request is refused in the same words and with the
same status wherever it is sent."""

from __future__ import annotations

import hmac
import json

from twisted.logger import Logger
from twisted.web import server

from mucsvc.jid import InvalidJID, parse_jid

log = Logger()

#: The largest request body accepted.  A kick or a hats change needs well under 1 KiB.
MAX_BODY = 64 * 1024


class RequiredHeader:
    """The exact ``Authorization`` value an endpoint requires (never empty);
    ``on_refused`` is called for each request refused before its body."""

    __slots__ = ("_value", "_on_refused")

    def __init__(self, value: str, on_refused=None):
        if not value:
            raise ValueError("an Authorization header value is required")
        self._value = value.encode("utf-8")
        self._on_refused = on_refused

    def refused(self) -> None:
        if self._on_refused is not None:
            self._on_refused()

    def allows(self, request) -> bool:
        """Exactly one header, equal to the value.  Compared in constant
        time, and compared even when there are two headers, so the time
        taken says nothing about the configured value."""
        given = request.requestHeaders.getRawHeaders(b"authorization") or []
        candidate = given[0] if len(given) == 1 else b""
        return hmac.compare_digest(candidate, self._value) and len(given) == 1


class Refused(Exception):
    """A request answered with an error: the HTTP ``status``, the
    ``message`` of its JSON body and, for endpoints that count their
    outcomes, the ``result`` counted."""

    def __init__(self, status: int, message: str, result: str = "bad_request"):
        super().__init__(message)
        self.status, self.message, self.result = status, message, result


def json_object(request, limit: int = MAX_BODY) -> dict:
    """The body as a JSON object: `Refused` 413 past ``limit`` bytes, 400
    for anything but a JSON object."""
    body = read_body(request, limit)
    if body is None:
        raise Refused(413, f"Body too large (at most {limit} bytes)", "too_large")
    document, problem = parse_json_object(body)
    if problem is not None:
        raise Refused(400, problem)
    return document


def posted_json(request, authorization: RequiredHeader) -> dict:
    """The JSON object a ``POST`` carries, checked in this order: the method
    (405, with ``Allow``), the header (401, before the body is looked at:
    an unauthorised client learns nothing about it), then `json_object`.
    `Refused` otherwise."""
    if request.method != b"POST":
        request.setHeader(b"Allow", b"POST")
        raise Refused(405, "Method not allowed", "method_not_allowed")
    if not authorization.allows(request):
        raise Refused(401, "Authorization failed", "unauthorized")
    return json_object(request)


def named_room(muc: str, rooms):
    """The room of ``rooms`` (a `RoomRegistry`) whose bare JID ``muc`` is,
    however spelled; `Refused` 400 for a JID that is not a room's, 404 when
    there is no such room."""
    try:
        room_jid = parse_jid(muc)
    except InvalidJID:
        raise Refused(400, f"Invalid MUC JID: {muc}") from None
    if room_jid.resource is not None:
        raise Refused(400, f"MUC must be a bare JID: {muc}")
    room = None
    if room_jid.user is not None and room_jid.host == rooms.domain:
        room = rooms.room(room_jid.userhost())
    if room is None:
        raise Refused(404, f"MUC not found: {muc}", "not_found")
    return room


def read_body(request, limit: int = MAX_BODY) -> bytes | None:
    """At most ``limit`` bytes of the body, or None when it is larger.

    A declared Content-Length over the limit is refused without reading;
    otherwise one byte more than the limit is read, which tells a longer
    body (chunked, or a lying header) apart without reading all of it.
    """
    declared = request.getHeader(b"content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                return None
        except ValueError:
            pass  # twisted.web refuses such a request before it gets here
    content = request.content
    if content is None:
        return b""
    content.seek(0)
    body = content.read(limit + 1)
    return None if len(body) > limit else body


def parse_json_object(body: bytes):
    """``(document, None)`` or ``(None, what is wrong)``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "Body is not UTF-8"
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurd nesting
        return None, "Body is not JSON"
    if not isinstance(document, dict):
        return None, "Body is not a JSON object"
    return document, None


class BoundedRequest(server.Request):
    """A request that keeps at most ``MAX_BODY + 1`` bytes of its body (or
    one more than its path's limit in ``body_limits``), and is refused
    before its body when it lacks its path's header.

    twisted.web receives the whole body before the resource runs, into a
    temporary file when it is large; no route of this service takes more
    than a kick, so the rest is read off the socket and dropped.  The byte
    over the limit lets the endpoints answer 413.

    ``guards`` (path prefix -> `RequiredHeader`, set with `guarded`): a
    request to such a path whose ``Authorization`` is wrong is answered 401
    as soon as its headers have arrived, and the connection is closed, so
    an unauthorised client cannot make the service read a body at all.

    ``body_limits`` (``(prefix, suffix, bytes)`` triples): paths under
    ``prefix`` ending in ``suffix`` may carry bodies of up to ``bytes``
    (a room avatar is larger than anything else sent here).
    """

    guards: dict = {}
    body_limits: tuple = ()
    _kept = 0
    _refused = False
    _limit = MAX_BODY

    def gotLength(self, length):
        guard = self._guard()
        if guard is not None and (length is None or length > 0) and not guard.allows(self):
            # A body is coming that nobody may send: not a byte of it is read.
            guard.refused()
            self._refuse_early()
            return
        self._limit = self._body_limit()
        kept = self._limit + 1
        super().gotLength(min(length, kept) if length is not None else kept)

    def _request_path(self) -> bytes:
        # The path as the request line gave it (twisted.web sets
        # ``self.path`` only once the body has arrived).
        return getattr(self.channel, "_path", b"").split(b"?", 1)[0]

    def _body_limit(self) -> int:
        path = self._request_path()
        for prefix, suffix, limit in self.body_limits:
            if path.startswith(prefix) and path.endswith(suffix):
                return max(limit, MAX_BODY)
        return MAX_BODY

    def _guard(self):
        path = self._request_path()
        for prefix, guard in self.guards.items():
            if path == prefix or path.startswith(prefix + b"/"):
                return guard
        return None

    def _refuse_early(self) -> None:
        self._refused = True
        # The access log never sees a request that ends here: say it instead
        # (method and path only, never a header).  The channel keeps them in
        # ``_command``/``_path`` until the request is complete.
        channel = self.channel
        log.info('"{method} {path}" 401 (refused before its body: wrong Authorization)',
                 method=getattr(channel, "_command", b"").decode("latin-1"),
                 path=getattr(channel, "_path", b"").decode("latin-1")[:200])
        body = json.dumps({"error": "Authorization failed"}).encode("utf-8")
        transport = self.channel.transport
        transport.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        transport.loseConnection()  # stops reading, closes once the answer is out

    def handleContentChunk(self, data):
        if self._refused:
            return
        room = self._limit + 1 - self._kept
        if room > 0:
            chunk = data[:room]
            self._kept += len(chunk)
            super().handleContentChunk(chunk)

    def requestReceived(self, command, path, version):
        if not self._refused:
            super().requestReceived(command, path, version)


def guarded(guards: dict, body_limits=()):
    """A `BoundedRequest` class that refuses early on the paths of
    ``guards`` (path prefix bytes -> `RequiredHeader`), and takes the
    larger bodies of ``body_limits`` (see `BoundedRequest`)."""
    return type("GuardedRequest", (BoundedRequest,),
                {"guards": dict(guards), "body_limits": tuple(body_limits)})
