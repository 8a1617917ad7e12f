"""The room's vCard (XEP-0054 on the room's bare JID), as XEP-0486 uses it
for room avatars, and the XEP-0153 presence that carries the avatar's hash.

Only the photo is kept: a ``<vCard/>`` set by an owner becomes the image
bytes of its ``PHOTO``'s ``BINVAL`` and their ``TYPE`` (the domain's
`Avatar`), and a vCard without a photo (an empty ``<vCard/>``) removes the
avatar.  Reading gives back a vCard holding that photo.  Anyone may read
it, occupant or not, in any room, as in Prosody and ejabberd.
"""

from __future__ import annotations

import base64
import binascii

from mucsvc.protocol import namespaces
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms.errors import BadRequest

NS = namespaces.VCARD


class VCardHandler:
    """``get``/``set`` of ``<vCard xmlns='vcard-temp'/>`` to a room."""

    def __init__(self, context):
        self.context = context

    def get(self, iq, sender, room, vcard) -> None:
        avatar = room.avatar
        if avatar is None:
            # No vCard at all: Prosody and ejabberd answer so for a room without one.
            raise Refusal("item-not-found", "cancel", "This room has no avatar")
        self.context.send(iq_result(iq, vcard_xml(avatar.media_type, avatar.data)))

    def set(self, iq, sender, room, vcard):
        media_type, data = parse_photo(vcard)
        return self.context.app.set_room_avatar(
            room, sender, media_type, data, acknowledge=lambda: self.context.send(iq_result(iq)))


def parse_photo(vcard) -> tuple:
    """``(TYPE text or None, decoded BINVAL bytes or None)`` of the vCard's
    ``PHOTO`` (``(None, None)`` when it has none, or an empty ``BINVAL``);
    `BadRequest` for a ``BINVAL`` that is not base64 or a photo given only
    as an address (``EXTVAL``), which the room cannot show to clients
    that read the hash."""
    photo = _child(vcard, "PHOTO")
    if photo is None:
        return None, None
    binval = _child(photo, "BINVAL")
    if binval is None:
        if _child(photo, "EXTVAL") is not None:
            raise BadRequest("A room avatar must be the image itself (BINVAL), not EXTVAL")
        return None, None
    text = "".join(str(binval).split())  # clients wrap base64 in lines
    if not text:
        return None, None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The PHOTO's BINVAL is not valid base64") from None
    kind = _child(photo, "TYPE")
    return (str(kind).strip() if kind is not None else None), data


def vcard_xml(media_type: str, data: bytes) -> str:
    """The room's vCard: its photo and nothing else."""
    photo = (text_element("TYPE", media_type)
             + element("BINVAL", (), base64.b64encode(data).decode("ascii")))
    return element("vCard", (("xmlns", NS),), element("PHOTO", (), photo))


def avatar_presence(room_jid: str, sha1: str | None) -> Outgoing:
    """The presence from the room's bare JID that tells the avatar's hash
    (XEP-0153's ``<photo/>``, empty when the room has no avatar)."""
    photo = element("photo", (), sha1 or "")
    return Outgoing("presence", (("from", room_jid),),
                    element("x", (("xmlns", namespaces.VCARD_UPDATE),), photo))


def _child(parent, name):
    for found in parent.elements(NS, name):
        return found
    return None
