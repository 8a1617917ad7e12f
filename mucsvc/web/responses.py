"""JSON responses: every answer of the web service is a JSON document."""

from __future__ import annotations

import json


def json_response(request, status: int, document) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    return json.dumps(document).encode("utf-8")


def json_error(request, status: int, message: str) -> bytes:
    return json_response(request, status, {"error": message})
