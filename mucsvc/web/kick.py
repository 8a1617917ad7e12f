"""``POST /muc_kick``: remove an occupant from a room over HTTP.

The contract is Prosody's ``mod_http_muc_kick`` (a JSON body with
``nickname``, ``muc`` and an optional ``reason``, guarded by one configured
``Authorization`` header value), made stricter where Prosody is loose: the
header is compared in constant time and before anything of the body is
looked at, malformed bodies are answered with what is wrong with them, the
room is found by its normalised JID, and a missing occupant is a 404.  The
kick itself is the domain's (``MucApplication.kick``): 307 to everyone, no actor.
With ``"ban": true`` the occupant's user (bare JID) becomes an outcast with
the reason instead (``MucApplication.ban``, one stored change): every
occupant of theirs leaves with 301, as XEP-0045 §9.1 announces a ban.

Every answer is JSON; ``results`` counts them by outcome for ``/metrics``.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.app.errors import StoreFailed

from mucsvc.rooms.errors import MucError
from mucsvc.rooms.names import prep_nick
from mucsvc.web.requests import Refused, RequiredHeader, named_room, posted_json
from mucsvc.web.responses import http_status, json_error, json_response

#: Outcomes counted in ``KickEndpoint.results`` (and exported as metrics).
RESULTS = ("ok", "unauthorized", "bad_request", "not_found", "too_large", "method_not_allowed",
           "unavailable")

MISSING_FIELDS = "Missing nickname and/or MUC"  # Prosody's words


class KickEndpoint:
    """Answers requests to ``/muc_kick`` for the ``muc`` service.

    ``authorization`` is the exact ``Authorization`` header value required
    (the config refuses to start without one).
    """

    log = Logger()

    def __init__(self, muc, authorization: str):
        self.muc = muc
        self.results = dict.fromkeys(RESULTS, 0)
        self._authorization = RequiredHeader(authorization, on_refused=self._refused_early)

    def render(self, request) -> bytes:
        """The whole exchange; returns the JSON body to send."""
        try:
            document = posted_json(request, self._authorization)
            nickname, muc = document.get("nickname"), document.get("muc")
            reason = document.get("reason")
            if not isinstance(nickname, str) or not isinstance(muc, str):
                raise Refused(400, MISSING_FIELDS)
            if "reason" in document and not isinstance(reason, str):
                raise Refused(400, "reason must be a string")
            ban = document.get("ban", False)
            if not isinstance(ban, bool):
                raise Refused(400, "ban must be a boolean")
            room = named_room(muc, self.muc.rooms)
        except Refused as refused:
            return self._error(request, refused.result, refused.status, refused.message)

        nick = _prepared_nick(nickname)
        if nick is None or room.occupant_by_nick(nick) is None:
            return self._error(request, "not_found", 404, f"Occupant not found: {nickname}")

        try:
            if ban:
                done = self.muc.app.ban(room.jid, nick, reason or None)
            else:
                done = self.muc.app.kick(room.jid, nick, reason or None)
        except (MucError, StoreFailed) as e:
            return self._refused(request, e)
        if isinstance(done, defer.Deferred):  # a ban with a store that answers later
            done.addCallbacks(lambda _: self._done(request, room, nick, ban),
                              lambda failure: self._late_failure(request, failure))
            return done
        return self._done(request, room, nick, ban)

    def _done(self, request, room, nick, ban) -> bytes:
        self.log.info("{what} {nick} from {room} (HTTP request)", what="banned" if ban else "kicked",
                      nick=nick, room=room.jid)
        self.results["ok"] += 1
        answer = {"kicked": nick, "muc": room.jid}
        if ban:
            answer["banned"] = True
        return json_response(request, 200, answer)

    def _late_failure(self, request, failure):
        failure.trap(MucError, StoreFailed)
        return self._refused(request, failure.value)

    def _refused(self, request, error) -> bytes:
        status = http_status(error)
        if isinstance(error, StoreFailed):
            return self._error(request, "unavailable", status, "The change could not be stored")
        return self._error(request, "not_found" if status == 404 else "bad_request", status,
                           error.text or type(error).__name__)

    @property
    def authorization(self) -> RequiredHeader:
        """The header this endpoint requires (for refusing before the body)."""
        return self._authorization

    def _refused_early(self) -> None:
        self.results["unauthorized"] += 1

    def _error(self, request, result: str, status: int, message: str) -> bytes:
        self.results[result] += 1
        return json_error(request, status, message)


def _prepared_nick(nickname: str) -> str | None:
    """The nick as occupants are keyed (resourceprep), or None: a nickname
    that fails preparation cannot belong to anyone in a room."""
    try:
        return prep_nick(nickname)
    except MucError:
        return None
