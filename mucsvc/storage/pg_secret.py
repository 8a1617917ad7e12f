"""The service secret in the PostgreSQL database (``muc_service_secret``).

Every process using one database derives its occupant ids and IQ relay
tags from the same secret, so a room served by another process keeps
its occupants' ids: the first process to start makes it (an ``INSERT``
that does nothing when another process got there first, then a read of
the one row, in one transaction), the others read it.  Whoever can read
the database can read the secret; a deployment that wants it apart sets
``service_secret_file``.
"""

from __future__ import annotations

import os

from mucsvc.storage.secret import SECRET_BYTES


class DatabaseSecret:
    """The secret in the database ``link`` reaches (read at start-up, before
    the link is started: `service_secret` returns the bytes)."""

    def __init__(self, link):
        self.link = link

    def service_secret(self, initial: bytes | None = None) -> bytes:
        value = initial if initial is not None else os.urandom(SECRET_BYTES)

        def work(conn):
            conn.execute("INSERT INTO muc_service_secret (id, value) VALUES (true, %s)"
                         " ON CONFLICT (id) DO NOTHING", (value,))
            return bytes(conn.execute("SELECT value FROM muc_service_secret").fetchone()[0])
        return self.link.run(work)
