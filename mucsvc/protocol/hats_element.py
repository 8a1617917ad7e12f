"""The hats element of an occupant's presence (XEP-0317).

``OccupantPresence`` asks once per presence it renders, not once per
recipient, and for nearly every occupant the answer is a dict lookup: only
affiliated users can have hats.  Only active hats are shown, ordered by id
(the order the store gives back), each with the title and hue (XEP-0317
v0.3) of the room's definition of it, or the wearer's own title when the
room defines it only by someone wearing it (`mucsvc.rooms.hats`)::

    <hats xmlns='urn:xmpp:hats:0'><hat uri='…' title='…' hue='210'/></hats>

Prosody 0.12 clients read the same element in Prosody's own namespace
(``xmpp:prosody.im/protocol/hats:1``, see its ``muc/hats.lib.lua``); with
``muc_hats_legacy_element`` the service sends both: the choice is the state
of the `HatsElements` the presence publisher is built with.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.xmltext import element
from mucsvc.rooms.hat_definitions import hue_text

_STANDARD = ((("xmlns", namespaces.HATS),),)
_WITH_LEGACY = _STANDARD + ((("xmlns", namespaces.LEGACY_HATS),),)


class HatsElements:
    """Renders a user's active hats for presence; ``legacy``: also in
    Prosody 0.12's namespace (``muc_hats_legacy_element``).  The presence
    publisher holds one, made from the configuration."""

    __slots__ = ("legacy", "_elements")

    def __init__(self, legacy: bool = False):
        self.legacy = legacy
        self._elements = _WITH_LEGACY if legacy else _STANDARD

    def __call__(self, room, bare_jid: str) -> str:
        """The hats of ``bare_jid`` in ``room`` as presence children ('' when
        there is no active hat)."""
        if bare_jid not in room.affiliations:
            return ""
        inner = "".join(
            element("hat", (("uri", uri), ("title", title),
                            ("hue", hue_text(hue) if hue is not None else None)))
            for uri, title, hue in room.shown_hats(bare_jid))
        if not inner:
            return ""
        return "".join(element("hats", attrs, inner) for attrs in self._elements)


#: Hats in the standard namespace only (what a publisher shows by default).
STANDARD_HATS = HatsElements()
