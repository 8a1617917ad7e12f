"""`IRoomStore` in memory, for tests of the layers above storage.

It keeps values in the same encoded form the SQLite store writes (config
and affiliation data as JSON text, history and subject as tuples), through
the same `codec`, so both stores accept, refuse and give back exactly the
same things, and nothing a caller holds is shared with what is stored.
Nothing survives the object.
"""

import copy
from dataclasses import dataclass, field

from zope.interface import implementer

from mucsvc.rooms.roles import Affiliation
from mucsvc.storage import codec
from mucsvc.storage.errors import RoomNotStored, StoreClosed
from mucsvc.storage.interface import IRoomStore, StoredRoom, Write


@dataclass(slots=True)
class _Room:
    config: str
    subject: tuple = ("", None, None)
    affiliations: dict = field(default_factory=dict)  # user -> (Affiliation, data JSON)
    history: list = field(default_factory=list)  # rows, oldest first
    avatar: tuple | None = None  # (media type, bytes)


@implementer(IRoomStore)
class MemoryRoomStore:
    """A room store that lives as long as the object."""

    def __init__(self):
        self._rooms: dict | None = {}
        self._tombstones: dict = {}  # room jid -> row

    @property
    def closed(self) -> bool:
        return self._rooms is None

    def _all(self) -> dict:
        if self._rooms is None:
            raise StoreClosed()
        return self._rooms

    def _room(self, room_jid: str) -> _Room:
        room = self._all().get(room_jid)
        if room is None:
            raise RoomNotStored(room_jid)
        return room

    def load_rooms(self) -> list:
        result = []
        for jid, room in sorted(self._all().items()):
            stored = StoredRoom(jid, codec.decode_config(jid, room.config),
                                subject=codec.subject_from_row(*room.subject))
            for user in sorted(room.affiliations):
                level, data = room.affiliations[user]
                stored.affiliations[user] = (level, codec.decode_data(data))
            stored.history = [codec.history_from_row(*row) for row in room.history]
            if room.avatar is not None:
                stored.avatar = codec.avatar_from_row(jid, *room.avatar)
            result.append(stored)
        return result

    def save_room(self, room_jid, config) -> None:
        text = codec.encode_config(room_jid, config)
        rooms = self._all()
        if room_jid in rooms:
            rooms[room_jid].config = text
        else:
            rooms[room_jid] = _Room(text)

    def replace_room(self, stored) -> None:
        config, subject, affiliations, history = codec.encode_room(stored)
        avatar = codec.avatar_row(stored.avatar)
        self._all()[stored.jid] = _Room(
            config, subject=subject,
            affiliations={user: (affiliation, data) for user, affiliation, data in affiliations},
            history=history, avatar=avatar)

    def delete_room(self, room_jid) -> bool:
        return self._all().pop(room_jid, None) is not None

    def set_affiliation(self, room_jid, user, affiliation, data=None) -> None:
        codec.check_user(user)
        codec.check_affiliation(affiliation)
        text = codec.encode_data(data)
        room = self._room(room_jid)
        if affiliation is Affiliation.NONE:
            room.affiliations.pop(user, None)
        else:
            room.affiliations[user] = (affiliation, text)

    def save_subject(self, room_jid, subject) -> None:
        row = codec.subject_row(subject)
        self._room(room_jid).subject = row

    def save_avatar(self, room_jid, avatar) -> None:
        row = codec.avatar_row(avatar)
        self._room(room_jid).avatar = row

    def append_history(self, room_jid, entry, limit) -> None:
        row = codec.history_row(entry)
        limit = codec.check_limit(limit)
        room = self._room(room_jid)
        room.history.append(row)
        del room.history[:max(0, len(room.history) - limit)]

    def clear_history(self, room_jid) -> None:
        self._room(room_jid).history.clear()

    def load_tombstones(self) -> list:
        self._all()
        return [codec.tombstone_from_row(*row) for _jid, row in sorted(self._tombstones.items())]

    def save_tombstone(self, tombstone) -> None:
        row = codec.tombstone_row(tombstone)
        self._all()
        self._tombstones[row[0]] = row

    def delete_tombstone(self, room_jid) -> bool:
        self._all()
        return self._tombstones.pop(room_jid, None) is not None

    def retract_history(self, room_jid, seq, payload, chars) -> bool:
        seq, payload, chars = codec.check_retraction(seq, payload, chars)
        room = self._room(room_jid)
        for i, (stamp, nick, _payload, _chars, row_seq, author) in enumerate(room.history):
            if row_seq == seq:
                room.history[i] = (stamp, nick, payload, chars, row_seq, author)
                return True
        return False

    def apply(self, writes) -> list:
        """All or none: the rooms and tombstones are copied first and put
        back on error."""
        writes = [w if isinstance(w, Write) else Write(*w) for w in writes]
        before = copy.deepcopy(self._all()), dict(self._tombstones)
        try:
            return [getattr(self, write.method)(*write.args) for write in writes]
        except BaseException:
            self._rooms, self._tombstones = before
            raise

    def close(self) -> None:
        self._rooms = None
