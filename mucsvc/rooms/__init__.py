"""The MUC domain: rooms, occupants, roles, affiliations, history.

Pure Python, no XML, sockets or reactor.  JIDs are normalised ``str``
values; presence and message payloads are opaque objects stored and handed
back untouched; time is a ``now: float`` argument.

How the application layer uses it
---------------------------------

- ``service = RoomRegistry(domain, ServiceLimits(...), admins=..., secret=...)``.
- Presence to ``room/nick``: ``room, outcome = service.enter(room_jid,
  full_jid, nick, now, payload=, muc_x=, password=)`` (creates the room if
  needed).  Unavailable: ``room.presence_unavailable(full_jid, now,
  payload=)``; error type: ``room.presence_error(full_jid, now)``.
- Groupchat: ``room.groupchat(full_jid, now, payload=, chars=, historic=)``,
  or ``room.change_subject(full_jid, text, now)`` when `is_subject_change`.
- Private message / IQ to ``room/nick``: ``room.private_message(full_jid,
  nick)`` / ``room.private_iq(full_jid, nick)``.
- Invitations: ``room.invite(from_jid, invitee, now)``.
- muc#admin: ``room.set_role(actor_jid, nick, role, reason)``,
  ``room.set_affiliation(actor_jid, jid, affiliation, reason)``,
  ``room.may_list_affiliation`` / ``room.affiliation_list``,
  ``room.may_list_role`` / ``room.occupants_with_role``.
- muc#owner: ``room.configure(actor_jid, now, **options)`` (no options:
  the instant room), ``service.destroy(room_jid, actor_jid, now, reason=,
  alternate_venue=)``.
- The room's avatar (XEP-0486): ``room.set_avatar(actor_jid, media_type,
  data, max_bytes)`` (no ``data``: removed); ``room.avatar`` is an
  `Avatar` (bytes, type, SHA-1) or None.
- Every ``task.LoopingCall``: for each room of
  ``service.overdue_locked(now)``, ``service.expire_lock(room, now)``.
- When an outcome says ``destroy_room``: ``service.forget(room.jid)``.
- Tombstones (``service.tombstones``): ``service.destroy(..., now)`` lays
  one for a persistent room (``Destroyed.tombstone``); before handling any
  stanza to a room, ``service.check_tombstone(room_jid, from_jid, now,
  creating=)`` raises `RoomGone` while one stands; ``enter`` lifts it when
  it creates the room.
- A change that must be undone (its store write failed, or a later step
  was refused): ``RoomCheckpoint(room)`` before, ``.restore()`` after.

Only `mucsvc.app` calls these to change rooms; the edges read rooms (to
render them) but change them through the application.

Outcomes
--------

Operations return a small record (`outcomes`) saying exactly what happened
(`Joined`, `PresenceUpdated`, `NickChanged`, `Left`, `GroupchatMessage`,
`SubjectChanged`, `PrivateRoute`, `Invited`, `RoleChanged`,
`AffiliationChanged` with one `OccupantChange` per occupant affected,
`ConfigChanged`, `Destroyed`) or raise a `MucError` subclass that says why
(the edges map it to a stanza error or HTTP status).  Outcomes do not
list recipients: the broadcast list is ``room.occupants`` (removed
occupants keep their ``sessions`` so they can be told), and
``room.sees_real_jids(recipient)`` says who gets real JIDs.  Status codes
in outcomes are XEP-0045 integers.
"""

from mucsvc.rooms.config import ALLOW_PM_VALUES, WHOIS_VALUES, RoomConfig, ServiceLimits
from mucsvc.rooms.errors import (
    BadRequest, Conflict, Forbidden, InvisibleNick, JoinWithoutMucX, MucError, NickConflict,
    NickInvalid, NoSuchOccupant, NoSuchRoom, NotAcceptable, NotAllowed, NotOccupant,
    PasswordRequired, PrivateMessagesRestricted, RegistrationRequired, RoomCreationRestricted,
    RoomFull, RoomGone, RoomLocked, RoomNameInvalid,
)
from mucsvc.rooms.history import History, HistoryEntry
from mucsvc.rooms.messaging import is_subject_change
from mucsvc.rooms.names import prep_nick, prep_room_node
from mucsvc.rooms.occupant import Occupant, make_occupant_id
from mucsvc.rooms.outcomes import (
    SERVICE, Actor, AffiliationChanged, ConfigChanged, Destroyed, GroupchatMessage, Invited,
    Joined, Left, NickChanged, OccupantChange, PresenceUpdated, PrivateRoute, RoleChanged,
    Subject, SubjectChanged,
)
from mucsvc.rooms.roles import PRESENT_ROLES, Affiliation, Role, default_role
from mucsvc.rooms.room import Room
from mucsvc.rooms.roominfo import RoomInfo
from mucsvc.rooms.registry import RoomRegistry
from mucsvc.rooms.tombstones import Tombstone, Tombstones

__all__ = [
    "ALLOW_PM_VALUES", "WHOIS_VALUES", "RoomConfig", "ServiceLimits",
    "BadRequest", "Conflict", "Forbidden", "InvisibleNick", "JoinWithoutMucX", "MucError",
    "NickConflict", "NickInvalid", "NoSuchOccupant", "NoSuchRoom", "NotAcceptable", "NotAllowed",
    "NotOccupant", "PasswordRequired", "PrivateMessagesRestricted", "RegistrationRequired",
    "RoomCreationRestricted", "RoomFull", "RoomGone", "RoomLocked", "RoomNameInvalid",
    "History", "HistoryEntry", "is_subject_change", "prep_nick", "prep_room_node",
    "Occupant", "make_occupant_id",
    "SERVICE", "Actor", "AffiliationChanged", "ConfigChanged", "Destroyed", "GroupchatMessage",
    "Invited", "Joined", "Left", "NickChanged", "OccupantChange", "PresenceUpdated",
    "PrivateRoute", "RoleChanged", "Subject", "SubjectChanged",
    "PRESENT_ROLES", "Affiliation", "Role", "default_role",
    "Room", "RoomInfo", "RoomRegistry", "Tombstone", "Tombstones",
]
