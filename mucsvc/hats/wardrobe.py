"""Reading and changing users' hats in the rooms of the ``muc`` service.

Hats are not a table of their own: like Prosody, the service keeps them in
the user's affiliation data (key ``hats``), so they are stored with the
room, restored with it, and go when the affiliation goes.  A change is an
affiliation "change" to the same affiliation with new data, through the
domain's ``set_affiliation``; the occupants of that user are then shown
again to the room with their new hats (no status code, no actor), as
Prosody's ``set_affiliation`` does.  Unlike Prosody, a change that leaves
the hats as they were sends and stores nothing, and a user who is not in
the room is not announced (their affiliation did not change).

The room's hat definitions (XEP-0317 v0.3) are read and changed here too:
`definitions`, `define` and `destroy` (one application operation each),
and `assign`/`unassign`, v0.3's way of giving a defined hat, which are
`add`/`remove` of an active, required hat: whichever front end is used
(the ``hats`` service, the service admins' and the rooms' ad-hoc commands,
the HTTP API), the same data changes the same way.  A change made by a
user (``actor``, a full JID: the room's own commands) needs an owner or an
admin of the room (``forbidden`` otherwise); ``actor`` None is the
service's own authority.

This is the synchronous core: the ad-hoc commands run in one step and use
it directly; everyone else goes through ``IHatsService``.  A change
returns what the application returned: a Deferred when the store answers
later.
"""

from __future__ import annotations

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.hats import model
from mucsvc.hats.errors import (
    FORBIDDEN, ITEM_NOT_FOUND, NO_SUCH_HAT, NO_SUCH_ROOM, NOT_A_MANAGER, NOT_AFFILIATED,
    SERVED_ELSEWHERE, HatsError, bad_request,
)
from mucsvc.rooms.errors import NoSuchHat, NotAcceptable
from mucsvc.rooms.hat_definitions import HatDefinition, is_hue
from mucsvc.rooms.hats import WEARERS
from mucsvc.rooms.permissions import may_manage_hats

#: What a hat given by a room's v0.3 command is: shown, and not the
#: wearer's to take off (as Prosody's admin command gives it).
ASSIGNED = {"active": True, "required": True}


