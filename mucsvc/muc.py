"""The ``muc`` service: the rooms of the service and their upkeep.

It owns the domain registry (``rooms``, a ``MucService``), the protocol
handler that serves it (``handler``) and the persistence of stored rooms
(restored when the service is built), and runs the periodic work: rooms
locked since creation and never configured are destroyed after the
configured timeout (XEP-0045 §10.1.3).
"""

from __future__ import annotations

import os

from twisted.application import service
from twisted.internet import task
from twisted.logger import Logger

from mucsvc.persistence import RoomPersistence
from mucsvc.protocol.rooms_handler import RoomsHandler
from mucsvc.protocol import announcements
from mucsvc.rooms import MucService, Role, ServiceLimits

EXPIRY_INTERVAL = 10.0


class MUCService(service.Service):
    """Named ``muc`` in the service tree."""

    log = Logger()

    def __init__(self, domain: str, send, clock, *, admins=(), limits: ServiceLimits | None = None,
                 store=None, batch_send=None):
        self.clock = clock
        secret = store.service_secret() if store is not None else os.urandom(32)
        self.rooms = MucService(domain, limits, admins=set(admins), secret=secret)
        self.persistence = RoomPersistence(store)
        restored = self.persistence.restore(self.rooms)
        if restored:
            self.log.info("restored {count} persistent rooms", count=restored)
        self.handler = RoomsHandler(self.rooms, clock, send, secret, self.persistence,
                                    batch_send=batch_send)
        self._expiry = task.LoopingCall(self.housekeeping)
        self._expiry.clock = clock

    def public_rooms(self):
        """``(room JID, name)`` of the rooms listed in service discovery."""
        return [(room.jid, room.config.name) for room in self.rooms.discoverable_rooms()]

    def is_admin(self, jid: str) -> bool:
        return jid is not None and jid.split("/", 1)[0] in self.rooms.admins

    def kick(self, room_jid: str, nick: str, reason: str | None = None):
        """Remove an occupant on the service's own authority (status 307, no
        actor): used by the HTTP kick.  Raises ``NoSuchRoom`` or
        ``NoSuchOccupant`` (domain errors); returns the ``RoleChanged``
        outcome once every session has been told."""
        room = self.rooms.get(room_jid)
        outcome = room.set_role(None, nick, Role.NONE, reason)
        announcements.role_changed(self.handler.context, room, outcome)
        return outcome

    def destroy_room(self, room_jid: str, reason: str | None = None) -> bool:
        """Destroy a room on the service's own authority (admin commands)."""
        room = self.rooms.room(room_jid)
        if room is None:
            return False
        outcome = self.rooms.destroy(room_jid, None, reason=reason)
        self.persistence.destroyed(room)
        self.handler.announce_destroyed(outcome)
        return True

    def housekeeping(self) -> None:
        """Forget idle rate-limit buckets; destroy rooms locked too long."""
        self.handler.context.throttle.forget_idle(self.clock.seconds())
        for outcome in self.rooms.expire_locked(self.clock.seconds()):
            self.log.info("destroyed {room}: locked and never configured", room=outcome.room_jid)
            self.handler.announce_destroyed(outcome)

    def startService(self):
        super().startService()
        self._expiry.start(EXPIRY_INTERVAL, now=False)

    def stopService(self):
        """On shutdown occupants are told (332) while the link is still up:
        the tree stops ``muc`` before ``component``."""
        if self._expiry.running:
            self._expiry.stop()
        told = self.handler.announce_shutdown()
        if told:
            self.log.info("told {count} occupants that the service is shutting down", count=told)
        return super().stopService()
