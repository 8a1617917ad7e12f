"""Preparation of nicks and room names (RFC 6122 stringprep profiles).

Nicks are the resource part of occupant JIDs and are compared after
resourceprep; room names are localparts and go through nodeprep.  Both use
the strict profiles (unassigned code points rejected), as Prosody does:
e.g. U+1F916 (robot face) is unassigned in Unicode 3.2 and so is not a
valid nick.
"""

from twisted.words.protocols.jabber.xmpp_stringprep import nodeprep, resourceprep

from mucsvc.rooms.errors import InvisibleNick, NickInvalid, RoomNameInvalid

#: RFC 6122/7622: each JID part is at most 1023 octets in UTF-8.
MAX_PART_OCTETS = 1023


def _too_long(prepared: str) -> bool:
    # Cheap pre-check first: a str of <= 255 chars is at most 1020 octets.
    return len(prepared) > 255 and len(prepared.encode("utf-8")) > MAX_PART_OCTETS


def prep_nick(nick: str) -> str:
    """The canonical form of ``nick``, or `NickInvalid`/`InvisibleNick`."""
    try:
        prepared = resourceprep.prepare(nick)
    except UnicodeError:
        raise NickInvalid("Nickname must pass strict validation") from None
    if not prepared:
        raise NickInvalid("Nickname must not be empty")
    if _too_long(prepared):
        raise NickInvalid("Nickname is too long")
    if prepared.isspace():
        raise InvisibleNick("Invisible Nicknames are forbidden")
    return prepared


def prep_room_node(node: str) -> str:
    """The canonical localpart of a room JID, or `RoomNameInvalid`."""
    try:
        prepared = nodeprep.prepare(node)
    except UnicodeError:
        raise RoomNameInvalid("Room name must pass strict validation") from None
    if not prepared:
        raise RoomNameInvalid("Room name must not be empty")
    if _too_long(prepared):
        raise RoomNameInvalid("Room name is too long")
    return prepared
