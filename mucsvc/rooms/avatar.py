"""A room's avatar (XEP-0486): an image its owners give the room.

The domain keeps the image itself, plain bytes and their media type, and
the SHA-1 of the bytes that clients know it by (the hash of XEP-0153,
which XEP-0486 puts in the room's presence and disco#info).  How it is
carried (a vCard's ``PHOTO``, a JSON document) is the edges' business.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from mucsvc.rooms.errors import BadRequest, TooLarge

#: ``image/<subtype>``, as the vCard's ``TYPE`` names it (RFC 6838 names).
_IMAGE_TYPE = re.compile(r"image/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Avatar:
    """An image: ``media_type`` (``image/png``…) and ``data`` (the decoded
    bytes).  ``sha1`` is computed once, from the bytes."""

    media_type: str
    data: bytes
    sha1: str = field(init=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.data, bytes):
            raise TypeError("avatar data must be bytes")
        if not isinstance(self.media_type, str):
            raise TypeError("an avatar's media type must be text")
        object.__setattr__(self, "sha1", hashlib.sha1(self.data).hexdigest())

    def __repr__(self):
        return f"<Avatar {self.media_type} {len(self.data)} bytes sha1={self.sha1}>"


def checked_avatar(media_type: str, data: bytes, max_bytes: int | None) -> Avatar:
    """The `Avatar` of ``data`` if the room may take it: `BadRequest` for a
    type that is not an image type or for no data, `TooLarge` past
    ``max_bytes`` (None: no limit)."""
    if not isinstance(media_type, str) or not _IMAGE_TYPE.fullmatch(media_type.strip()):
        raise BadRequest("The avatar's type must be an image type such as image/png")
    if not data:
        raise BadRequest("The avatar holds no image data")
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"The avatar is too large: {len(data)} bytes of image, "
                       f"at most {max_bytes} allowed")
    return Avatar(media_type.strip().lower(), bytes(data))


@dataclass(frozen=True, slots=True)
class AvatarChanged:
    """The room's avatar went from ``old`` to ``new`` (either may be None:
    none).  Everyone in the room is told the new hash."""

    old: Avatar | None
    new: Avatar | None

    @property
    def sha1(self) -> str | None:
        return self.new.sha1 if self.new is not None else None
