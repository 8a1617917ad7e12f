"""The Klein application: routes are methods of an object holding their state.

There is no module-level ``Klein()`` app instance with global state: each
service builds its own :class:`WebApp`, so tests build one around fakes and
drive it with ``treq.testing.StubTreq(WebApp(...).resource())``, no socket.
"""

from __future__ import annotations

from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from mucsvc.web import openapi
from mucsvc.web.kick import KickEndpoint
from mucsvc.web.metrics import Metrics
from mucsvc.web.moderate import TURNED_OFF, ModerateEndpoint
from mucsvc.web.responses import json_error, json_response


#: What every ``/muc_hats`` path answers while the hats API is not configured.
HATS_OFF = "the hats API is off: set http_muc_hats_authorization_header"
#: What every ``/muc_admin`` path answers while the room-admin API is not configured.
ADMIN_OFF = "the room-admin API is off: set http_muc_admin_authorization_header"


class WebApp:
    """``GET /health``: the component link's state, 503 while it is down;
    ``POST /muc_kick`` (with ``muc``, the ``muc`` service, and the required
    ``kick_authorization``); ``POST /muc_moderate`` (when
    ``moderate_authorization`` is given); ``GET /metrics`` (``traffic``: the
    stanza counts).  ``database``: the PostgreSQL `DatabaseLink`, whose
    state both show (``/health`` answers 503 while it is down too: changes
    are refused then)."""

    app = Klein()
    log = Logger()

    def __init__(self, link, muc=None, *, kick_authorization=None, traffic=None,
                 moderate_authorization=None, database=None, slots=None):
        self.link = link
        self.database = database
        self.slots = slots
        self.kicks = KickEndpoint(muc, kick_authorization) if muc is not None else None
        self.moderation = (ModerateEndpoint(muc, moderate_authorization)
                           if muc is not None and moderate_authorization is not None else None)
        self.metrics = Metrics(link, traffic, muc,
                               self.kicks.results if self.kicks is not None else None,
                               self.moderation.results if self.moderation is not None else None,
                               database=database)

    def resource(self):
        return self.app.resource()

    @app.route("/health", methods=["GET", "HEAD"])
    def health(self, request):
        status = 200 if self.link.is_up else 503
        document = {"component": self.link.as_dict()}
        if self.database is not None:
            document["database"] = self.database.as_dict()
            if not self.database.is_up:
                status = 503
        if self.slots is not None:
            # A standby is well and waiting for a slot: 200, its component
            # link down by design.
            document["slot"] = self.slots.as_dict()
            if self.slots.standby:
                status = 200 if self.slots.lease.last_error is None else 503
        return json_response(request, status, document)

    @app.route("/muc_kick", methods=None)  # every method: the endpoint answers 405 itself
    def muc_kick(self, request):
        if self.kicks is None:
            return json_error(request, 404, "Not found")
        return self.kicks.render(request)

    @app.route("/muc_moderate", methods=None)
    def muc_moderate(self, request):
        if self.moderation is None:
            return json_error(request, 404, TURNED_OFF)
        return self.moderation.render(request)

    @app.route("/openapi.json", methods=["GET", "HEAD"])
    def openapi(self, request):
        return json_response(request, 200, openapi.document())

    @app.route("/metrics", methods=["GET", "HEAD"])
    def get_metrics(self, request):
        return self.metrics.render(request)

    #: The hats API's resource (``mucsvc.web.hats``), set when it is configured.
    hats = None

    @app.route("/muc_hats", branch=True)
    def muc_hats(self, request):
        if self.hats is None:
            # Off unless configured; a bare "Not found" left people
            # following the README's examples wondering what was wrong.
            return json_error(request, 404, HATS_OFF)
        return self.hats

    #: The room-admin API's resource (``mucsvc.web.muc_admin``), when configured.
    muc_admin = None

    @app.route("/muc_admin", branch=True)
    @app.route("/muc_admin/")
    def muc_admin_api(self, request):
        if self.muc_admin is None:
            return json_error(request, 404, ADMIN_OFF)
        return self.muc_admin

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
