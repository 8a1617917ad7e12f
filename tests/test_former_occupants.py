"""Who was in the rooms, for the process that takes a dead holder's slot
over: each holder's lists are written a moment after they change, and the
process taking over tells the sessions still listed in the rooms it now
serves what a clean stop would have (unavailable, 332), then drops them."""

from __future__ import annotations

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.trial import unittest

from mucsvc.app.former_occupants import FLUSH_INTERVAL, FormerOccupants
from mucsvc.muc import MUCService
from mucsvc.storage import MemoryRoomStore
from tests.helpers import SERVICE, Wire, stanzas_in
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, admin_set, codes, config_submit, items

BOB = "bob@example.org/phone"


class Lists:
    """`OccupantLists` in memory: rows ``(room, full JID, nick, holder)``."""

    def __init__(self):
        self.rows = set()
        self.writes = []
        self.failing = False

    def replace(self, holder, lists):
        if self.failing:
            return defer.fail(RuntimeError("the database is away"))
        self.writes.append(lists)
        self.rows = {r for r in self.rows if not (r[3] == holder and r[0] in lists)}
        self.rows |= {(room, jid, nick, holder) for room, sessions in lists.items()
                      for jid, nick in sessions}
        return defer.succeed(None)

    def former(self, holder, rooms):
        return defer.succeed(sorted((r[0], r[1], r[2]) for r in self.rows
                                    if r[3] != holder and r[0] in rooms))

    def forget(self, holder, rooms):
        self.rows = {r for r in self.rows if r[3] == holder or r[0] not in rooms}
        return defer.succeed(None)

    def clear(self, holder):
        self.rows = {r for r in self.rows if r[3] != holder}
        return defer.succeed(None)


class Fixture(unittest.TestCase):
    def setUp(self):
        self.sent = []
        self.clock = Clock()
        self.muc = MUCService(SERVICE, self.sent.append, self.clock, store=MemoryRoomStore())
        self.wire = Wire(rooms=self.muc.handler)
        self.lists = Lists()
        self.former = FormerOccupants(self.muc.app, self.lists, "me", self.clock)

    def receive(self, xml):
        self.wire.receive(xml)
        out = stanzas_in(self.sent + self.wire.take())
        del self.sent[:]
        return out

    def join(self, who, nick):
        return self.receive(f"<presence xmlns='jabber:client' from='{who}' to='{ROOM}/{nick}'>"
                            "<x xmlns='http://jabber.org/protocol/muc'/></presence>")

    def create(self):
        """Romeo's room, unlocked (the owner took the default configuration)."""
        self.join(ROMEO, "romeo")
        self.receive(config_submit(ROMEO, []))

    def leave(self, who, nick):
        return self.receive(f"<presence xmlns='jabber:client' type='unavailable' from='{who}'"
                            f" to='{ROOM}/{nick}'/>")

    def mine(self):
        return sorted((r[1], r[2]) for r in self.lists.rows if r[3] == "me")


class RecordingTests(Fixture):
    def test_nothing_is_written_before_the_takeover_is_done(self):
        self.join(ROMEO, "romeo")
        self.clock.advance(10)
        self.assertEqual(self.lists.writes, [])
        self.former.start()
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(self.mine(), [(ROMEO, "romeo")])

    def test_the_changed_rooms_are_written_whole_a_moment_later(self):
        self.former.start()
        self.create()
        self.join(JULIET, "juliet")
        self.assertEqual(self.lists.writes, [])
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(len(self.lists.writes), 1)  # both joins, one write
        self.assertEqual(self.mine(), [(JULIET, "juliet"), (ROMEO, "romeo")])
        self.receive(f"<message xmlns='jabber:client' type='groupchat' from='{ROMEO}' to='{ROOM}'>"
                     "<body>hello</body></message>")
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(len(self.lists.writes), 1)  # a message changes nobody
        self.leave(JULIET, "juliet")
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(self.mine(), [(ROMEO, "romeo")])

    def test_a_kicked_occupant_leaves_the_list(self):
        self.former.start()
        self.create()
        self.join(JULIET, "juliet")
        self.receive(admin_set(ROMEO, "<item nick='juliet' role='none'/>"))
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(self.mine(), [(ROMEO, "romeo")])

    def test_a_write_that_failed_is_made_with_the_next(self):
        self.former.start()
        self.create()
        self.lists.failing = True
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(self.mine(), [])
        self.lists.failing = False
        self.join(JULIET, "juliet")
        self.clock.advance(FLUSH_INTERVAL)
        self.assertEqual(self.mine(), [(JULIET, "juliet"), (ROMEO, "romeo")])

    def test_a_clean_stop_drops_the_lists_and_a_lost_link_keeps_them(self):
        self.former.start()
        self.join(ROMEO, "romeo")
        self.clock.advance(FLUSH_INTERVAL)
        self.former.stop(told=False)
        self.assertEqual(self.mine(), [(ROMEO, "romeo")])
        self.former.stop(told=True)  # stopped already: nothing recorded since
        self.assertEqual(self.mine(), [(ROMEO, "romeo")])
        again = FormerOccupants(self.muc.app, self.lists, "me", self.clock)
        again.start()
        again.stop(told=True)
        self.assertEqual(self.mine(), [])


class TakeoverTests(Fixture):
    def setUp(self):
        super().setUp()
        self.join(ROMEO, "romeo")  # the room is here again; Romeo came back already
        self.lists.rows |= {(ROOM, BOB, "bob", "dead"), (ROOM, ROMEO, "romeo", "dead"),
                            (f"attic@{SERVICE}", JULIET, "juliet", "dead")}

    def test_the_sessions_a_dead_holder_listed_are_told_the_room_has_gone_away(self):
        told = self.successResultOf(self.former.dismiss([ROOM]))
        self.assertEqual(told, 1)
        out = stanzas_in(self.sent)
        [gone] = [s for s in out if s.name == "presence"]
        self.assertEqual((gone["from"], gone["to"], gone.getAttribute("type")),
                         (f"{ROOM}/bob", BOB, "unavailable"))
        self.assertEqual(codes(gone), ["332", "110"])  # as at a clean stop
        self.assertEqual([(i["affiliation"], i["role"]) for i in items(gone)], [("none", "none")])
        # What it listed of this room is gone; another room's is not this one's to drop.
        self.assertEqual(sorted(self.lists.rows),
                         [(f"attic@{SERVICE}", JULIET, "juliet", "dead")])

    def test_a_room_without_lists_tells_nobody(self):
        self.lists.rows.clear()
        self.assertEqual(self.successResultOf(self.former.dismiss([ROOM])), 0)
        self.assertEqual(stanzas_in(self.sent), [])
        self.assertEqual(self.successResultOf(self.former.dismiss([])), 0)

    def test_rooms_found_served_in_one_moment_are_dismissed_with_one_read(self):
        reads = []
        real = self.lists.former
        self.lists.former = lambda holder, rooms: reads.append(sorted(rooms)) or real(holder, rooms)
        self.former.dismiss_soon(ROOM)
        self.former.dismiss_soon(f"attic@{SERVICE}")
        self.assertEqual(reads, [])
        self.clock.advance(0)
        self.assertEqual(reads, [[f"attic@{SERVICE}", ROOM]])
        [gone] = [s for s in stanzas_in(self.sent) if s.name == "presence"]
        self.assertEqual(gone["to"], BOB)  # Juliet's attic is not a room here
