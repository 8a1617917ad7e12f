"""What a room tells the world about itself (XEP-0045 §6.4 disco#info)."""

from dataclasses import dataclass

from mucsvc.rooms.config import RoomConfig

MUC_FEATURE = "http://jabber.org/protocol/muc"


def features_of(config: RoomConfig) -> list:
    """The XEP-0045 features naming the room's type, one of each pair."""
    return [
        MUC_FEATURE,
        "muc_public" if config.public else "muc_hidden",
        "muc_persistent" if config.persistent else "muc_temporary",
        "muc_membersonly" if config.members_only else "muc_open",
        "muc_moderated" if config.moderated else "muc_unmoderated",
        "muc_passwordprotected" if config.password is not None else "muc_unsecured",
        "muc_nonanonymous" if config.whois == "anyone" else "muc_semianonymous",
    ]


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """The muc#roominfo facts; the protocol layer names the form fields."""

    name: str
    description: str
    language: str
    occupants: int
    subject: str
    change_subject: bool
    password_protected: bool
    max_users: int | None
    #: SHA-1 (hex) of the room's avatar image, None: no avatar (XEP-0486).
    avatar_hash: str | None = None
