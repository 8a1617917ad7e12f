"""``POST /muc_kick`` with ``"ban": true``, and the outcast list's reasons.

A ban is one stored affiliation change: the occupant's user becomes an
outcast with the kick's reason and leaves with 301 (XEP-0045 §9.1), not 307.
The reason then shows in the outcast list (``muc#admin``), after a restart
too.
"""

from treq.testing import StubTreq
from twisted.trial import unittest

from mucsvc.link import LinkState
from mucsvc.storage import SQLiteRoomStore
from mucsvc.web.app import WebApp
from tests.test_room_archive import Harness as StoredHarness
from tests.test_rooms_protocol import (JULIET, ROMEO, ROOM, admin_get, admin_set, codes, config_submit,
                                       first, muc_x)
from tests.test_use_cases import FailingStore
from tests.test_web_kick import AUTH, KickHarness, KickTestCase

JULIET_BARE = JULIET.split("/")[0]


def outcasts(h):
    del h.sent[:]
    [iq] = h.receive(admin_get(ROMEO, "affiliation='outcast'"))
    query = first(iq, "query")
    return [(item["jid"], item["affiliation"],
             [str(r) for r in item.elements() if r.name == "reason"])
            for item in query.elements() if item.name == "item"]


class BanTests(KickTestCase):
    async def test_ban_makes_the_user_an_outcast_and_announces_301(self):
        response, answer = await self.request({"nickname": "juliet", "muc": ROOM,
                                               "reason": "Spam", "ban": True})
        self.assertEqual((response.code, answer),
                         (200, {"kicked": "juliet", "muc": ROOM, "banned": True}))
        self.assertEqual(self.h.nicks(), ["romeo"])
        room = self.h.muc.rooms.get(ROOM)
        self.assertEqual(room.affiliation_of(JULIET_BARE).value, "outcast")
        self.assertEqual(room.affiliation_data(JULIET_BARE).get("reason"), "Spam")
        sent = self.h.sent_stanzas()
        [juliet] = [s for s in sent if s["to"] == JULIET]
        [romeo] = [s for s in sent if s["to"] == ROMEO]
        self.assertEqual(juliet["type"], "unavailable")
        self.assertEqual(codes(juliet), ["301", "110"])
        self.assertEqual(codes(romeo), ["301"])
        item = first(muc_x(romeo), "item")
        self.assertEqual((item["affiliation"], item["role"]), ("outcast", "none"))
        self.assertEqual(str(first(item, "reason")), "Spam")

    async def test_a_banned_user_cannot_come_back(self):
        await self.request({"nickname": "juliet", "muc": ROOM, "ban": True})
        del self.h.sent[:]
        [refusal] = self.h.join(JULIET, "juliet")
        self.assertEqual(refusal["type"], "error")
        self.assertEqual(self.h.nicks(), ["romeo"])

    async def test_ban_false_is_a_kick(self):
        response, answer = await self.request({"nickname": "juliet", "muc": ROOM, "ban": False})
        self.assertEqual((response.code, answer), (200, {"kicked": "juliet", "muc": ROOM}))
        room = self.h.muc.rooms.get(ROOM)
        self.assertEqual(room.affiliation_of(JULIET_BARE).value, "none")
        self.assertIn("307", codes(self.h.sent_stanzas()[0]))

    async def test_non_boolean_ban_is_400(self):
        for ban in ("yes", 1, 0, None, [], {}):
            await self.assertRefused(400, "ban must be a boolean",
                                     {"nickname": "juliet", "muc": ROOM, "ban": ban})

    async def test_the_last_owner_cannot_be_banned(self):
        await self.assertRefused(409, "A room needs at least one owner",
                                 {"nickname": "romeo", "muc": ROOM, "ban": True})
        self.assertEqual(self.h.muc.rooms.get(ROOM).affiliation_of(ROMEO.split("/")[0]).value,
                         "owner")

    async def test_ban_of_nobody_is_404(self):
        await self.assertRefused(404, "Occupant not found: tybalt",
                                 {"nickname": "tybalt", "muc": ROOM, "ban": True})

    async def test_ban_is_listed_with_its_reason(self):
        await self.request({"nickname": "juliet", "muc": ROOM, "reason": "Spam & <eggs>",
                            "ban": True})
        self.assertEqual(outcasts(self.h), [(JULIET_BARE, "outcast", ["Spam & <eggs>"])])


class StoreFailureTests(unittest.TestCase):
    async def test_a_ban_the_store_refuses_is_503_and_changes_nothing(self):
        h = StoredHarness(store=FailingStore())
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        h.join(JULIET, "juliet")
        h.muc.app.store.armed = True
        treq = StubTreq(WebApp(LinkState(h.clock), h.muc, kick_authorization=AUTH).resource())
        response = await treq.post("http://localhost/muc_kick", headers={"Authorization": AUTH},
                                   json={"nickname": "juliet", "muc": ROOM, "ban": True})
        self.assertEqual(response.code, 503)
        self.assertEqual(await response.json(), {"error": "The change could not be stored"})
        room = h.muc.rooms.get(ROOM)
        self.assertEqual(sorted(room._by_nick), ["juliet", "romeo"])
        self.assertEqual(room.affiliation_of(JULIET_BARE).value, "none")
        self.flushLoggedErrors(OSError)


class OutcastReasonTests(unittest.TestCase):
    def test_outcast_list_has_each_reason_and_none_when_there_was_none(self):
        h = KickHarness()
        h.receive(admin_set(ROMEO, "<item jid='tybalt@example.org' affiliation='outcast'>"
                                   "<reason>Feud</reason></item>"
                                   "<item jid='paris@example.org' affiliation='outcast'/>"))
        self.assertEqual(outcasts(h), [("paris@example.org", "outcast", []),
                                       ("tybalt@example.org", "outcast", ["Feud"])])

    async def test_the_reason_survives_a_restart(self):
        path = self.mktemp()
        h = StoredHarness(store=SQLiteRoomStore(path))
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        h.join(JULIET, "juliet")
        treq = StubTreq(WebApp(LinkState(h.clock), h.muc, kick_authorization=AUTH).resource())
        response = await treq.post("http://localhost/muc_kick", headers={"Authorization": AUTH},
                                   json={"nickname": "juliet", "muc": ROOM, "reason": "Spam",
                                         "ban": True})
        self.assertEqual(response.code, 200)
        h.muc.archive.stop()
        h.muc.app.store.close()
        again = StoredHarness(store=SQLiteRoomStore(path))
        again.join(ROMEO, "romeo")
        self.assertEqual(outcasts(again), [(JULIET_BARE, "outcast", ["Spam"])])
        again.muc.archive.stop()
        again.muc.app.store.close()
