"""Storage of persistent rooms: an interface in the domain's terms
(`IRoomStore`, `StoredRoom`), an SQLite implementation for the service, a
PostgreSQL one (`pg_rooms`, `pg_archive`, on a `pg_link.DatabaseLink`) for
a database server, and an in-memory one for tests.  The domain never sees SQL; see
`mucsvc.storage.interface` for which call goes with which room change and
`mucsvc.storage.sqlite` for what "durable" means here.
"""

from mucsvc.storage.errors import (
    RoomNotPersistent, RoomNotStored, SchemaTooNew, StorageError, StoreClosed, StoreDamaged,
)
from mucsvc.storage.interface import IRoomStore, StoredRoom, Write
from mucsvc.storage.memory import MemoryRoomStore
from mucsvc.storage.sqlite import SQLiteRoomStore

__all__ = [
    "IRoomStore", "StoredRoom", "Write", "MemoryRoomStore", "SQLiteRoomStore",
    "StorageError", "RoomNotStored", "RoomNotPersistent", "StoreClosed", "StoreDamaged",
    "SchemaTooNew",
]
