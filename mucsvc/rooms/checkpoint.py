"""Putting a room back as it was, for a use case that fails half-way.

An operation changes the live room first (the domain decides what changes)
and then writes the store; when the write fails, or a later step of the
same operation is refused (the second item of a ``muc#admin`` batch, the
admin list of a configuration form), the room must be exactly as before:
nobody was told anything yet, so nothing may have changed.  A checkpoint
copies what an administrative operation can touch: configuration, lock,
subject, avatar, affiliations and their data, history, and who is in the room with
which nick and role.  It is taken only for such operations, never on the
message hot path (see ``History.retract`` for that).
"""

from mucsvc.rooms.history import History


class RoomCheckpoint:
    """The state of ``room`` now; `restore` puts it back."""

    __slots__ = ("room", "_state", "_occupants", "_history")

    def __init__(self, room):
        self.room = room
        self._state = (room.config, room.locked, room.locked_at, room.destroyed, room.subject,
                       room.avatar, dict(room._affiliations),
                       {jid: dict(data) for jid, data in room._affiliation_data.items()},
                       dict(room._by_nick), dict(room._by_jid))
        self._history = (room.history.limit, list(room.history))
        self._occupants = [(o, o.nick, o.role, dict(o.sessions), o._current_jid)
                           for o in room._by_nick.values()]

    def restore(self) -> None:
        room = self.room
        (room.config, room.locked, room.locked_at, room.destroyed, room.subject,
         room.avatar, room._affiliations, room._affiliation_data, room._by_nick,
         room._by_jid) = self._state
        limit, entries = self._history
        history = History(limit)
        for entry in entries:
            history.append(entry)
        room.history = history
        for occupant, nick, role, sessions, current in self._occupants:
            occupant.nick, occupant.role, occupant.sessions = nick, role, sessions
            occupant._current_jid = current
