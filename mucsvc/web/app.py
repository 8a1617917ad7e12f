"""The Klein application: routes are methods of an object holding their state.

There is no module-level ``Klein()`` app instance with global state: each
service builds its own :class:`WebApp`, so tests build one around fakes and
drive it with ``treq.testing.StubTreq(WebApp(...).resource())``, no socket.
"""

from __future__ import annotations

from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from mucsvc.web.responses import json_error, json_response


class WebApp:
    """``GET /health``: the component link's state, 503 while it is down."""

    app = Klein()
    log = Logger()

    def __init__(self, link):
        self.link = link

    def resource(self):
        return self.app.resource()

    @app.route("/health", methods=["GET", "HEAD"])
    def health(self, request):
        status = 200 if self.link.is_up else 503
        return json_response(request, status, {"component": self.link.as_dict()})

    @app.handle_errors
    def unexpected(self, request, failure):
        """JSON for every error, and never a traceback on the wire."""
        if failure.check(NotFound):
            return json_error(request, 404, "Not found")
        if failure.check(MethodNotAllowed):
            allowed = failure.value.valid_methods or []
            request.setHeader(b"Allow", ", ".join(allowed).encode("ascii"))
            return json_error(request, 405, "Method not allowed")
        self.log.failure("unhandled error in web request", failure=failure)
        return json_error(request, 500, "Internal error")
