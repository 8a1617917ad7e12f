"""The room APIs of a process that shares ejabberd's slots with others.

With ``component_slots``, several processes serve one domain, each the
rooms of its slot (`mucsvc.protocol.served_rooms`), and each holder has
read every persistent room from the database.  A room API request
(``/muc_admin``, ``/muc_kick``, ``/muc_moderate``, ``/muc_hats``) must
reach the process serving its room: anywhere else it would act on a
stale copy, whose change would then be written over the database's while
the room's real server goes on without it.  So:

- a standby (no slot token) holds no room: ``409``, saying so;
- a holder answers a request about a room it serves, and ``421``
  (Misdirected Request) about a room another process serves, naming it,
  so that the caller sends it to the next process; where it does not know
  yet, it asks ejabberd first (a probe: milliseconds when the room is
  here, `PROBE_TIMEOUT` when not, once per room), and ``503`` while its
  link to ejabberd is down, as it cannot ask;
- a request that names no room (the room list) is answered as always;
  ``/health``, ``/metrics`` and ``/openapi.json`` too.

The room is read where the request names it: the path
(``/muc_admin/rooms/{room}/…``), the query (``muc=``), or the JSON body
(``"muc"``, or ``"room"`` for a creation); a request whose room cannot be
read is left to its handler, which refuses it as it always does.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from twisted.logger import Logger
from twisted.web import resource, server

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol.served_rooms import NotConnected
from mucsvc.web.responses import json_error

ROOM_APIS = (b"/muc_admin", b"/muc_kick", b"/muc_moderate", b"/muc_hats")
STANDBY = ("this process is a standby: it holds no component slot and serves no room; "
           "send the request to the process serving the room")
#: Bodies larger than this are not read for a room (an avatar's names it in its path).
LARGEST_READ = 64 * 1024


def misdirected(room_jid: str) -> str:
    return (f"room {room_jid} is served by another process of this service: send the "
            f"request to the process serving it")


class SlotGuard(resource.Resource):
    """``inner`` (the Klein application's resource) behind the checks
    above; ``slots``: the `SlotService`; ``served``: the `ServedRooms`;
    ``domain``: the service's JID."""

    isLeaf = True
    log = Logger()

    def __init__(self, inner, slots, served=None, domain: str | None = None):
        super().__init__()
        self.inner = inner
        self.slots = slots
        self.served = served
        self.domain = domain

    def render(self, request):
        if not request.path.startswith(ROOM_APIS):
            return self.inner.render(request)
        if not self.slots.serving:
            return json_error(request, 409, STANDBY)
        room_jid = None if self.served is None else room_named_by(request, self.domain)
        if room_jid is None:
            return self.inner.render(request)
        known = self.served.served(room_jid)
        if known is True:
            return self.inner.render(request)
        if known is False:
            return json_error(request, 421, misdirected(room_jid))
        d = self.served.probe(room_jid)
        d.addCallbacks(self._answered, self._not_asked, callbackArgs=(request, room_jid),
                       errbackArgs=(request,))
        d.addErrback(lambda failure: self.log.failure("answering {path}", failure,
                                                      path=request.path))
        return server.NOT_DONE_YET

    def _answered(self, here: bool, request, room_jid: str) -> None:
        if here:
            body = self.inner.render(request)
            if body is server.NOT_DONE_YET:
                return
        else:
            body = json_error(request, 421, misdirected(room_jid))
        _finish(request, body)

    def _not_asked(self, failure, request) -> None:
        failure.trap(NotConnected)
        _finish(request, json_error(request, 503, "the component link to ejabberd is down: "
                                                  "which process serves the room is not known"))


def _finish(request, body: bytes) -> None:
    if request.finished or getattr(request, "_disconnected", False):
        return
    request.write(body)
    request.finish()


def room_named_by(request, domain: str) -> str | None:
    """The bare JID of the room ``request`` is about, or None."""
    parts = request.path.split(b"/")
    if request.path.startswith(b"/muc_admin/rooms/") and len(parts) > 3 and parts[3]:
        return _room_jid(unquote(parts[3].decode("utf-8", "replace")), domain)
    name = _first(request.args.get(b"muc"))
    if name is None:
        name = _named_in_body(request)
    return _room_jid(name, domain) if isinstance(name, str) else None


def _first(values):
    if not values:
        return None
    return values[0].decode("utf-8", "replace")


def _named_in_body(request):
    content = getattr(request, "content", None)
    if content is None:
        return None
    try:
        content.seek(0)
        raw = content.read(LARGEST_READ + 1)
        content.seek(0)
    except (OSError, ValueError):
        return None
    if not raw or len(raw) > LARGEST_READ:
        return None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict):
        return None
    if request.path == b"/muc_admin/rooms":
        return document.get("room")
    return document.get("muc")


def _room_jid(name: str, domain: str) -> str | None:
    text = name if "@" in name else f"{name}@{domain}"
    try:
        jid = parse_jid(text)
    except InvalidJID:
        return None
    if jid.user is None or jid.resource is not None or jid.host != domain:
        return None
    return jid.userhost()
