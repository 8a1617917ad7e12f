"""The room-admin API over HTTP, under ``/muc_admin`` of the web service.

For operators and provisioning scripts that do not speak XMPP; the names
are those of ejabberd's ``mod_muc_admin`` commands where one fits::

    GET  /muc_admin/rooms?after=&max=            muc_online_rooms (with counts)
    POST /muc_admin/rooms                        create_room_with_opts
    GET  /muc_admin/rooms/{room}                 get_room_options
    GET  /muc_admin/rooms/{room}/occupants       get_room_occupants
    GET  /muc_admin/rooms/{room}/affiliations    get_room_affiliations
    POST /muc_admin/rooms/{room}/config          change_room_option
    POST /muc_admin/rooms/{room}/affiliations    set_room_affiliation (a batch)
    POST /muc_admin/rooms/{room}/destroy         destroy_room
    POST /muc_admin/rooms/{room}/message         a message from the room itself
    POST /muc_admin/rooms/{room}/invitations     send_direct_invitation (XEP-0249)
    PUT|GET|DELETE /muc_admin/rooms/{room}/avatar  the room's avatar (XEP-0486)
    GET  /muc_admin/rooms/{room}/archive?max=&after=&before=

``{room}`` is the room's bare JID or its local part.  Every change is one
`MucApplication` operation on the service's own authority (no actor), so
it is checked, stored and announced as the same change made over XMPP.

Every request must carry the configured ``Authorization`` header value
(``http_muc_admin_authorization_header``), compared in constant time before
anything else of the request is looked at; otherwise 401.  Without that
setting the API is not mounted and its paths answer 404.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime

from klein import Klein
from twisted.internet import defer
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from mucsvc.app.application import AffiliationItem
from mucsvc.app.errors import StoreFailed
from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.rooms import Affiliation
from mucsvc.rooms.errors import MucError
from mucsvc.storage.archive import ArchiveItemNotFound, ArchiveQuery, seq_of, sid_text
from mucsvc.web.requests import MAX_BODY, Refused, RequiredHeader, json_object
from mucsvc.web.responses import http_status, json_error, json_response

#: The largest page of ``GET /muc_admin/rooms`` and of the archive.
MAX_PAGE = 1000
DEFAULT_PAGE = 100


class MucAdminApi:
    """``muc``: the ``muc`` service; ``authorization``: the exact
    ``Authorization`` header value requests must carry."""

    app = Klein()
    log = Logger()

    def __init__(self, muc, authorization: str, served=None):
        """``served``: with several processes, the `ServedRooms` (the list
        leaves out the rooms another process serves)."""
        self.muc = muc
        self._authorization = RequiredHeader(authorization)
        self._served = served

    @property
    def authorization(self) -> RequiredHeader:
        return self._authorization

    def resource(self):
        return self.app.resource()

    # ---- reading ---------------------------------------------------------

    @app.route("/rooms", methods=["GET"])
    def online_rooms(self, request):
        self._check(request)
        after = _query(request, "after")
        size = _page_size(request)
        rooms = sorted(self.muc.rooms.rooms(), key=lambda r: r.jid)
        if self._served is not None:
            rooms = [r for r in rooms if self._served.served(r.jid) is not False]
        if after is not None:
            rooms = [r for r in rooms if r.jid > after]
        page = rooms[:size]
        return json_response(request, 200, {
            "rooms": [{"jid": r.jid, "name": r.config.name, "occupants": len(r.occupants),
                       "persistent": r.config.persistent, "public": r.config.public,
                       "locked": r.locked} for r in page],
            "complete": len(rooms) <= size,
        })

    @app.route("/rooms/<room>", methods=["GET"])
    def room_options(self, request, room):
        self._check(request)
        found = self._room(room)
        return json_response(request, 200, {"jid": found.jid, "locked": found.locked,
                                            "occupants": len(found.occupants),
                                            "options": room_options(found.config)})

    @app.route("/rooms/<room>/occupants", methods=["GET"])
    def room_occupants(self, request, room):
        self._check(request)
        found = self._room(room)
        occupants = [{"nick": o.nick, "role": o.role.value,
                      "affiliation": found.affiliation_of(o.bare_jid).value,
                      "jid": o.current_jid, "jids": list(o.sessions)}
                     for o in sorted(found.occupants, key=lambda o: o.nick)]
        return json_response(request, 200, {"jid": found.jid, "occupants": occupants})

    @app.route("/rooms/<room>/affiliations", methods=["GET"])
    def room_affiliations(self, request, room):
        self._check(request)
        return json_response(request, 200, self._affiliations(self._room(room)))

    @app.route("/rooms/<room>/archive", methods=["GET"])
    async def room_archive(self, request, room):
        self._check(request)
        found = self._room(room)
        after, before = _message_id(request, "after"), _message_id(request, "before")
        query = ArchiveQuery(max=_page_size(request, default=20), after=after, before=before,
                             last=before is not None and after is None)
        try:
            page = self.muc.app.archive_query(found, None, query)
            if isinstance(page, defer.Deferred):  # an archive that answers later
                page = await page
        except ArchiveItemNotFound:
            raise Refused(404, "No such message in the room's archive") from None
        return json_response(request, 200, {
            "jid": found.jid, "complete": page.complete,
            "messages": [{"id": sid_text(m.seq), "stamp": _stamp(m.stamp), "nick": m.nick,
                          "author": m.author, "retracted": m.retracted,
                          "payload": _as_sent(m.payload)}
                         for m in page.messages]})

    # ---- changing --------------------------------------------------------

    @app.route("/rooms", methods=["POST"])
    async def create_room(self, request):
        self._check(request)
        document = json_object(request)
        name, owner = document.get("room"), document.get("owner")
        if not isinstance(name, str) or not isinstance(owner, str):
            raise Refused(400, "Missing or not a string: room, owner")
        room_jid = self._room_jid(name)
        owner_jid = _bare_jid("owner", owner)
        options = _options(document)
        room = await _settled(self.muc.app.create_by_service(room_jid, owner_jid, options))
        self.log.info("created {room} for {owner} (HTTP request)", room=room.jid, owner=owner_jid)
        return json_response(request, 201, {"jid": room.jid, "locked": room.locked,
                                            "options": room_options(room.config)})

    @app.route("/rooms/<room>/config", methods=["POST"])
    async def change_options(self, request, room):
        self._check(request)
        found = self._room(room)
        options = _options(json_object(request), required=True)
        await _settled(self.muc.app.configure(found, None, options))
        return json_response(request, 200, {"jid": found.jid,
                                            "options": room_options(found.config)})

    @app.route("/rooms/<room>/affiliations", methods=["POST"])
    async def set_affiliations(self, request, room):
        self._check(request)
        found = self._room(room)
        listed = json_object(request).get("affiliations")
        if not isinstance(listed, list) or not listed:
            raise Refused(400, "affiliations must be a non-empty list")
        items = [_affiliation_item(entry) for entry in listed]
        await _settled(self.muc.app.change_roles_and_affiliations(found, None, items))
        return json_response(request, 200, self._affiliations(found))

    @app.route("/rooms/<room>/message", methods=["POST"])
    def send_message(self, request, room):
        self._check(request)
        found = self._room(room)
        body = json_object(request).get("body")
        if not isinstance(body, str) or not body:
            raise Refused(400, "body must be a non-empty string")
        told = self.muc.app.announce(found, body)
        return json_response(request, 200, {"jid": found.jid, "sent_to": told})

    @app.route("/rooms/<room>/invitations", methods=["POST"])
    def send_invitations(self, request, room):
        self._check(request)
        found = self._room(room)
        document = json_object(request)
        users = document.get("users")
        if not isinstance(users, list) or not users or not all(isinstance(u, str) for u in users):
            raise Refused(400, "users must be a non-empty list of JIDs")
        if len(users) > MAX_PAGE:
            raise Refused(400, f"at most {MAX_PAGE} users at once")
        bare = [_bare_jid("user", user) for user in users]
        reason = _optional_string(document, "reason")
        password = _optional_string(document, "password")
        told = self.muc.app.invite_directly(found, bare, reason, password)
        return json_response(request, 200, {"jid": found.jid, "invited": told})

    @app.route("/rooms/<room>/destroy", methods=["POST"])
    async def destroy_room(self, request, room):
        self._check(request)
        found = self._room(room)
        document = json_object(request)
        reason = _optional_string(document, "reason")
        venue = _optional_string(document, "alternate_venue")
        if venue is not None:
            venue = _bare_jid("alternate_venue", venue)
        await _settled(self.muc.app.destroy(found, None, reason=reason, alternate_venue=venue))
        self.log.info("destroyed {room} (HTTP request)", room=found.jid)
        return json_response(request, 200, {"destroyed": found.jid})

    # ---- the room's avatar ----------------------------------------------

    @property
    def avatar_body_limit(self) -> int:
        """The largest ``PUT .../avatar`` body: the largest image the
        service takes, in base64, and room for the rest of the document."""
        return avatar_body_limit(self.muc.rooms.limits.max_avatar_bytes)

    @app.route("/rooms/<room>/avatar", methods=["GET"])
    def get_avatar(self, request, room):
        self._check(request)
        found = self._room(room)
        avatar = found.avatar
        if avatar is None:
            raise Refused(404, f"Room has no avatar: {found.jid}")
        return json_response(request, 200, {
            "jid": found.jid, "type": avatar.media_type, "hash": avatar.sha1,
            "data": base64.b64encode(avatar.data).decode("ascii")})

    @app.route("/rooms/<room>/avatar", methods=["PUT"])
    async def put_avatar(self, request, room):
        self._check(request)
        found = self._room(room)
        limit = self.avatar_body_limit
        try:
            document = json_object(request, limit)
        except Refused as refused:
            if refused.status != 413:
                raise
            raise Refused(413, "The avatar is too large: at most "
                          f"{self.muc.rooms.limits.max_avatar_bytes} bytes of image "
                          f"({limit} bytes of request)", "too_large") from None
        media_type, text = document.get("type"), document.get("data")
        if not isinstance(media_type, str) or not isinstance(text, str) or not text:
            raise Refused(400, "type and data (the image in base64) must be strings")
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, "data is not valid base64") from None
        if not data:
            raise Refused(400, "data holds no image")
        await _settled(self.muc.app.set_room_avatar(found, None, media_type, data))
        self.log.info("set the avatar of {room} (HTTP request)", room=found.jid)
        avatar = found.avatar
        return json_response(request, 200, {"jid": found.jid, "type": avatar.media_type,
                                            "hash": avatar.sha1, "bytes": len(avatar.data)})

    @app.route("/rooms/<room>/avatar", methods=["DELETE"])
    async def delete_avatar(self, request, room):
        self._check(request)
        found = self._room(room)
        had = found.avatar is not None
        await _settled(self.muc.app.set_room_avatar(found, None))
        if had:
            self.log.info("removed the avatar of {room} (HTTP request)", room=found.jid)
        return json_response(request, 200, {"jid": found.jid, "removed": had})

    @app.route("/", strict_slashes=False)
    def top(self, request):
        # ``/muc_admin`` and ``/muc_admin/``: nothing here, but the header
        # is checked first, as everywhere below.
        raise NotFound()

    # ---- helpers ---------------------------------------------------------

    def _check(self, request) -> None:
        if not self._authorization.allows(request):
            raise Refused(401, "Authorization failed")

    def _room_jid(self, name: str) -> str:
        domain = self.muc.rooms.domain
        text = name if "@" in name else f"{name}@{domain}"
        try:
            jid = parse_jid(text)
        except InvalidJID:
            raise Refused(400, f"Invalid room JID: {name}") from None
        if jid.resource is not None or jid.user is None:
            raise Refused(400, f"Room must be a bare JID: {name}")
        if jid.host != domain:
            raise Refused(400, f"Room is not on {domain}: {name}")
        return jid.userhost()

    def _room(self, name: str):
        try:
            room_jid = self._room_jid(name)
        except Refused:
            room_jid = None
        room = self.muc.rooms.room(room_jid) if room_jid is not None else None
        if room is None:
            raise Refused(404, f"Room not found: {name}")
        return room

    @staticmethod
    def _affiliations(room) -> dict:
        listed = []
        for affiliation in (Affiliation.OWNER, Affiliation.ADMIN, Affiliation.MEMBER,
                            Affiliation.OUTCAST):
            for jid, data in room.affiliation_list(affiliation):
                entry = {"jid": jid, "affiliation": affiliation.value,
                         "reason": (data or {}).get("reason") or ""}
                nick = (data or {}).get("reserved_nickname")
                if nick:
                    entry["nick"] = nick
                listed.append(entry)
        return {"jid": room.jid, "affiliations": listed}

    # ---- errors ----------------------------------------------------------

    @app.handle_errors
    def refused(self, request, failure):
        error = failure.value
        if isinstance(error, Refused):
            return json_error(request, error.status, error.message)
        if isinstance(error, StoreFailed):
            return json_error(request, 503, error.text or "The change could not be stored")
        if isinstance(error, MucError):
            return json_error(request, http_status(error), error.text or type(error).__name__)
        if isinstance(error, RequestRedirect):
            error = NotFound()  # a path with "//": no redirects, it is not a route
        if isinstance(error, (NotFound, MethodNotAllowed)) and \
                not self._authorization.allows(request):
            return json_error(request, 401, "Authorization failed")  # nothing about paths
        if isinstance(error, NotFound):
            return json_error(request, 404, "Not found")
        if isinstance(error, MethodNotAllowed):
            request.setHeader(b"Allow", ", ".join(error.valid_methods or []).encode("ascii"))
            return json_error(request, 405, "Method not allowed")
        self.log.failure("unhandled error in room-admin request", failure=failure)
        return json_error(request, 500, "Internal error")


async def _settled(result):
    """An operation's result, waiting when the store answers later."""
    if isinstance(result, defer.Deferred):
        return await result
    return result


