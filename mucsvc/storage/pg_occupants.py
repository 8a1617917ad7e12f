"""Who is in each holder's rooms, in the PostgreSQL database (``muc_occupants``).

With several processes behind ejabberd (``component_slots``) a process
that dies takes its occupants with it: the one taking over its slot reads
the rooms but not who was in them.  So each holder keeps here, per room,
the sessions in it (real full JID and nick), under its holder id (new at
each start, see `mucsvc.slot_service`); the process taking over reads the
lists of the rooms it now serves written by other holders, tells those
sessions (`mucsvc.app.former_occupants`), and drops them.  Each function
is one transaction on the store's `DatabaseLink` (a Deferred of its result).
"""

from __future__ import annotations


class OccupantLists:
    """The occupant lists in the database ``link`` reaches."""

    def __init__(self, link):
        self.link = link

    def replace(self, holder: str, lists: dict):
        """``lists``: room JID -> ``[(full JID, nick)]``, each the whole
        list of that room now (empty: nobody); written in one transaction."""
        rooms = list(lists)
        rows = [(room, full_jid, nick, holder)
                for room, sessions in lists.items() for full_jid, nick in sessions]

        def work(conn):
            conn.execute("DELETE FROM muc_occupants WHERE holder = %s AND room_jid = ANY(%s)",
                         (holder, rooms))
            if rows:
                with conn.cursor() as cursor:
                    cursor.executemany("INSERT INTO muc_occupants (room_jid, full_jid, nick, holder)"
                                       " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
        return self.link.run(work)

    def former(self, holder: str, room_jids):
        """``[(room JID, full JID, nick)]`` of the rooms ``room_jids``
        written by holders other than ``holder``, by room and nick."""
        rooms = list(room_jids)

        def work(conn):
            return [tuple(row) for row in conn.execute(
                "SELECT room_jid, full_jid, nick FROM muc_occupants"
                " WHERE holder <> %s AND room_jid = ANY(%s)"
                " ORDER BY room_jid, nick, full_jid", (holder, rooms))]
        return self.link.run(work)

    def forget(self, holder: str, room_jids):
        """Drop what other holders wrote of the rooms ``room_jids``."""
        rooms = list(room_jids)
        return self.link.run(lambda conn: conn.execute(
            "DELETE FROM muc_occupants WHERE holder <> %s AND room_jid = ANY(%s)",
            (holder, rooms)).rowcount)

    def clear(self, holder: str):
        """Drop everything ``holder`` wrote (a clean stop told its occupants)."""
        return self.link.run(lambda conn: conn.execute(
            "DELETE FROM muc_occupants WHERE holder = %s", (holder,)).rowcount)