class Wardrobe:
    """Hats of the rooms of ``muc`` (a ``MUCService``): its rooms, its
    persistence, and its protocol context for the presence broadcasts.
    ``elsewhere(room_jid)``: with several processes, whether another
    serves the room (this one's copy is not to be changed)."""

    def __init__(self, app, elsewhere=None):
        self.app = app
        self._elsewhere = elsewhere

    # ---- reading -------------------------------------------------------

    def hats(self, user_jid, room_jid) -> dict:
        room, user = self._wearer(user_jid, room_jid)
        return model.copy_of(room.affiliation_data(user).get("hats"))

    # ---- changing ------------------------------------------------------

    def add(self, user_jid, room_jid, hat_id, attachment=None):
        hat_id = model.hat_id(hat_id)
        attachment = model.attachment({} if attachment is None else attachment)
        room, user = self._wearer(user_jid, room_jid)
        hats = model.copy_of(room.affiliation_data(user).get("hats"))
        hats[hat_id] = attachment
        return self._replace(room, user, hats)

    def remove(self, user_jid, room_jid, hat_id):
        hat_id = model.hat_id(hat_id)
        room, user = self._wearer(user_jid, room_jid)
        hats = model.copy_of(room.affiliation_data(user).get("hats"))
        hats.pop(hat_id, None)
        return self._replace(room, user, hats)

    def set(self, user_jid, room_jid, hats):
        hats = model.hats(hats)
        room, user = self._wearer(user_jid, room_jid)
        return self._replace(room, user, hats)

    # ---- the room's hats (XEP-0317 v0.3) -------------------------------

    def definitions(self, room_jid, actor=None) -> list:
        """The room's hats, ``[{"uri", "title", "hue"}]`` ordered by URI:
        those it defines and those someone wears without a definition."""
        room = self._managed(room_jid, actor)
        return [d.as_dict() for d in room.hat_definitions()]

    def assigned(self, room_jid, actor=None) -> list:
        """``[(bare JID, {"uri", "title", "hue"})]`` of every hat worn."""
        room = self._managed(room_jid, actor)
        definitions = {d.uri: d for d in room.hat_definitions()}
        return [(user, definitions[uri].as_dict()) for user, uri in room.assigned_hats()]

    def define(self, room_jid, uri, title, hue=None, actor=None):
        """Define the hat (or change its title or hue)."""
        uri = model.hat_id(uri)
        if not isinstance(title, str) or not title.strip():
            raise bad_request("a hat needs a title")
        if hue is not None and not is_hue(hue):
            raise bad_request("a hat's hue must be an angle from 0 to less than 360")
        room = self._managed(room_jid, actor)
        try:
            return self.app.define_hat(room, HatDefinition(uri, title,
                                                           None if hue is None else float(hue)))
        except NotAcceptable as e:
            raise bad_request(e.text) from None

    def destroy(self, room_jid, uri, actor=None):
        """Forget the hat and take it off everyone who wears it."""
        uri = model.hat_id(uri)
        room = self._managed(room_jid, actor)
        try:
            return self.app.destroy_hat(room, uri)
        except NoSuchHat:
            raise HatsError(ITEM_NOT_FOUND, NO_SUCH_HAT) from None

    def assign(self, user_jid, room_jid, uri, actor=None):
        """Give the user one of the room's hats, shown and required."""
        uri = model.hat_id(uri)
        room = self._managed(room_jid, actor)
        if room.hat_definition(uri) is None:
            raise HatsError(ITEM_NOT_FOUND, NO_SUCH_HAT)
        room, user = self._wearer(user_jid, room.jid)
        hats = model.copy_of(room.affiliation_data(user).get("hats"))
        hats[uri] = dict(hats.get(uri, {}), **ASSIGNED)
        return self._replace(room, user, hats)

    def unassign(self, user_jid, room_jid, uri, actor=None):
        """Take the hat off the user (no error if the user has none)."""
        self._managed(room_jid, actor)
        return self.remove(user_jid, room_jid, uri)

    # ---- the steps -----------------------------------------------------

    def _wearer(self, user_jid, room_jid):
        """``(room, user's bare JID)``, or the reason there are none."""
        room = self._room(room_jid)
        user = _bare_user(user_jid)
        if room.affiliations.get(user) not in WEARERS:
            raise HatsError(ITEM_NOT_FOUND, NOT_AFFILIATED)
        return room, user

    def _managed(self, room_jid, actor):
        """The room, once ``actor`` (None: the service) may manage its hats."""
        room = self._room(room_jid)
        if actor is not None and not may_manage_hats(room.affiliation_of(actor)):
            raise HatsError(FORBIDDEN, NOT_A_MANAGER)
        return room

    def _room(self, room_jid):
        try:
            parsed = _jid(room_jid)
        except InvalidJID:
            raise HatsError(ITEM_NOT_FOUND, NO_SUCH_ROOM) from None
        room = None
        rooms = self.app.rooms
        if parsed.user is not None and parsed.resource is None and parsed.host == rooms.domain:
            room = rooms.room(parsed.userhost())
        if room is None:
            raise HatsError(ITEM_NOT_FOUND, NO_SUCH_ROOM)
        if self._elsewhere is not None and self._elsewhere(room.jid):
            raise HatsError(ITEM_NOT_FOUND, SERVED_ELSEWHERE)
        return room

    def _replace(self, room, user: str, hats: dict):
        data = room.affiliation_data(user)
        if model.copy_of(data.get("hats")) == hats:
            return None
        if hats:
            data["hats"] = hats
        else:
            data.pop("hats", None)
        return self.app.set_affiliation_data(room, user, data)


def _jid(value):
    """A parsed JID from ``str`` or a Twisted ``JID``; `InvalidJID` when malformed."""
    if not isinstance(value, str) and hasattr(value, "full"):
        value = value.full()
    return parse_jid(value)


def _bare_user(user_jid) -> str:
    try:
        return _jid(user_jid).userhost()
    except InvalidJID:
        raise bad_request(f"invalid user JID: {user_jid!r}") from None
