"""What a room operation did, in enough detail for the caller to emit stanzas.

Outcomes are plain records holding live `Occupant` objects.  They never
list recipients: everyone who must hear about a change is in
``room.occupants`` (plus, for an occupant that was removed, its own
``sessions``, which a removed occupant keeps), and whether a recipient sees
real JIDs is ``room.sees_real_jids(recipient)``.  Status codes are XEP-0045
integers.
"""

from dataclasses import dataclass, field

from mucsvc.rooms.config import RoomConfig
from mucsvc.rooms.history import HistoryEntry
from mucsvc.rooms.occupant import Occupant
from mucsvc.rooms.roles import Affiliation, Role

_NO_CODES = frozenset()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a change: their JID as the request came (a full JID),
    and their nick when they are in the room.  ``jid`` None means the service
    itself (expiry, the web API, an automatic grant)."""

    jid: str | None = None
    nick: str | None = None


SERVICE = Actor()


@dataclass(frozen=True, slots=True)
class Subject:
    """The room subject; ``text`` "" means none.  ``nick`` is who set it
    (None: the room itself); ``stamp`` when (None: never set)."""

    text: str = ""
    nick: str | None = None
    stamp: float | None = None


# ---- presence ------------------------------------------------------------


@dataclass(slots=True)
class Joined:
    """A session entered the room.

    ``created``: the joiner created the room (they are its owner and the
    room is ``locked`` if the service locks new rooms).  ``status_codes``: for the joiner's own
    presence (110, plus 201 on creation and 100 in a non-anonymous room).
    The caller sends the joiner the other occupants' presences, broadcasts
    the occupant's presence, then history and subject to ``full_jid``.
    """

    occupant: Occupant
    full_jid: str
    created: bool
    status_codes: frozenset


@dataclass(slots=True)
class PresenceUpdated:
    """A session changed its presence (show, status…) under the same nick.

    ``resync``: the presence carried the MUC ``<x/>``, i.e. the client thinks
    it is joining again; Prosody then sends it the occupant list again."""

    occupant: Occupant
    full_jid: str
    resync: bool


@dataclass(slots=True)
class NickChanged:
    """A session moved from ``old_nick`` to ``new_nick``.

    The usual case (``old_left and new_created``, `is_rename`): the whole
    occupant was renamed in place; ``old_occupant is new_occupant``; the
    room sees unavailable with 303 for ``old_nick`` then the new presence.

    With several sessions (Prosody's rules): when ``old_left`` is False the
    session split off and ``old_occupant`` stays under ``old_nick`` with its
    other sessions; when ``new_created`` is False the session joined the
    same user's occupant already at ``new_nick``.  Roles are kept: a new
    occupant created by a split takes the role of the one it left.
    """

    full_jid: str
    old_occupant: Occupant
    new_occupant: Occupant
    old_nick: str
    new_nick: str
    old_left: bool
    new_created: bool

    @property
    def is_rename(self) -> bool:
        return self.old_left and self.new_created


@dataclass(slots=True)
class Left:
    """A session left (unavailable presence, or an error presence).

    ``occupant_left``: it was the occupant's last session, so the occupant is
    gone (role ``none``); otherwise the occupant remains with its other
    sessions and its presence should be broadcast again.  ``payload``: the
    leaving presence (its status is forwarded to the room).
    ``status_codes``: 333 when an error presence removed the occupant.
    ``destroy_room``: the room is now empty and not persistent, so the
    caller should ask the service to forget it.
    """

    occupant: Occupant
    full_jid: str
    payload: object
    occupant_left: bool
    status_codes: frozenset
    destroy_room: bool


# ---- messages ------------------------------------------------------------


@dataclass(slots=True)
class GroupchatMessage:
    """A message to broadcast to every occupant from ``sender``'s nick;
    ``entry``: its record in the history (None when it was not kept)."""

    sender: Occupant
    entry: HistoryEntry | None = None


@dataclass(slots=True)
class SubjectChanged:
    """``sender`` set the subject; broadcast it to every occupant."""

    sender: Occupant
    subject: Subject


@dataclass(slots=True)
class PrivateRoute:
    """A private message or IQ from ``sender`` to ``target``'s sessions.

    ``to_self``: the target is the sender's own occupant (XEP-0410 self-ping
    is answered by the room itself)."""

    sender: Occupant
    target: Occupant

    @property
    def to_self(self) -> bool:
        return self.sender is self.target


@dataclass(slots=True)
class Invited:
    """An invitation may be forwarded to ``invitee`` (a bare JID).

    ``membership``: the affiliation change that made the invitee a member
    of a members-only room, if one was needed."""

    inviter: Occupant | None
    invitee: str
    membership: "AffiliationChanged | None" = None


# ---- moderation ----------------------------------------------------------


@dataclass(slots=True)
class OccupantChange:
    """How one occupant was affected by a role or affiliation change.

    ``removed``: the occupant left the room (new role ``none``);
    ``status_codes``: for its unavailable presence (307 kick, 301 ban, 321
    lost membership, 322 room became members-only).
    ``sees_real_jids_changed``: in a semi-anonymous room it gained or lost
    moderator, so it should be sent the occupant list again.
    """

    occupant: Occupant
    old_role: Role
    new_role: Role
    removed: bool
    status_codes: frozenset = _NO_CODES
    sees_real_jids_changed: bool = False


@dataclass(slots=True)
class RoleChanged:
    """A moderator (``actor``) set ``change.occupant``'s role."""

    change: OccupantChange
    actor: Actor
    reason: str | None
    destroy_room: bool = False


