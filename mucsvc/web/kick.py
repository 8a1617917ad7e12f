"""``POST /muc_kick``: remove an occupant from a room over HTTP.

The contract is Prosody's ``mod_http_muc_kick`` (a JSON body with
``nickname``, ``muc`` and an optional ``reason``, guarded by one configured
``Authorization`` header value), made stricter where Prosody is loose: the
header is compared in constant time and before anything of the body is
looked at, malformed bodies are answered with what is wrong with them, the
room is found by its normalised JID, and a missing occupant is a 404.  The
kick itself is the domain's (``MucApplication.kick``): 307 to everyone, no actor.

Every answer is JSON; ``results`` counts them by outcome for ``/metrics``.
"""

from __future__ import annotations

import hmac
import json

from twisted.logger import Logger
from twisted.web import server

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.rooms.errors import MucError
from mucsvc.rooms.names import prep_nick
from mucsvc.web.responses import json_error, json_response

#: The largest request body accepted.  A kick needs well under 1 KiB.
MAX_BODY = 64 * 1024

#: Outcomes counted in ``KickEndpoint.results`` (and exported as metrics).
RESULTS = ("ok", "unauthorized", "bad_request", "not_found", "too_large", "method_not_allowed")

MISSING_FIELDS = "Missing nickname and/or MUC"  # Prosody's words


class KickEndpoint:
    """Answers requests to ``/muc_kick`` for the ``muc`` service.

    ``authorization`` is the exact ``Authorization`` header value required
    (the config refuses to start without one).
    """

    log = Logger()

    def __init__(self, muc, authorization: str):
        if not authorization:
            raise ValueError("an Authorization header value is required")
        self.muc = muc
        self._authorization = authorization.encode("utf-8")
        self.results = dict.fromkeys(RESULTS, 0)

    def render(self, request) -> bytes:
        """The whole exchange; returns the JSON body to send."""
        if request.method != b"POST":
            request.setHeader(b"Allow", b"POST")
            return self._error(request, "method_not_allowed", 405, "Method not allowed")
        # Before the body: an unauthorised client learns nothing about it.
        if not self._authorized(request):
            return self._error(request, "unauthorized", 401, "Authorization failed")
        body = _read_body(request)
        if body is None:
            return self._error(request, "too_large", 413,
                               f"Body too large (at most {MAX_BODY} bytes)")
        document, problem = _parse_json_object(body)
        if problem is not None:
            return self._error(request, "bad_request", 400, problem)

        nickname, muc, reason = document.get("nickname"), document.get("muc"), document.get("reason")
        if not isinstance(nickname, str) or not isinstance(muc, str):
            return self._error(request, "bad_request", 400, MISSING_FIELDS)
        if "reason" in document and not isinstance(reason, str):
            return self._error(request, "bad_request", 400, "reason must be a string")

        try:
            room_jid = parse_jid(muc)
        except InvalidJID:
            return self._error(request, "bad_request", 400, f"Invalid MUC JID: {muc}")
        if room_jid.resource is not None:
            return self._error(request, "bad_request", 400, f"MUC must be a bare JID: {muc}")
        room = None
        if room_jid.user is not None and room_jid.host == self.muc.rooms.domain:
            room = self.muc.rooms.room(room_jid.userhost())
        if room is None:
            return self._error(request, "not_found", 404, f"MUC not found: {muc}")

        nick = _prepared_nick(nickname)
        if nick is None or room.occupant_by_nick(nick) is None:
            return self._error(request, "not_found", 404, f"Occupant not found: {nickname}")

        self.muc.app.kick(room.jid, nick, reason or None)
        self.log.info("kicked {nick} from {room} (HTTP request)", nick=nick, room=room.jid)
        self.results["ok"] += 1
        return json_response(request, 200, {"kicked": nick, "muc": room.jid})

    def _authorized(self, request) -> bool:
        given = request.requestHeaders.getRawHeaders(b"authorization") or []
        # Two Authorization headers are ambiguous; compare_digest still runs
        # so the time taken says nothing about the configured value.
        candidate = given[0] if len(given) == 1 else b""
        return hmac.compare_digest(candidate, self._authorization) and len(given) == 1

    def _error(self, request, result: str, status: int, message: str) -> bytes:
        self.results[result] += 1
        return json_error(request, status, message)


def _read_body(request) -> bytes | None:
    """At most ``MAX_BODY`` bytes of the body, or None when it is larger.

    A declared Content-Length over the limit is refused without reading;
    otherwise one byte more than the limit is read, which tells a longer
    body (chunked, or a lying header) apart without reading all of it.
    """
    declared = request.getHeader(b"content-length")
    if declared is not None:
        try:
            if int(declared) > MAX_BODY:
                return None
        except ValueError:
            pass  # twisted.web refuses such a request before it gets here
    content = request.content
    if content is None:
        return b""
    content.seek(0)
    body = content.read(MAX_BODY + 1)
    return None if len(body) > MAX_BODY else body


def _parse_json_object(body: bytes):
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


def _prepared_nick(nickname: str) -> str | None:
    """The nick as occupants are keyed (resourceprep), or None: a nickname
    that fails preparation cannot belong to anyone in a room."""
    try:
        return prep_nick(nickname)
    except MucError:
        return None


class BoundedRequest(server.Request):
    """A request that keeps at most ``MAX_BODY + 1`` bytes of its body.

    twisted.web receives the whole body before the resource runs, into a
    temporary file when it is large; no route of this service takes more
    than a kick, so the rest is read off the socket and dropped.  The byte
    over the limit lets ``/muc_kick`` answer 413.
    """

    _kept = 0

    def gotLength(self, length):
        super().gotLength(min(length, MAX_BODY + 1) if length is not None else MAX_BODY + 1)

    def handleContentChunk(self, data):
        room = MAX_BODY + 1 - self._kept
        if room > 0:
            chunk = data[:room]
            self._kept += len(chunk)
            super().handleContentChunk(chunk)
