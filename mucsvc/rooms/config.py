"""Room configuration and the service-wide defaults and limits.

`RoomConfig` is immutable: a configuration change builds a new object,
validates it and only then replaces the room's, so a refused change leaves
the room exactly as it was.  Defaults are Prosody 0.12's.
"""

import dataclasses
import math
from dataclasses import dataclass, field

from mucsvc.rooms.errors import NotAcceptable
from mucsvc.rooms.hat_definitions import HatDefinition, definitions_of
from mucsvc.rooms.roles import PRESENT_ROLES, Role

WHOIS_VALUES = frozenset({"moderators", "anyone"})

#: Who may send private messages (Prosody's ``muc#roomconfig_allowpm``):
#: ``anyone`` (visitors too), ``participants`` (participant role or better),
#: ``moderators``, ``members`` (any affiliated user), ``none``.
ALLOW_PM_VALUES = frozenset({"anyone", "participants", "moderators", "members", "none"})

#: Room-creation policies besides an explicit collection of domains.
CREATION_POLICIES = frozenset({"anyone", "admins"})


@dataclass(frozen=True, slots=True)
class RoomConfig:
    """What an owner can configure (XEP-0045 §10.2, Prosody's form).

    ``whois``: ``moderators`` (semi-anonymous) or ``anyone`` (non-anonymous).
    ``change_subject``: when False only moderators may set the subject.
    ``allow_invites``: lets occupants who are not admins invite into a
    members-only room.  ``max_users`` None means unlimited.
    ``presence_broadcast``: roles whose presence is broadcast.
    ``default_history_messages``: how many history messages a joiner gets
    when it does not ask (Prosody's ``muc#roomconfig_defaulthistorymessages``).
    ``get_member_list``: roles (besides admins and owners, who always may)
    allowed to retrieve the member list.  ``allow_modpm``: private messages to
    and from moderators are always allowed (Prosody's ``allow_modpm``).
    ``archiving``: whether messages go to the room's archive (XEP-0313);
    None follows the service's default (`ServiceLimits.archiving_enabled`).
    ``hats``: the hats the room defines (XEP-0317 v0.3), `HatDefinition`
    values ordered by URI; changed only through the room's hat operations
    (`Room.define_hat`, `Room.destroy_hat`), never by the configuration form.
    """

    name: str = ""
    description: str = ""
    language: str = ""
    persistent: bool = False
    public: bool = False
    members_only: bool = False
    allow_invites: bool = False
    moderated: bool = False
    password: str | None = None
    whois: str = "moderators"
    change_subject: bool = False
    history_length: int = 20
    default_history_messages: int = 20
    max_users: int | None = None
    presence_broadcast: frozenset = PRESENT_ROLES
    get_member_list: frozenset = frozenset()
    allow_private_messages: str = "anyone"
    allow_modpm: bool = False
    archiving: bool | None = None
    hats: tuple = ()

    @property
    def anonymous(self) -> bool:
        """True for a semi-anonymous room (only moderators see real JIDs)."""
        return self.whois != "anyone"

    def updated(self, **changes) -> "RoomConfig":
        """A validated copy with ``changes`` applied; `NotAcceptable` on a bad
        value or an unknown option (this object is never modified)."""
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise NotAcceptable(f"unknown room option {sorted(unknown)[0]!r}")
        if changes.get("password") == "":
            changes["password"] = None  # an empty password means none (Prosody)
        for roles_option in ("presence_broadcast", "get_member_list"):
            if roles_option in changes:
                changes[roles_option] = _roles(roles_option, changes[roles_option])
        if "hats" in changes:
            changes["hats"] = definitions_of(changes["hats"])
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        """Raise `NotAcceptable` unless every option has a sensible value."""
        for name in ("persistent", "public", "members_only", "allow_invites",
                     "moderated", "change_subject", "allow_modpm"):
            if not isinstance(getattr(self, name), bool):
                raise NotAcceptable(f"{name} must be a boolean")
        for name in ("name", "description", "language"):
            if not isinstance(getattr(self, name), str):
                raise NotAcceptable(f"{name} must be text")
        if self.archiving is not None and not isinstance(self.archiving, bool):
            raise NotAcceptable("archiving must be a boolean or unset")
        if self.password is not None and not isinstance(self.password, str):
            raise NotAcceptable("password must be text")
        if self.whois not in WHOIS_VALUES:
            raise NotAcceptable(f"whois must be one of {sorted(WHOIS_VALUES)}")
        if self.allow_private_messages not in ALLOW_PM_VALUES:
            raise NotAcceptable(f"allow_private_messages must be one of {sorted(ALLOW_PM_VALUES)}")
        if not _is_int(self.history_length) or self.history_length < 0:
            raise NotAcceptable("history_length must be a non-negative integer")
        if not _is_int(self.default_history_messages) or self.default_history_messages < 0:
            raise NotAcceptable("default_history_messages must be a non-negative integer")
        if self.max_users is not None and (not _is_int(self.max_users) or self.max_users < 1):
            raise NotAcceptable("max_users must be a positive integer or unlimited")
        _roles("presence_broadcast", self.presence_broadcast)
        _roles("get_member_list", self.get_member_list)
        if not isinstance(self.hats, tuple) or \
                not all(isinstance(d, HatDefinition) for d in self.hats):
            raise NotAcceptable("hats must be a tuple of hat definitions")
        if definitions_of(self.hats) != self.hats:
            raise NotAcceptable("hats must be ordered by URI, each URI once")