@dataclass(slots=True)
class AffiliationChanged:
    """``jid`` (bare, or a domain for a server ban) got ``new_affiliation``.

    ``changes``: the occupants affected (every occupant of that user is
    told of the new affiliation, even when its role did not change).
    ``announce``: nobody affected is in the room, so XEP-0045 wants a
    message from the room about it (Prosody sends it to moderators in a
    semi-anonymous room, to everyone otherwise).
    """

    jid: str
    new_affiliation: Affiliation
    actor: Actor
    reason: str | None
    changes: tuple = ()
    destroy_room: bool = False

    @property
    def announce(self) -> bool:
        return not self.changes


@dataclass(slots=True)
class ConfigChanged:
    """The owner submitted a configuration (or accepted the instant room).

    ``status_codes``: for the message to all occupants: 104 when anything
    changed, with 172 (now non-anonymous) or 173 (now semi-anonymous) when
    ``whois`` changed.  ``removed``: occupants who had to leave because the
    room became members-only (their presence carries 322).
    ``unlocked``: the room was locked and is now open.
    """

    old: RoomConfig
    new: RoomConfig
    status_codes: frozenset
    removed: tuple = ()
    unlocked: bool = False
    destroy_room: bool = False

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(slots=True)
class Destroyed:
    """The room is gone; each of ``occupants`` (with its sessions) must get
    an unavailable presence carrying ``<destroy/>`` with the reason and
    alternate venue.  ``tombstone``: the `Tombstone` the room left (None:
    it leaves none)."""

    room_jid: str
    occupants: tuple
    actor: Actor = SERVICE
    reason: str | None = None
    alternate_venue: str | None = None
    password: str | None = None
    room: object = field(default=None, repr=False)
    tombstone: object = None


@dataclass(slots=True)
class HatsChanged:
    """The room's hat definitions changed (XEP-0317 v0.3): ``config`` is
    the `ConfigChanged` of the new definitions (status 104 for everyone),
    ``users`` the bare JIDs whose stored hats changed with it (a destroyed
    hat is taken off its wearers), ``occupants`` those whose presence now
    shows their hats differently, to be shown again."""

    config: ConfigChanged
    users: tuple = ()
    occupants: tuple = ()
