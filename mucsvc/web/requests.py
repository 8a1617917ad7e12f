"""What every HTTP endpoint of the service checks the same way: the
``Authorization`` header, the size of the body, and that it is a JSON
object.  The kick and the hats API use these, so a request is refused in
the same words and with the same status wherever it is sent."""

from __future__ import annotations

import hmac
import json

from twisted.web import server

#: The largest request body accepted.  A kick or a hats change needs well under 1 KiB.
MAX_BODY = 64 * 1024


class RequiredHeader:
    """The exact ``Authorization`` value an endpoint requires (never empty)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        if not value:
            raise ValueError("an Authorization header value is required")
        self._value = value.encode("utf-8")

    def allows(self, request) -> bool:
        """Exactly one header, equal to the value.  Compared in constant
        time, and compared even when there are two headers, so the time
        taken says nothing about the configured value."""
        given = request.requestHeaders.getRawHeaders(b"authorization") or []
        candidate = given[0] if len(given) == 1 else b""
        return hmac.compare_digest(candidate, self._value) and len(given) == 1


def read_body(request) -> bytes | None:
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
    """A request that keeps at most ``MAX_BODY + 1`` bytes of its body.

    twisted.web receives the whole body before the resource runs, into a
    temporary file when it is large; no route of this service takes more
    than a kick, so the rest is read off the socket and dropped.  The byte
    over the limit lets the endpoints answer 413.
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
