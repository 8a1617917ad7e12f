"""The service: every room by bare JID, who may create rooms, the
expiry of rooms their creator never configured, and the tombstones of
destroyed persistent rooms (`mucsvc.rooms.tombstones`).

The protocol layer asks the service for the room a stanza is addressed to
and calls the room's operations; it comes back here to create a room
(`enter`), to forget one that emptied (`forget`, when an outcome says
``destroy_room``) or was destroyed (`destroy`), and periodically to
`expire_locked`.
"""

import collections
import os

from mucsvc.rooms import jids
from mucsvc.rooms.config import ServiceLimits
from mucsvc.rooms.errors import (
    JoinWithoutMucX, NoSuchRoom, RoomCreationRestricted, RoomGone, RoomNameInvalid, TooManyRooms,
    TooManyRoomsOfUser,
)
from mucsvc.rooms.names import prep_room_node
from mucsvc.rooms.room import Room
from mucsvc.rooms.tombstones import Tombstone, Tombstones


class RoomRegistry:
    """The registry of rooms on the MUC domain ``domain``.

    ``admins``: bare JIDs of service administrators, who may create rooms
    whatever the policy and act as owners in every room.  The set object is
    shared with the rooms, so pass a mutable set to change it at run time.
    ``secret``: key for XEP-0421 occupant ids (random if not given; give a
    stored one so that ids survive restarts).
    """

    __slots__ = ("domain", "limits", "admins", "_secret", "_rooms", "_locked", "_created_by",
                 "refused", "tombstones")

    def __init__(self, domain: str, limits: ServiceLimits | None = None, *,
                 admins=None, secret: bytes | None = None):
        self.domain = domain
        self.limits = limits if limits is not None else ServiceLimits()
        self.admins = admins if admins is not None else set()
        self._secret = secret if secret is not None else os.urandom(32)
        self._rooms: dict = {}
        self._locked: dict = {}
        #: Bare JID -> how many of the existing rooms that user created.
        self._created_by = collections.Counter()
        #: Creations refused, by cap: ``"service"`` or ``"per_user"``.
        self.refused = {"service": 0, "per_user": 0}
        #: Destroyed persistent rooms whose names are still kept.
        self.tombstones = Tombstones()

    def __len__(self):
        return len(self._rooms)

    def __contains__(self, room_jid: str) -> bool:
        return room_jid in self._rooms

    def rooms(self):
        """Every room (a live view)."""
        return self._rooms.values()

    def discoverable_rooms(self) -> list:
        """Rooms listed in the service's disco#items: public and unlocked."""
        return [room for room in self._rooms.values() if room.discoverable]

    def archives(self, room: Room) -> bool:
        """Whether ``room``'s messages go to its archive."""
        return self.limits.archiving_enabled(room.config)

    def room(self, room_jid: str) -> Room | None:
        return self._rooms.get(room_jid)

    def get(self, room_jid: str) -> Room:
        """The room, or `NoSuchRoom`."""
        room = self._rooms.get(room_jid)
        if room is None:
            raise NoSuchRoom("No such room")
        return room

    def is_admin(self, user_jid: str) -> bool:
        return jids.bare(user_jid) in self.admins

    def check_tombstone(self, room_jid: str, user_jid: str, now: float, *,
                        creating: bool) -> Tombstone | None:
        """What the room's tombstone, if any, says to a stanza from
        ``user_jid``: `RoomGone` while it stands, except to a service
        admin's join (``creating``), which will recreate the room and lift
        it.  Returns an expired tombstone (the caller deletes it) or None."""
        stone = self.tombstones.get(room_jid)
        if stone is None:
            return None
        if stone.expired(now):
            return stone
        if creating and self.is_admin(user_jid):
            return None
        raise RoomGone(stone.reason, alternate_venue=stone.alternate_venue)

    def may_create(self, user_jid: str) -> bool:
        """The creation policy: anyone, only service admins, or users of the
        listed domains (admins always may)."""
        if jids.bare(user_jid) in self.admins:
            return True
        policy = self.limits.room_creation
        if policy == "anyone":
            return True
        if policy == "admins":
            return False
        return jids.domain(user_jid) in policy

    def new_room(self, room_jid: str, config=None, **kwargs) -> Room:
        """A room object wired to this service (not yet registered): for
        restoring persistent rooms, then `add`."""
        return Room(room_jid, config if config is not None else self.limits.default_config,
                    service_admins=self.admins, secret=self._secret,
                    history_cap=self.limits.max_history_messages,
                    lock_on_create=self.limits.lock_new_rooms,
                    occupant_cap=self.limits.max_occupants, **kwargs)

    def add(self, room: Room) -> None:
        if self._rooms.get(room.jid) is not room and room.creator is not None:
            self._created_by[room.creator] += 1
        self._rooms[room.jid] = room
        if room.locked:
            self._locked[room.jid] = room

    def rooms_created_by(self, bare_jid: str) -> int:
        """How many of the existing rooms ``bare_jid`` created (restored
        rooms count for their first owner)."""
        return self._created_by.get(bare_jid, 0)

    def enter(self, room_jid: str, full_jid: str, nick: str, now: float, *,
              payload=None, muc_x: bool = True, password: str | None = None):
        """An available presence to ``room_jid/nick``: ``(room, outcome)``.

        Creates the room when it does not exist (subject to the creation
        policy: `RoomCreationRestricted`; a room name failing nodeprep:
        `RoomNameInvalid`; a room whose tombstone stands: `RoomGone`, but
        for service admins) and otherwise hands over to
        `Room.presence_available`.  A room whose creation was refused is not
        kept; a created room lifts its tombstone (expired, or passed by an
        admin).
        """
        room = self._rooms.get(room_jid)
        if room is not None:
            return room, room.presence_available(full_jid, nick, now, payload=payload,
                                                 muc_x=muc_x, password=password)
        self.check_tombstone(room_jid, full_jid, now, creating=True)
        if not muc_x:
            raise JoinWithoutMucX("You must join the room before sending presence updates")
        node, at, host = room_jid.partition("@")
        if not at or "/" in host:
            raise RoomNameInvalid("A room JID needs a name")
        if prep_room_node(node) != node:
            raise RoomNameInvalid("Room name is not in canonical form")
        if not self.may_create(full_jid):
            raise RoomCreationRestricted("Room creation is restricted")
        max_rooms = self.limits.max_rooms
        if max_rooms is not None and len(self._rooms) >= max_rooms:
            self.refused["service"] += 1
            raise TooManyRooms("The service cannot hold more rooms")
        creator = jids.bare(full_jid)
        per_user = self.limits.max_rooms_per_user
        if per_user is not None and creator not in self.admins and \
                self.rooms_created_by(creator) >= per_user:
            self.refused["per_user"] += 1
            raise TooManyRoomsOfUser(f"You may create at most {per_user} rooms")
        room = self.new_room(room_jid)
        room.creator = creator
        outcome = room.presence_available(full_jid, nick, now, payload=payload,
                                          muc_x=muc_x, password=password)
        self.tombstones.lift(room_jid)
        self.add(room)
        return room, outcome

    def forget(self, room_jid: str) -> Room | None:
        """Drop a room from the registry (it emptied, or was destroyed)."""
        self._locked.pop(room_jid, None)
        room = self._rooms.pop(room_jid, None)
        if room is not None and room.creator is not None:
            left = self._created_by[room.creator] - 1
            if left > 0:
                self._created_by[room.creator] = left
            else:
                del self._created_by[room.creator]
        return room

    def destroy(self, room_jid: str, actor_jid: str | None, now: float, *,
                reason: str | None = None, alternate_venue: str | None = None,
                password: str | None = None):
        """Destroy a room (owners only, see `Room.destroy`) and forget it.

        A persistent room that was ever unlocked leaves a tombstone until
        ``now`` plus the service's ``tombstone_ttl`` (when tombstones are
        on), named in the outcome's ``tombstone``."""
        room = self.get(room_jid)
        established = room.config.persistent and not room.locked
        outcome = room.destroy(actor_jid, reason=reason, alternate_venue=alternate_venue,
                               password=password)
        self.forget(room_jid)
        ttl = self.limits.tombstone_ttl
        if established and ttl is not None:
            outcome.tombstone = Tombstone(room_jid, now + ttl, reason, alternate_venue)
            self.tombstones.lay(outcome.tombstone)
        return outcome

    def overdue_locked(self, now: float) -> list:
        """Rooms still locked ``locked_room_timeout`` seconds after creation
        (see `expire_lock`).  Only rooms created locked are looked at, so
        this costs nothing when no room is pending."""
        timeout = self.limits.locked_room_timeout
        due = []
        for room_jid, room in list(self._locked.items()):
            if not room.locked or self._rooms.get(room_jid) is not room:
                del self._locked[room_jid]
            elif now - room.locked_at >= timeout:
                due.append(room)
        return due

    def expire_lock(self, room: Room, now: float):
        """The lock of an overdue room runs out.

        A room its creator is still in is unlocked with its current (the
        default) settings, as Prosody does: clients that never accept the
        instant room (poezio) would otherwise lose a room in use; returns
        `ConfigChanged` (``unlocked``).  A locked room everyone has left is
        destroyed and forgotten, so an abandoned creation leaves no open
        room behind; returns `Destroyed`.
        """
        self._locked.pop(room.jid, None)
        if room.is_empty:
            return self.destroy(room.jid, None, now, reason="The room was not configured in time")
        return room.configure(None, now)
