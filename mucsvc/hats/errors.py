"""The one error of the hats API, named by an XMPP stanza error condition
(as Prosody's mod_muc_hats_api reports them) so that every front end maps it
the same way: ``item-not-found`` or ``bad-request``."""

from __future__ import annotations

ITEM_NOT_FOUND = "item-not-found"
BAD_REQUEST = "bad-request"

NO_SUCH_ROOM = "no such room"
NOT_AFFILIATED = "user not affiliated with room"


class HatsError(Exception):
    """A refused hats operation: ``condition`` and a human-readable ``text``."""

    def __init__(self, condition: str, text: str):
        super().__init__(f"{condition}: {text}")
        self.condition = condition
        self.text = text


def bad_request(text: str) -> HatsError:
    return HatsError(BAD_REQUEST, text)
