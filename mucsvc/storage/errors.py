"""What a store refuses to do.

A storage call that cannot do what it was asked raises rather than
guessing: silently creating half a room (say, affiliations without a
configuration) would resurface after a restart as a room nobody made.
"""


class StorageError(Exception):
    """Base of every error a room store raises on purpose."""


class RoomNotStored(StorageError, LookupError):
    """The call names a room that is not stored (never saved with
    `IRoomStore.save_room`, or deleted since): the caller has lost track of
    which rooms are persistent."""

    def __init__(self, room_jid: str):
        super().__init__(f"room {room_jid!r} is not stored (save_room it first)")
        self.room_jid = room_jid


class RoomNotPersistent(StorageError, ValueError):
    """A configuration with ``persistent=False`` was given to store: temporary
    rooms are never stored (delete the room from the store instead)."""

    def __init__(self, room_jid: str):
        super().__init__(f"room {room_jid!r} is temporary; temporary rooms are not stored")
        self.room_jid = room_jid


class StoreDamaged(StorageError):
    """The database file is damaged (SQLite says so): nothing in it can be
    trusted until it is restored or recovered."""

    def __init__(self, path: str, detail: str):
        super().__init__(
            f"{path!r} is damaged ({detail}): restore it from a backup, or recover what can "
            f"be read with: sqlite3 {path} .recover | sqlite3 recovered.sqlite")
        self.path = path


class StoreClosed(StorageError):
    """The store was closed; no further calls are possible."""

    def __init__(self):
        super().__init__("the room store is closed")


class SchemaTooNew(StorageError):
    """The database was written by a newer version of mucsvc (its schema
    version is above the newest this code knows); opening it could corrupt
    what that version wrote, so we refuse."""

    def __init__(self, found: int, known: int):
        super().__init__(f"database schema version {found} is newer than this code's {known}")
        self.found = found
        self.known = known
