"""``POST /muc_moderate``: retract a message of a room over HTTP (XEP-0425
on the service's own authority).

The body is a JSON object: ``muc`` (the room's bare JID), ``id`` (the
message's stanza id, as clients see it in ``<stanza-id by='room'/>``) and
an optional ``reason``.  It is the same use case as a moderator's request
(`MucApplication.moderate`) with the service as the moderator: the room's
announcement says ``by`` the room JID itself, with no occupant id.  The
endpoint exists only when ``http_muc_moderate_authorization_header`` is
set; the header is checked, in constant time, before the body is read.

Every answer is JSON; ``results`` counts them by outcome for ``/metrics``.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.app.errors import StoreFailed
from mucsvc.rooms.errors import MucError, NoSuchMessage
from mucsvc.storage.archive import seq_of
from mucsvc.web.requests import Refused, RequiredHeader, named_room, posted_json
from mucsvc.web.responses import http_status, json_error, json_response

RESULTS = ("ok", "unauthorized", "bad_request", "not_found", "too_large", "method_not_allowed",
           "unavailable")

MISSING_FIELDS = "Missing muc and/or id"
#: What a request to the endpoint gets while it is off.
TURNED_OFF = ("Not found: POST /muc_moderate is off; set "
              "http_muc_moderate_authorization_header in the configuration to turn it on")


class ModerateEndpoint:
    """Answers requests to ``/muc_moderate`` for the ``muc`` service;
    ``authorization`` is the exact ``Authorization`` header value required."""

    log = Logger()

    def __init__(self, muc, authorization: str):
        self.muc = muc
        self.results = dict.fromkeys(RESULTS, 0)
        self._authorization = RequiredHeader(authorization, on_refused=self._refused_early)

    @property
    def authorization(self) -> RequiredHeader:
        return self._authorization

    def render(self, request):
        try:
            document = posted_json(request, self._authorization)
            muc, sid, reason = document.get("muc"), document.get("id"), document.get("reason")
            if not isinstance(muc, str) or not isinstance(sid, str):
                raise Refused(400, MISSING_FIELDS)
            if "reason" in document and not isinstance(reason, str):
                raise Refused(400, "reason must be a string")
            room = named_room(muc, self.muc.rooms)
        except Refused as refused:
            return self._error(request, refused.result, refused.status, refused.message)
        seq = seq_of(sid)
        not_found = f"Message not found: {sid}"
        if seq is None:
            return self._error(request, "not_found", 404, not_found)

        try:
            done = self.muc.app.moderate(room, None, seq, reason)
        except (MucError, StoreFailed) as e:
            return self._refused(request, e, not_found)
        if isinstance(done, defer.Deferred):
            done.addCallbacks(lambda retraction: self._done(request, room, sid, retraction),
                              lambda failure: self._late_failure(request, failure, not_found))
            return done
        return self._done(request, room, sid, done)

    def _done(self, request, room, sid, retraction) -> bytes:
        if retraction is not None:
            self.log.info("message {id} of {room} retracted (HTTP request)", id=sid, room=room.jid)
        self.results["ok"] += 1
        return json_response(request, 200, {"retracted": sid, "muc": room.jid,
                                             "already": retraction is None})

    def _late_failure(self, request, failure, not_found):
        failure.trap(MucError, StoreFailed)
        return self._refused(request, failure.value, not_found)

    def _refused(self, request, error, not_found) -> bytes:
        status = http_status(error)
        if isinstance(error, NoSuchMessage):
            return self._error(request, "not_found", 404, not_found)
        if isinstance(error, StoreFailed):
            return self._error(request, "unavailable", status, "The change could not be stored")
        return self._error(request, "not_found" if status == 404 else "bad_request", status,
                           error.text or type(error).__name__)

    def _refused_early(self) -> None:
        self.results["unauthorized"] += 1

    def _error(self, request, result: str, status: int, message: str) -> bytes:
        self.results[result] += 1
        return json_error(request, status, message)
