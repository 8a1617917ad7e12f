"""JSON responses: every answer of the web service is a JSON document."""

from __future__ import annotations

import json

from mucsvc.app.errors import StoreFailed
from mucsvc.rooms import errors

#: The one table from refusals of the application to HTTP statuses; a
#: subclass not listed takes its nearest listed base's status.
HTTP_STATUSES = {
    errors.MucError: 400,
    errors.NoSuchRoom: 404,
    errors.NoSuchOccupant: 404,
    errors.NoSuchMessage: 404,
    errors.NoSuchHat: 404,
    errors.Forbidden: 403,
    errors.NotAllowed: 403,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    StoreFailed: 503,
}


def http_status(error) -> int:
    for cls in type(error).__mro__:
        status = HTTP_STATUSES.get(cls)
        if status is not None:
            return status
    raise TypeError(f"not a refusal: {error!r}")


def json_response(request, status: int, document) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps(document).encode("utf-8")


def json_error(request, status: int, message: str) -> bytes:
    return json_response(request, status, {"error": message})
