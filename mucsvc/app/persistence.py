"""Which store writes a room change needs, and rebuilding rooms at start-up.

Only persistent rooms that were ever unlocked are stored: a room still
locked since its creation is nobody's yet (its owner may never configure
it), so it is written whole (`replace_room`) only when it is unlocked, and
a service restarted meanwhile does not bring it back.  Each method here
returns the `Write` records for one change; the application commits all
the writes of one operation together with `IRoomStore.apply`.
"""

from __future__ import annotations

from twisted.logger import Logger

from mucsvc.rooms import Affiliation, HistoryEntry
from mucsvc.storage import StoredRoom, Write


def is_stored(room) -> bool:
    """Whether the store holds ``room`` (persistent and ever unlocked)."""
    return room.config.persistent and not room.locked


class RoomWrites:
    """Store writes for changes to rooms; ``payload_text(payload)`` and
    ``payload_from_text(text)`` turn a history payload into the text stored
    and back (the payload objects are the edge's, not the domain's)."""

    log = Logger()

    def __init__(self, payload_text, payload_from_text):
        self._text = payload_text
        self._from_text = payload_from_text

    def created(self, room) -> list:
        """A new room: stored at once when it is persistent and not locked."""
        return [Write("replace_room", (self.snapshot(room),))] if is_stored(room) else []

    def config_changed(self, room, old_config, was_locked: bool) -> list:
        was_stored = old_config.persistent and not was_locked
        if is_stored(room):
            if was_stored:
                return [Write("save_room", (room.jid, room.config))]
            return [Write("replace_room", (self.snapshot(room),))]
        return [Write("delete_room", (room.jid,))] if was_stored else []

    def affiliation(self, room, jid: str) -> list:
        if not is_stored(room):
            return []
        affiliation = room.affiliations.get(jid, Affiliation.NONE)
        return [Write("set_affiliation", (room.jid, jid, affiliation, room.affiliation_data(jid)))]

    def avatar(self, room) -> list:
        """The room's avatar, stored or (None) removed."""
        return [Write("save_avatar", (room.jid, room.avatar))] if is_stored(room) else []

    def subject(self, room) -> list:
        return [Write("save_subject", (room.jid, room.subject))] if is_stored(room) else []

    def history(self, room, entry) -> list:
        if not is_stored(room):
            return []
        return [Write("append_history", (room.jid, self._stored_entry(entry), room.history.limit))]

    def retracted(self, room, entry) -> list:
        """A history entry now holds a tombstone."""
        if not is_stored(room) or entry.seq is None:
            return []
        return [Write("retract_history", (room.jid, entry.seq, self._text(entry.payload),
                                          entry.chars))]

    def destroyed(self, room, tombstone=None) -> list:
        """Forget the room (a no-op for one that was never stored), and
        keep the `Tombstone` it leaves, if any, in the same commit: a
        crash between the two would free the name."""
        writes = [Write("delete_room", (room.jid,))]
        if tombstone is not None:
            writes.append(Write("save_tombstone", (tombstone,)))
        return writes

    @staticmethod
    def tombstones_lifted(tombstones) -> list:
        """The tombstones expired, or lifted by a service admin's recreation."""
        return [Write("delete_tombstone", (stone.room_jid,)) for stone in tombstones]

    def snapshot(self, room) -> StoredRoom:
        affiliations = {jid: (aff, room.affiliation_data(jid))
                        for jid, aff in room.affiliations.items()}
        return StoredRoom(room.jid, room.config, affiliations, room.subject,
                          [self._stored_entry(entry) for entry in room.history], room.avatar)

    def _stored_entry(self, entry) -> HistoryEntry:
        return HistoryEntry(entry.stamp, entry.nick, self._text(entry.payload), entry.chars,
                            entry.seq, entry.author)

    def restore_tombstones(self, store, registry) -> int:
        """Lay every tombstone in ``store`` in ``registry`` (after the
        rooms: a tombstone beside a stored room of the same JID, which no
        operation leaves, is skipped rather than hiding the room)."""
        count = 0
        for stone in store.load_tombstones():
            if stone.room_jid in registry:
                self.log.warn("{room}: a tombstone beside the stored room; ignored",
                              room=stone.room_jid)
                continue
            registry.tombstones.lay(stone)
            count += 1
        return count

    def restore(self, store, registry) -> int:
        """Add every room in ``store`` to ``registry`` (a `RoomRegistry`)."""
        count = 0
        for stored in store.load_rooms():
            room = registry.new_room(stored.jid, stored.config,
                                     affiliations=stored.affiliation_levels,
                                     affiliation_data=stored.affiliation_data)
            room.subject = stored.subject
            room.avatar = stored.avatar
            for entry in stored.history:
                try:
                    payload = self._from_text(entry.payload)
                except ValueError:
                    self.log.warn("{room}: skipped an unreadable history entry", room=stored.jid)
                    continue
                room.history.append(HistoryEntry(entry.stamp, entry.nick, payload, entry.chars,
                                                 entry.seq, entry.author))
            room.created_at = 0.0
            owners = sorted(jid for jid, aff in stored.affiliation_levels.items()
                            if aff is Affiliation.OWNER)
            room.creator = owners[0] if owners else None
            registry.add(room)
            count += 1
        return count
