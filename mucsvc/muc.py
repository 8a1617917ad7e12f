"""The ``muc`` service: the rooms of the service and their upkeep.

It builds the room registry (``rooms``), the application over it (``app``:
every use case, see `mucsvc.app`), the XMPP handler (``handler``) and the
broadcaster that turns the application's events into stanzas; restores the
stored rooms and tombstones; and runs the periodic work: idle rate-limit
buckets are forgotten, rooms left locked since creation are unlocked or
destroyed (XEP-0045 §10.1.3, see `RoomRegistry.expire_locked`), expired
tombstones are deleted, and the archive reclaims destroyed rooms and
expired messages.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from twisted.application import service
from twisted.internet import task
from twisted.logger import Logger

from mucsvc.app import MucApplication
from mucsvc.app.archive import RoomArchive
from mucsvc.app.persistence import RoomWrites
from mucsvc.protocol.archive_render import archived_text, history_replay
from mucsvc.protocol.broadcaster import RoomBroadcaster
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.hats_element import HatsElements
from mucsvc.protocol.retraction_render import RetractionTexts
from mucsvc.protocol.rooms_handler import RoomsHandler
from mucsvc.rooms import ConfigChanged, RoomRegistry, ServiceLimits
from mucsvc.stats import EventCounts

EXPIRY_INTERVAL = 10.0


def derive_key(secret: bytes, purpose: bytes) -> bytes:
    """A key for one purpose from the service secret: a leak of one (say,
    occupant ids computed by a client) says nothing of the others."""
    return hmac.new(secret, b"mucsvc " + purpose, hashlib.sha256).digest()


class MUCService(service.Service):
    """Named ``muc`` in the service tree.  ``secret``: the service secret
    (`mucsvc.storage.secret`) the keys of occupant ids and IQ relay tags are
    derived from; random when not given.  ``load_now``: restore the stored
    rooms at once (one process), or when `load` is called."""

    log = Logger()

    def __init__(self, domain: str, send, clock, *, admins=(), limits: ServiceLimits | None = None,
                 store=None, batch_send=None, secret: bytes | None = None,
                 hats_legacy_element: bool = False, archive=None,
                 archive_flush_interval: float = 0.1, archive_expires_after: float | None = None,
                 max_archive_results: int = 50, load_now: bool = True):
        self.clock = clock
        if secret is None:  # nothing to keep ids stable with (tests)
            secret = os.urandom(32)
        self.rooms = RoomRegistry(domain, limits, admins=set(admins),
                                  secret=derive_key(secret, b"occupant-id"))
        self.archive = None
        if archive is not None:
            self.archive = RoomArchive(archive, clock, flush_interval=archive_flush_interval,
                                       expires_after=archive_expires_after)
        writes = RoomWrites(lambda payload: payload.text, Outgoing.from_text)
        self.app = MucApplication(self.rooms, store, writes, clock, self.archive,
                                  texts=RetractionTexts())
        self.loaded = False
        self.handler = RoomsHandler(self.app, send, derive_key(secret, b"iq-relay"),
                                    batch_send=batch_send,
                                    hats=HatsElements(legacy=hats_legacy_element),
                                    max_archive_results=max_archive_results)
        self.app.listen(RoomBroadcaster(self.handler.context))
        self.events = EventCounts()
        self.app.listen(self.events)
        self._expiry = task.LoopingCall(self.housekeeping)
        self._expiry.clock = clock
        self._shared = not load_now
        if self.archive is not None:
            self.archive.forget_on_creation = self._shared
        if load_now:
            self.load()

    def load(self) -> None:
        """Bring back the stored rooms and tombstones, and take the
        archive's newest message number as the floor of new ones.

        At construction, unless ``load_now`` is false: then (several
        processes sharing one database, `mucsvc.slot_service`) when this
        process takes a component slot, so that it serves what the database
        holds at that moment, and numbers stay increasing in a room that
        moved here.  Archives of rooms not stored are then left alone: they
        may be another live process's temporary rooms."""
        restored, tombstones = self.app.restore(history_replay, archived_text,
                                                forget_orphans=not self._shared)
        if self.archive is not None:
            self.archive.ids.raise_floor(self.archive.archive.newest_seq())
        self.loaded = True
        if restored:
            self.log.info("restored {count} persistent rooms", count=restored)
        if tombstones:
            self.log.info("restored {count} tombstones of destroyed rooms", count=tombstones)
        if self.running and not self._expiry.running:
            self._expiry.start(EXPIRY_INTERVAL, now=False)

    def public_rooms(self):
        """``(room JID, name)`` of the rooms listed in service discovery."""
        return [(room.jid, room.config.name) for room in self.rooms.discoverable_rooms()]

    def is_admin(self, jid: str) -> bool:
        return jid is not None and jid.split("/", 1)[0] in self.rooms.admins

    def housekeeping(self) -> None:
        """Forget idle rate-limit buckets; unlock or destroy rooms locked too
        long; delete expired tombstones (a stanza meeting one deletes it
        too, but a name nobody asks for again should not be kept forever)."""
        self.handler.context.throttle.forget_idle(self.clock.seconds())
        lifted = self.app.expire_tombstones()
        if lifted:
            self.log.info("deleted {count} expired tombstones", count=len(lifted))
        if self.archive is not None:
            try:
                done = self.archive.housekeeping(self.clock.seconds())
            except Exception:
                self.log.failure("archive housekeeping failed; will try again")
            else:
                if getattr(done, "addErrback", None) is not None:
                    done.addErrback(lambda failure: self.log.failure(
                        "archive housekeeping failed; will try again", failure))
        for room, outcome in self.app.expire_locked():
            if isinstance(outcome, ConfigChanged):
                self.log.info("unlocked {room} with its default settings: in use, but its "
                              "owner did not configure it in time", room=room.jid)
            else:
                self.log.info("destroyed {room}: locked, never configured, and left",
                              room=room.jid)

    def startService(self):
        super().startService()
        if self.loaded:
            self._expiry.start(EXPIRY_INTERVAL, now=False)

    def stopService(self):
        """On shutdown occupants are told (332) while the link is still up:
        the tree stops ``muc`` before ``component``."""
        if self._expiry.running:
            self._expiry.stop()
        told = self.app.shutdown()
        if told:
            self.log.info("told {count} occupants that the service is shutting down", count=told)
        written = self.archive.stop() if self.archive is not None else None
        super().stopService()
        if getattr(written, "addCallback", None) is not None:  # an archive answering later
            return written.addCallback(lambda _: None)
        return None
