"""The hats API over HTTP, under ``/muc_hats`` of the web service.

The four methods of ``IHatsService``, JSON in and out, for provisioning
scripts that do not speak XMPP::

    GET  /muc_hats?user=JID&muc=ROOM     -> 200 {"hats": {hat id: attachment}}
    PUT  /muc_hats?user=JID&muc=ROOM     {"hats": {...}}: exactly these hats
    POST /muc_hats/add     {"user", "muc", "hat", "attachment" (optional)}
    POST /muc_hats/remove  {"user", "muc", "hat"}

and the hats the room defines (XEP-0317 v0.3), the same list the room's
``urn:xmpp:hats:commands:list`` gives::

    GET  /muc_hats/definitions?muc=ROOM  -> 200 {"hats": [{"uri", "title", "hue"}]}
    POST /muc_hats/definitions/create    {"muc", "hat", "title", "hue" (optional)}
    POST /muc_hats/definitions/destroy   {"muc", "hat"}

Every change answers like the ``GET`` of its kind, with the user's hats or
the room's definitions afterwards.  ``HatsError`` maps to the status it
means (``item-not-found`` 404, ``bad-request`` 400), with ``{"error":
text, "condition": condition}``; a change the store refused is a 503 and
changed nothing.

Every request must carry the one configured ``Authorization`` header value
(``http_muc_hats_authorization_header``), compared in constant time before
anything else of the request is looked at; otherwise 401.  Without that
setting the API is not mounted at all and its paths answer 404.
"""

from __future__ import annotations


from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from mucsvc.app.errors import StoreFailed
from mucsvc.hats.errors import ITEM_NOT_FOUND, HatsError
from mucsvc.web.requests import Refused, RequiredHeader, json_object
from mucsvc.web.responses import json_error, json_response


class HatsApi:
    """``hats``: an ``IHatsService``; ``authorization``: the exact
    ``Authorization`` header value requests must carry."""

    app = Klein()
    log = Logger()

    def __init__(self, hats, authorization: str):
        self.hats = hats
        self._authorization = RequiredHeader(authorization)

    @property
    def authorization(self) -> RequiredHeader:
        """The header this API requires (for refusing before the body)."""
        return self._authorization

    def resource(self):
        return self.app.resource()

    # ---- routes ----------------------------------------------------------

    @app.route("/", methods=["GET", "PUT"], strict_slashes=False)
    async def user_hats(self, request):
        self._check_authorization(request)
        user, muc = _query(request, "user"), _query(request, "muc")
        if request.method == b"PUT":
            document = json_object(request)
            if "hats" not in document:
                raise Refused(400, "Missing hats")
            await self.hats.set_user_hats(user, muc, document["hats"])
        return await self._answer(request, user, muc)

    @app.route("/", strict_slashes=False)
    def user_hats_other_methods(self, request):
        # Mounted below /muc_hats, this resource sees that path as empty, for
        # which werkzeug reports a wrong method as "not found"; say it here.
        raise MethodNotAllowed(valid_methods=["GET", "PUT"])

    @app.route("/add", methods=["POST"])
    async def add(self, request):
        self._check_authorization(request)
        document = json_object(request)
        user, muc, hat = _fields(document, "user", "muc", "hat")
        await self.hats.add_user_hat(user, muc, hat, document.get("attachment"))
        return await self._answer(request, user, muc)

    @app.route("/remove", methods=["POST"])
    async def remove(self, request):
        self._check_authorization(request)
        user, muc, hat = _fields(json_object(request), "user", "muc", "hat")
        await self.hats.remove_user_hat(user, muc, hat)
        return await self._answer(request, user, muc)

    @app.route("/definitions", methods=["GET"])
    async def definitions(self, request):
        self._check_authorization(request)
        return await self._definitions(request, _query(request, "muc"))

    @app.route("/definitions/create", methods=["POST"])
    async def create_definition(self, request):
        self._check_authorization(request)
        document = json_object(request)
        muc, hat, title = _fields(document, "muc", "hat", "title")
        hue = document.get("hue")
        if hue is not None and (isinstance(hue, bool) or not isinstance(hue, (int, float))):
            raise Refused(400, "hue must be a number of degrees or null")
        await self.hats.define_room_hat(muc, hat, title, hue)
        return await self._definitions(request, muc)

    @app.route("/definitions/destroy", methods=["POST"])
    async def destroy_definition(self, request):
        self._check_authorization(request)
        muc, hat = _fields(json_object(request), "muc", "hat")
        await self.hats.destroy_room_hat(muc, hat)
        return await self._definitions(request, muc)

    async def _definitions(self, request, muc) -> bytes:
        hats = await self.hats.get_room_hats(muc)
        return json_response(request, 200, {"hats": hats})

    async def _answer(self, request, user, muc) -> bytes:
        hats = await self.hats.get_user_hats(user, muc)
        return json_response(request, 200, {"hats": hats})

    def _check_authorization(self, request) -> None:
        if not self._authorization.allows(request):
            raise Refused(401, "Authorization failed")

    # ---- errors ----------------------------------------------------------

    @app.handle_errors
    def refused(self, request, failure):
        """JSON for every error, and never a traceback on the wire."""
        error = failure.value
        if isinstance(error, HatsError):
            status = 404 if error.condition == ITEM_NOT_FOUND else 400
            return json_response(request, status, {"error": error.text, "condition": error.condition})
        if isinstance(error, Refused):
            return json_error(request, error.status, error.message)
        if isinstance(error, StoreFailed):
            return json_error(request, 503, "The change could not be stored")
        if isinstance(error, NotFound):
            return json_error(request, 404, "Not found")
        if isinstance(error, MethodNotAllowed):
            request.setHeader(b"Allow", ", ".join(error.valid_methods or []).encode("ascii"))
            return json_error(request, 405, "Method not allowed")
        self.log.failure("unhandled error in hats request", failure=failure)
        return json_error(request, 500, "Internal error")


def _query(request, name: str) -> str:
    values = request.args.get(name.encode("ascii"), [])
    if len(values) != 1:
        raise Refused(400, f"Give {name} once in the query string")
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, f"{name} is not UTF-8") from None


def _fields(document: dict, *names: str) -> list:
    values = [document.get(name) for name in names]
    missing = [name for name, value in zip(names, values) if not isinstance(value, str)]
    if missing:
        raise Refused(400, "Missing or not a string: " + ", ".join(missing))
    return values
