"""Choosing the room store from the ``storage`` setting.

``storage`` is the path of an SQLite file (the default, ``mucsvc.sqlite``),
or ``memory:`` for a service that keeps nothing across restarts (trying
things out; SQLite's ``:memory:`` keeps nothing either).  Each backend comes with where its service secret lives:
beside an SQLite file (``<file>.secret``, or ``service_secret_file``), or
nowhere for ``memory:``.
"""

from __future__ import annotations

from mucsvc.storage.memory import MemoryRoomStore
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.secret import EphemeralSecret, SecretFile
from mucsvc.storage.sqlite import SQLiteRoomStore
from mucsvc.storage.sqlite_archive import SQLiteArchive

MEMORY = "memory:"

#: Settings whose rooms live only as long as the process: their secret too.
_EPHEMERAL = (MEMORY, ":memory:")


def open_store(setting: str):
    """The room store the ``storage`` setting names."""
    if setting == MEMORY:
        return MemoryRoomStore()
    return SQLiteRoomStore(setting)


def open_archive(setting: str):
    """The room archive beside the store the ``storage`` setting names: in
    the same SQLite file, or in memory."""
    if setting in _EPHEMERAL:
        return MemoryArchive()
    return SQLiteArchive(setting)


def secret_source(setting: str, secret_file: str | None = None):
    """Where the service secret of a service with this ``storage`` lives."""
    if secret_file:
        return SecretFile(secret_file)
    if setting in _EPHEMERAL:  # ":memory:": SQLite's own private database
        return EphemeralSecret()
    return SecretFile(setting + ".secret")


def load_secret(store, source) -> bytes:
    """The service secret.  The first time, a secret that an older version
    kept inside the SQLite file is moved to the secret file rather than
    made anew."""
    legacy = None
    if isinstance(source, SecretFile) and not source.exists():
        legacy = getattr(store, "legacy_secret", lambda: None)()
    return source.service_secret(initial=legacy)