def avatar_body_limit(max_avatar_bytes: int | None) -> int:
    """The body that carries an image of ``max_avatar_bytes`` in base64,
    with 1 KiB for the rest (at least the service's usual limit)."""
    if max_avatar_bytes is None:
        return 16 * 1024 * 1024
    return max(MAX_BODY, 4 * -(-max_avatar_bytes // 3) + 1024)


def room_options(config) -> dict:
    """A room's options as JSON: `RoomConfig` field names; role sets as
    sorted lists.  The hat definitions are not options (the hats API and
    the room's commands change them, with their wearers)."""
    options = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, frozenset):
            value = sorted(role.value for role in value)
        options[field.name] = value
    options.pop("password", None)  # never shown
    options.pop("hats", None)  # the hats API's: /muc_hats/definitions
    options["password_protected"] = config.password is not None
    return options


def _options(document: dict, required=False) -> dict:
    options = document.get("options", {} if not required else None)
    if not isinstance(options, dict) or (required and not options):
        raise Refused(400, "options must be a " + ("non-empty " if required else "") + "JSON object")
    return dict(options)


def _affiliation_item(entry) -> AffiliationItem:
    if not isinstance(entry, dict):
        raise Refused(400, "each affiliation must be a JSON object")
    jid, affiliation = entry.get("jid"), entry.get("affiliation")
    if not isinstance(jid, str) or not isinstance(affiliation, str):
        raise Refused(400, "each affiliation needs jid and affiliation strings")
    try:
        parsed = Affiliation(affiliation)
    except ValueError:
        raise Refused(400, f"Unknown affiliation: {affiliation}") from None
    reason = _optional_string(entry, "reason")
    try:
        target = parse_jid(jid)
    except InvalidJID:
        raise Refused(400, f"Invalid JID: {jid}") from None
    return AffiliationItem(target.userhost(), parsed, reason)


def _bare_jid(name: str, value: str) -> str:
    try:
        jid = parse_jid(value)
    except InvalidJID:
        raise Refused(400, f"Invalid {name} JID: {value}") from None
    if jid.resource is not None or jid.user is None:
        raise Refused(400, f"{name} must be a bare JID with a local part: {value}")
    return jid.userhost()


def _optional_string(document: dict, name: str):
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise Refused(400, f"{name} must be a string")
    return value or None


def _query(request, name: str):
    values = request.args.get(name.encode("ascii"), [])
    if not values:
        return None
    if len(values) > 1:
        raise Refused(400, f"Give {name} at most once")
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, f"{name} is not UTF-8") from None


def _page_size(request, default=DEFAULT_PAGE) -> int:
    text = _query(request, "max")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise Refused(400, f"max must be an integer from 1 to {MAX_PAGE}")
    return int(text)


def _message_id(request, name: str):
    text = _query(request, name)
    if text is None:
        return None
    seq = seq_of(text)
    if seq is None:
        raise Refused(404, "No such message in the room's archive")
    return seq


def _as_sent(payload: str) -> str:
    """An archived stanza as the room sent it, addressed to nobody: the
    archive keeps it with an empty ``to`` (the place each recipient's
    address goes, `mucsvc.storage.archive`), which means nothing to a
    reader of the API."""
    head = payload.find(">")
    cut = payload.find(' to=""', 0, head)
    return payload if cut < 0 else payload[:cut] + payload[cut + len(' to=""'):]


def _stamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


