"""Builders and comparisons shared by the storage tests."""

from mucsvc.rooms.hat_definitions import HatDefinition
from mucsvc.rooms import HistoryEntry, Role, RoomConfig
from mucsvc.rooms.avatar import Avatar
from mucsvc.storage import MemoryRoomStore, SQLiteRoomStore

ROOM = "lounge@muc.example"
OTHER = "garden@muc.example"

#: A persistent configuration where every field differs from its default,
#: so a field that is not stored or not read back shows up as a difference.
EVERY_FIELD_CHANGED = RoomConfig(
    name="Lounge", description="Talk here", language="fr", persistent=True, public=True,
    members_only=True, allow_invites=True, moderated=True, password="s3cret",
    whois="anyone", change_subject=True, history_length=7, default_history_messages=3,
    max_users=42,
    presence_broadcast=frozenset({Role.MODERATOR, Role.PARTICIPANT}),
    get_member_list=frozenset({Role.VISITOR, Role.MODERATOR}),
    allow_private_messages="moderators", allow_modpm=True, archiving=False,
    hats=(HatDefinition("http://example.org/hats/host", "Host", 327.255249),
          HatDefinition("urn:uuid:164c41a2-7461-4cff-bdae-3f93078a6607", "Principal")),
)

PERSISTENT = RoomConfig(persistent=True)


def entry(i: int, nick: str = "alice", chars: int | None = None) -> HistoryEntry:
    payload = f"<message type='groupchat'><body>m{i}</body></message>"
    return HistoryEntry(stamp=1000.0 + i, nick=nick, payload=payload,
                        chars=len(payload) if chars is None else chars)


#: A room avatar: a few bytes of PNG are enough for the store.
AVATAR = Avatar("image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def history_rows(entries) -> list:
    """HistoryEntry has no equality: compare its fields."""
    return [(e.stamp, e.nick, e.payload, e.chars) for e in entries]


def payload_numbers(entries) -> list:
    return [int(e.payload.split("<body>m")[1].split("<")[0]) for e in entries]


def snapshot(store) -> list:
    """Everything ``store`` holds, as plain comparable values."""
    return [(r.jid, r.config, r.affiliations, r.subject, history_rows(r.history), r.avatar)
            for r in store.load_rooms()]


def only_room(store):
    rooms = store.load_rooms()
    assert len(rooms) == 1
    return rooms[0]


class Stores:
    """Makes stores of one kind; ``reopen`` gives the store a new process
    would see (a new SQLite object on the same file, a new connection to
    the same PostgreSQL database; the memory store has nothing beyond its
    object, so it is itself).  ``databases``: makes a fresh PostgreSQL
    database and returns its URL (for the ``postgresql`` kind)."""

    def __init__(self, kind: str, tmp_path, databases=None):
        self.kind = kind
        self.path = tmp_path / "rooms.sqlite"
        self.opened = []
        self._databases = databases
        self._urls = {}
        self.inline = None

    def url(self, name: str | None = None) -> str:
        if name not in self._urls:
            self._urls[name] = self._databases()
        return self._urls[name]

    def open(self, name: str | None = None):
        """A store on the usual file (database), or on one of its own (``name``)."""
        if self.kind == "postgresql":
            from mucsvc.storage.pg_rooms import PostgreSQLRoomStore
            from tests.storage.deferred import Inline, Synchronous, started_link
            if self.inline is None:
                self.inline = Inline()
            store = Synchronous(PostgreSQLRoomStore(started_link(self.url(name), self.inline)),
                                self.inline)
        else:
            path = self.path if name is None else self.path.with_name(name)
            store = SQLiteRoomStore(path) if self.kind == "sqlite" else MemoryRoomStore()
        self.opened.append(store)
        return store

    def reopen(self, store):
        if self.kind == "memory":
            return store
        store.close()
        return self.open()

    def close_all(self):
        for store in self.opened:
            store.close()