_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(RoomConfig))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _roles(option: str, values) -> frozenset:
    """Roles given as `Role` or XEP-0045 strings -> a frozenset of `Role`."""
    if isinstance(values, (str, bytes)):
        raise NotAcceptable(f"{option} must be a collection of roles")
    try:
        roles = frozenset(v if isinstance(v, Role) else Role(v) for v in values)
    except (TypeError, ValueError):
        raise NotAcceptable(f"{option} must list roles") from None
    if option == "presence_broadcast":
        return roles  # "none": absent affiliated users are shown as offline
    if not roles <= PRESENT_ROLES:
        raise NotAcceptable(f"{option} may only list visitor, participant, moderator")
    return roles


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """Service-wide settings that bound or seed every room.

    ``max_history_messages``: cap on any room's history length (None: no cap;
    Prosody's ``max_history_messages``).  ``room_creation``: ``"anyone"``,
    ``"admins"`` (service admins only) or a collection of domains whose users
    may create rooms.  ``lock_new_rooms``: a new room stays locked until its
    owner configures it or accepts the instant room (Prosody's
    ``muc_room_locking``); ``locked_room_timeout``: seconds after which a
    room still locked is destroyed (Prosody's ``muc_room_lock_timeout``).
    ``max_rooms``/``max_occupants``: hard caps for the service and for any
    room (None: none); ``max_rooms_per_user``: rooms one user may have
    created that still exist (service admins: no cap).  ``event_rate``/``burst_factor``: each sender's
    messages and presence per second, with bursts (0: no limit);
    ``signal_rate``/``signal_burst_factor``: the same for its body-less
    messages (chat states, markers), counted apart.
    ``max_chars``: longest message body; ``max_stanza_size``: largest
    message or presence payload, in characters of XML.
    ``log_by_default``/``log_all_rooms``: see `archiving_enabled`.
    ``tombstone_ttl``: seconds a destroyed persistent room's name stays
    taken (None: no tombstones; Prosody's ``muc_tombstone_expiry``).
    ``max_avatar_bytes``: the largest room avatar image, decoded (None: no
    limit).
    """

    max_history_messages: int | None = None
    default_config: RoomConfig = field(default_factory=RoomConfig)
    room_creation: object = "anyone"
    lock_new_rooms: bool = True
    locked_room_timeout: float = 300.0
    max_rooms: int | None = None
    max_rooms_per_user: int | None = None
    max_occupants: int | None = None
    event_rate: float = 0.0
    burst_factor: int = 1
    signal_rate: float = 0.0
    signal_burst_factor: int = 1
    max_chars: int | None = None
    max_stanza_size: int | None = None
    log_by_default: bool = True
    log_all_rooms: bool = False

    def archiving_enabled(self, config: RoomConfig) -> bool:
        """Whether a room with ``config`` archives its messages: always with
        ``log_all_rooms``, else as its owner chose, else ``log_by_default``
        (Prosody's ``muc_log_all_rooms`` / ``muc_log_by_default``)."""
        if self.log_all_rooms:
            return True
        return self.log_by_default if config.archiving is None else config.archiving
    tombstone_ttl: float | None = 86400.0 * 31
    max_avatar_bytes: int | None = 64 * 1024

    def __post_init__(self):
        if self.max_history_messages is not None and (
                not _is_int(self.max_history_messages) or self.max_history_messages < 0):
            raise ValueError("max_history_messages must be a non-negative integer or None")
        if isinstance(self.room_creation, str):
            if self.room_creation not in CREATION_POLICIES:
                raise ValueError(f"room_creation must be one of {sorted(CREATION_POLICIES)} "
                                 "or a collection of domains")
        else:
            object.__setattr__(self, "room_creation", frozenset(self.room_creation))
        if self.max_avatar_bytes is not None and (
                not _is_int(self.max_avatar_bytes) or self.max_avatar_bytes < 1):
            raise ValueError("max_avatar_bytes must be a positive integer or None")
        if self.locked_room_timeout <= 0:
            raise ValueError("locked_room_timeout must be positive")
        if self.tombstone_ttl is not None and not 0 < self.tombstone_ttl < math.inf:
            raise ValueError("tombstone_ttl must be a positive number of seconds or None")
        try:
            self.default_config.validate()
        except NotAcceptable as e:
            raise ValueError(f"default_config: {e.text}") from None
