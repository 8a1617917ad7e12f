"""Component slot leases in the PostgreSQL database (``muc_component_slots``).

ejabberd keeps ``component_number`` slots for a component domain and gives
a free one to the next connection that authenticates; a connection beyond
them is accepted but gets nothing, ever.  So the processes sharing one
database hand out as many tokens as ejabberd has slots, and a process
connects only while it holds one: never more connections than slots.

A token is a row: its holder (a process id, new at each start) and when its
lease ends, in the database's time (``now()``), so processes never compare
their clocks.  Each operation is one statement; claiming is safe against
other processes claiming at the same moment (``FOR UPDATE SKIP LOCKED``:
each takes a different free row, none waits).  The functions take a
connection, so that the tests run them on a real database.
"""

from __future__ import annotations

from mucsvc.storage.pg_rooms import open_link

_ENSURE = ("INSERT INTO muc_component_slots (slot) SELECT generate_series(1, %(count)s)"
           " ON CONFLICT DO NOTHING")

_CLAIM = """
UPDATE muc_component_slots SET holder = %(holder)s, reconnect = false,
       expires = now() + %(lease)s * interval '1 second'
 WHERE slot = (SELECT slot FROM muc_component_slots
                WHERE slot <= %(count)s AND (holder IS NULL OR expires < now())
                ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED)
   AND (holder IS NULL OR expires < now())
RETURNING slot
"""

_RENEW = """
UPDATE muc_component_slots SET expires = now() + %(lease)s * interval '1 second'
 WHERE slot = %(slot)s AND holder = %(holder)s AND expires >= now()
RETURNING reconnect
"""

_ASK_RECONNECT = ("UPDATE muc_component_slots SET reconnect = true"
                  " WHERE slot = %(slot)s AND holder IS NOT NULL AND holder <> %(holder)s")

#: What `renew` answers.
HELD, LOST, RECONNECT = "held", "lost", "reconnect"

_RELEASE = ("UPDATE muc_component_slots SET holder = NULL, expires = '-infinity'"
            " WHERE slot = %(slot)s AND holder = %(holder)s")


def claim(conn, holder: str, count: int, lease: float) -> int | None:
    """Take a free or expired token of the first ``count`` for ``holder``
    for ``lease`` seconds: its number, or None when all are held."""
    conn.execute(_ENSURE, {"count": count})
    row = conn.execute(_CLAIM, {"holder": holder, "count": count, "lease": lease}).fetchone()
    return None if row is None else row[0]


def renew(conn, slot: int, holder: str, lease: float) -> str:
    """Extend ``holder``'s lease of ``slot`` by ``lease`` seconds from now:
    `HELD`; `LOST` when it is not ``holder``'s any more, or its lease
    already ran out (another process may have it by now); `RECONNECT`
    (extended too) when a former holder asked for it (`ask_reconnect`)."""
    row = conn.execute(_RENEW, {"slot": slot, "holder": holder, "lease": lease}).fetchone()
    if row is None:
        return LOST
    return RECONNECT if row[0] else HELD


def ask_reconnect(conn, slot: int, former: str) -> None:
    """``former`` held ``slot`` until its lease ran out while it could not
    act (paused, stopped by a debugger, a frozen VM) but kept its
    connection to ejabberd, and so ejabberd's slot: whoever took the token
    meanwhile connected beyond the slots and gets nothing.  Now that
    ``former`` closed its connection, the present holder is asked to
    connect again, to take the slot that is free at last."""
    conn.execute(_ASK_RECONNECT, {"slot": slot, "holder": former})


def release(conn, slot: int, holder: str) -> None:
    """Give ``slot`` back at once (a clean stop), if ``holder`` still has it."""
    conn.execute(_RELEASE, {"slot": slot, "holder": holder})


def holders(conn) -> list[tuple[int, str | None, bool]]:
    """``(slot, holder, live)`` of every token, for operators and tests."""
    return [(slot, holder, live) for slot, holder, live in conn.execute(
        "SELECT slot, holder, holder IS NOT NULL AND expires >= now()"
        " FROM muc_component_slots ORDER BY slot")]


class SlotTokens:
    """The tokens of ``count`` slots, on a database connection of their own
    (a `DatabaseLink` to ``conninfo``): a renewal must not wait behind the
    archive's batches, or a busy process would fence itself."""

    def __init__(self, conninfo: str, count: int, lease: float):
        self.link = open_link(conninfo).acquire()
        self.count = count
        self.lease = lease

    def start(self, clock, deliver) -> None:
        self.link.start(clock, deliver)

    def claim(self, holder: str):
        return self.link.run(lambda conn: claim(conn, holder, self.count, self.lease))

    def renew(self, slot: int, holder: str):
        return self.link.run(lambda conn: renew(conn, slot, holder, self.lease))

    def release(self, slot: int, holder: str):
        return self.link.run(lambda conn: release(conn, slot, holder))

    def ask_reconnect(self, slot: int, former: str):
        return self.link.run(lambda conn: ask_reconnect(conn, slot, former))

    def close(self):
        return self.link.release()
