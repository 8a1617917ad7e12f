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

This is the synchronous core: the ad-hoc commands run in one step and use
it directly; everyone else goes through ``IHatsService``.
"""

from __future__ import annotations

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.hats import model
from mucsvc.hats.errors import ITEM_NOT_FOUND, NO_SUCH_ROOM, NOT_AFFILIATED, HatsError, bad_request
from mucsvc.rooms import Affiliation

#: The affiliations that may wear hats (outcasts are affiliated, but out).
WEARERS = frozenset({Affiliation.MEMBER, Affiliation.ADMIN, Affiliation.OWNER})


class Wardrobe:
    """Hats of the rooms of ``muc`` (a ``MUCService``): its rooms, its
    persistence, and its protocol context for the presence broadcasts."""

    def __init__(self, app):
        self.app = app

    # ---- reading -------------------------------------------------------

    def hats(self, user_jid, room_jid) -> dict:
        room, user = self._wearer(user_jid, room_jid)
        return model.copy_of(room.affiliation_data(user).get("hats"))

    # ---- changing ------------------------------------------------------

    def add(self, user_jid, room_jid, hat_id, attachment=None) -> None:
        hat_id = model.hat_id(hat_id)
        attachment = model.attachment({} if attachment is None else attachment)
        room, user = self._wearer(user_jid, room_jid)
        hats = model.copy_of(room.affiliation_data(user).get("hats"))
        hats[hat_id] = attachment
        self._replace(room, user, hats)

    def remove(self, user_jid, room_jid, hat_id) -> None:
        hat_id = model.hat_id(hat_id)
        room, user = self._wearer(user_jid, room_jid)
        hats = model.copy_of(room.affiliation_data(user).get("hats"))
        hats.pop(hat_id, None)
        self._replace(room, user, hats)

    def set(self, user_jid, room_jid, hats) -> None:
        hats = model.hats(hats)
        room, user = self._wearer(user_jid, room_jid)
        self._replace(room, user, hats)

    # ---- the steps -----------------------------------------------------

    def _wearer(self, user_jid, room_jid):
        """``(room, user's bare JID)``, or the reason there are none."""
        room = self._room(room_jid)
        user = _bare_user(user_jid)
        if room.affiliations.get(user) not in WEARERS:
            raise HatsError(ITEM_NOT_FOUND, NOT_AFFILIATED)
        return room, user

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
        return room

    def _replace(self, room, user: str, hats: dict) -> None:
        data = room.affiliation_data(user)
        if model.copy_of(data.get("hats")) == hats:
            return
        if hats:
            data["hats"] = hats
        else:
            data.pop("hats", None)
        self.app.set_affiliation_data(room, user, data)


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
