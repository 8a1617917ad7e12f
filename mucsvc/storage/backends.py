"""Choosing the room store from the ``storage`` setting.

``storage`` is the path of an SQLite file (the default, ``mucsvc.sqlite``),
``memory:`` for a service that keeps nothing across restarts (trying
things out; SQLite's ``:memory:`` keeps nothing either), or a PostgreSQL
database: a ``postgresql://`` (or ``postgres://``) URL, or a libpq keyword
string such as ``host=db dbname=muc user=muc``.  Each backend comes with
where its service secret lives: beside an SQLite file (``<file>.secret``,
or ``service_secret_file``), in the PostgreSQL database (or
``service_secret_file``), or nowhere for ``memory:``.

A PostgreSQL store and its archive share one `DatabaseLink` (one
connection, one thread): pass the store to `open_archive` and
`secret_source`.
"""

from __future__ import annotations

import re

from mucsvc.storage.memory import MemoryRoomStore
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.secret import EphemeralSecret, SecretFile
from mucsvc.storage.sqlite import SQLiteRoomStore
from mucsvc.storage.sqlite_archive import SQLiteArchive

MEMORY = "memory:"

#: Settings whose rooms live only as long as the process: their secret too.
_EPHEMERAL = (MEMORY, ":memory:")

#: A libpq keyword string starts with ``keyword=`` (``host=``, ``dbname=``…).
_KEYWORDS = re.compile(r"^\s*[a-z_]+\s*=")


def is_postgresql(setting: str) -> bool:
    """Whether ``storage`` names a PostgreSQL database rather than a file."""
    return (setting.startswith(("postgresql://", "postgres://"))
            or bool(_KEYWORDS.match(setting)))


def shown(setting: str) -> str:
    """The ``storage`` setting as error messages and logs show it: a
    PostgreSQL password is replaced by ``***``."""
    if not is_postgresql(setting):
        return setting
    if "://" in setting:
        setting = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", setting)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", setting)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", setting)


def open_store(setting: str):
    """The room store the ``storage`` setting names (a PostgreSQL one is
    connected, and its schema brought up to date, before this returns)."""
    if setting == MEMORY:
        return MemoryRoomStore()
    if is_postgresql(setting):
        from mucsvc.storage.pg_rooms import PostgreSQLRoomStore
        return PostgreSQLRoomStore(setting)
    return SQLiteRoomStore(setting)


def open_archive(setting: str, store=None):
    """The room archive beside the store the ``storage`` setting names: in
    the same SQLite file or PostgreSQL database (on ``store``'s link when
    given), or in memory."""
    if setting in _EPHEMERAL:
        return MemoryArchive()
    if is_postgresql(setting):
        from mucsvc.storage.pg_archive import PostgreSQLArchive
        return PostgreSQLArchive(store.link if store is not None else setting)
    return SQLiteArchive(setting)


def secret_source(setting: str, secret_file: str | None = None, store=None):
    """Where the service secret of a service with this ``storage`` lives."""
    if secret_file:
        return SecretFile(secret_file)
    if setting in _EPHEMERAL:  # ":memory:": SQLite's own private database
        return EphemeralSecret()
    if is_postgresql(setting):
        from mucsvc.storage.pg_rooms import open_link
        from mucsvc.storage.pg_secret import DatabaseSecret
        return DatabaseSecret(store.link if store is not None else open_link(setting))
    return SecretFile(setting + ".secret")


def load_secret(store, source) -> bytes:
    """The service secret.  The first time, a secret that an older version
    kept inside the SQLite file is moved to the secret file rather than
    made anew."""
    legacy = None
    if isinstance(source, SecretFile) and not source.exists():
        legacy = getattr(store, "legacy_secret", lambda: None)()
    return source.service_secret(initial=legacy)
