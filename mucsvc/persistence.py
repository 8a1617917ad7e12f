"""Keeping the store in step with persistent rooms.

The protocol layer calls one of these methods after each change to a room,
before it acknowledges the change to the client; for a temporary room they
do nothing.  At start-up :meth:`RoomPersistence.restore` rebuilds the stored
rooms.  The store is an ``IRoomStore`` (``mucsvc.storage``); without one
(``store=None``) nothing is kept, which is what unit tests of the protocol
use.
"""

from __future__ import annotations

from twisted.logger import Logger

from mucsvc.protocol.fanout import Outgoing
from mucsvc.rooms import Affiliation, HistoryEntry
from mucsvc.storage import StoredRoom


class RoomPersistence:
    log = Logger()

    def __init__(self, store=None):
        self.store = store

    def _stored(self, room) -> bool:
        return self.store is not None and room.config.persistent

    def created(self, room) -> None:
        """A new room: stored at once when new rooms are persistent by default."""
        if self._stored(room):
            self.store.replace_room(self.snapshot(room))

    def config_changed(self, room, old_config) -> None:
        if self.store is None:
            return
        if room.config.persistent and not old_config.persistent:
            self.store.replace_room(self.snapshot(room))
        elif room.config.persistent:
            self.store.save_room(room.jid, room.config)
        elif old_config.persistent:
            self.store.delete_room(room.jid)

    def affiliation(self, room, jid: str) -> None:
        if self._stored(room):
            affiliation = room.affiliations.get(jid, Affiliation.NONE)
            self.store.set_affiliation(room.jid, jid, affiliation, room.affiliation_data(jid))

    def subject(self, room) -> None:
        if self._stored(room):
            self.store.save_subject(room.jid, room.subject)

    def history(self, room, entry) -> None:
        if self._stored(room):
            self.store.append_history(room.jid, _stored_entry(entry), room.history.limit)

    def destroyed(self, room) -> None:
        if self.store is not None:
            self.store.delete_room(room.jid)

    def snapshot(self, room) -> StoredRoom:
        affiliations = {jid: (aff, room.affiliation_data(jid))
                        for jid, aff in room.affiliations.items()}
        return StoredRoom(room.jid, room.config, affiliations, room.subject,
                          [_stored_entry(entry) for entry in room.history])

    def restore(self, service) -> int:
        """Add every stored room to ``service`` (a ``MucService``)."""
        if self.store is None:
            return 0
        count = 0
        for stored in self.store.load_rooms():
            room = service.new_room(stored.jid, stored.config,
                                    affiliations=stored.affiliation_levels,
                                    affiliation_data=stored.affiliation_data)
            room.subject = stored.subject
            for entry in stored.history:
                try:
                    payload = Outgoing.from_text(entry.payload)
                except ValueError:
                    self.log.warn("{room}: skipped an unreadable history entry", room=stored.jid)
                    continue
                room.history.append(HistoryEntry(entry.stamp, entry.nick, payload, entry.chars))
            room.created_at = 0.0
            service.add(room)
            count += 1
        return count


def _stored_entry(entry) -> HistoryEntry:
    return HistoryEntry(entry.stamp, entry.nick, entry.payload.text, entry.chars)
