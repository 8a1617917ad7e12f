"""The one error of the hats API, named by an XMPP stanza error condition
(as Prosody's mod_muc_hats_api reports them) so that every front end maps it
the same way: ``item-not-found``, ``bad-request`` or, for a user who asks
in a room's own commands, ``forbidden``."""

from __future__ import annotations

ITEM_NOT_FOUND = "item-not-found"
BAD_REQUEST = "bad-request"
FORBIDDEN = "forbidden"

NO_SUCH_ROOM = "no such room"
SERVED_ELSEWHERE = "the room is served by another process of this service"
NOT_AFFILIATED = "user not affiliated with room"
NO_SUCH_HAT = "no such hat in the room"
NOT_A_MANAGER = "only owners and admins of the room manage its hats"


class HatsError(Exception):
    """A refused hats operation: ``condition`` and a human-readable ``text``."""

    def __init__(self, condition: str, text: str):
        super().__init__(f"{condition}: {text}")
        self.condition = condition
        self.text = text


def bad_request(text: str) -> HatsError:
    return HatsError(BAD_REQUEST, text)
