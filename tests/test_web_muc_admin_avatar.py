"""``PUT|GET|DELETE /muc_admin/rooms/{room}/avatar`` through the Klein app:
the room's avatar set on the service's authority is the one XMPP clients
see (vCard, presence hash, disco#info), and it is kept like any change."""

import base64
import hashlib

from twisted.test.proto_helpers import StringTransport
from twisted.trial import unittest
from twisted.web.test.requesthelper import DummyChannel

from mucsvc.rooms import ServiceLimits
from mucsvc.storage import SQLiteRoomStore
from mucsvc.web.muc_admin import avatar_body_limit
from mucsvc.web.requests import MAX_BODY, guarded
from tests.test_room_avatars import photo_hash, vcard_get
from tests.test_rooms_protocol import JULIET, ROMEO, ROOM, Harness, codes, first
from tests.test_use_cases import FailingStore
from tests.test_web_muc_admin import AdminHarness, AdminTestCase

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 300
PNG_SHA1 = hashlib.sha1(PNG).hexdigest()
PUT = {"type": "image/png", "data": base64.b64encode(PNG).decode("ascii")}


class AvatarTests(AdminTestCase):
    async def test_put_sets_it_tells_the_occupants_and_get_gives_it_back(self):
        code, answer = await self.call("PUT", "/rooms/garden/avatar", PUT)
        self.assertEqual((code, answer), (200, {"jid": ROOM, "type": "image/png",
                                                "hash": PNG_SHA1, "bytes": len(PNG)}))
        out = self.h.stanzas()
        for who in (ROMEO, JULIET):
            presence, message = [s for s in out if s["to"] == who]
            self.assertEqual((presence["from"], photo_hash(presence)), (ROOM, PNG_SHA1))
            self.assertEqual(codes(message), ["104"])
        code, answer = await self.call("GET", "/rooms/garden/avatar")
        self.assertEqual((code, answer), (200, {"jid": ROOM, "type": "image/png",
                                                "hash": PNG_SHA1, "data": PUT["data"]}))
        # The same avatar over XMPP.
        [result] = self.h.receive(vcard_get(JULIET))
        binval = first(first(first(result, "vCard"), "PHOTO"), "BINVAL")
        self.assertEqual(base64.b64decode(str(binval)), PNG)

    async def test_delete_removes_it(self):
        await self.call("PUT", "/rooms/garden/avatar", PUT)
        self.h.stanzas()
        code, answer = await self.call("DELETE", "/rooms/garden/avatar")
        self.assertEqual((code, answer), (200, {"jid": ROOM, "removed": True}))
        self.assertEqual([photo_hash(s) for s in self.h.stanzas() if s.name == "presence"],
                         ["", ""])
        self.assertIsNone(self.room.avatar)
        code, answer = await self.call("GET", "/rooms/garden/avatar")
        self.assertEqual((code, answer), (404, {"error": f"Room has no avatar: {ROOM}"}))
        code, answer = await self.call("DELETE", "/rooms/garden/avatar")
        self.assertEqual((code, answer), (200, {"jid": ROOM, "removed": False}))
        self.assertEqual(self.h.stanzas(), [])

    async def test_refusals(self):
        cases = [
            ({"type": "image/png"}, 400, "type and data (the image in base64) must be strings"),
            ({"data": PUT["data"]}, 400, "type and data (the image in base64) must be strings"),
            ({"type": "image/png", "data": 5}, 400,
             "type and data (the image in base64) must be strings"),
            ({"type": "image/png", "data": "%%%"}, 400, "data is not valid base64"),
            ({"type": "image/png", "data": "===="}, 400, "data is not valid base64"),
            ({"type": "text/plain", "data": PUT["data"]}, 400,
             "The avatar's type must be an image type such as image/png"),
        ]
        for body, status, message in cases:
            code, answer = await self.call("PUT", "/rooms/garden/avatar", body)
            self.assertEqual((code, answer), (status, {"error": message}), body)
        code, answer = await self.call("PUT", "/rooms/nowhere/avatar", PUT)
        self.assertEqual((code, answer), (404, {"error": "Room not found: nowhere"}))
        self.assertIsNone(self.room.avatar)
        self.assertEqual(self.h.stanzas(), [])

    async def test_an_image_over_the_limit_is_413(self):
        limit = self.h.muc.rooms.limits.max_avatar_bytes
        big = {"type": "image/png", "data": base64.b64encode(b"x" * (limit + 1)).decode()}
        code, answer = await self.call("PUT", "/rooms/garden/avatar", big)
        self.assertEqual((code, answer), (413, {"error": "The avatar is too large: "
                                                f"{limit + 1} bytes of image, at most {limit} "
                                                "allowed"}))
        # The largest image is taken, though its body is over the usual limit.
        largest = {"type": "image/png", "data": base64.b64encode(b"x" * limit).decode()}
        self.assertGreater(len(largest["data"]), MAX_BODY)
        code, answer = await self.call("PUT", "/rooms/garden/avatar", largest)
        self.assertEqual((code, answer["bytes"]), (200, limit))

    async def test_a_body_past_what_the_largest_image_needs_is_413(self):
        limit = avatar_body_limit(self.h.muc.rooms.limits.max_avatar_bytes)
        code, answer = await self.call("PUT", "/rooms/garden/avatar", raw=b" " * (limit + 1))
        self.assertEqual((code, answer), (413, {"error": "The avatar is too large: at most 65536 "
                                                         f"bytes of image ({limit} bytes of "
                                                         "request)"}))


class StoredAvatarTests(AdminTestCase):
    store = FailingStore

    async def test_a_store_failure_is_503_and_changes_nothing(self):
        await self.call("PUT", "/rooms/garden/avatar", PUT)
        self.h.stanzas()
        self.h.muc.app.store.armed = True
        code, answer = await self.call("DELETE", "/rooms/garden/avatar")
        self.assertEqual((code, answer), (503, {"error": "The change could not be stored"}))
        self.flushLoggedErrors(OSError)
        self.assertEqual(self.room.avatar.sha1, PNG_SHA1)
        self.assertEqual(self.h.stanzas(), [])


class RestartTests(unittest.TestCase):
    async def test_an_avatar_set_over_http_survives_a_restart(self):
        path = self.mktemp()
        h = AdminHarness(store=SQLiteRoomStore(path))
        response = await h.treq.request("PUT", "http://localhost/muc_admin/rooms/garden/avatar",
                                        json=PUT, headers={"Authorization": "Bearer adm1n"})
        self.assertEqual(response.code, 200)
        h.muc.app.store.close()
        again = Harness(store=SQLiteRoomStore(path))
        self.addCleanup(again.muc.app.store.close)
        self.assertEqual(again.muc.rooms.room(ROOM).avatar.data, PNG)


class BodyLimitTests(unittest.TestCase):
    """Only an avatar's path takes a body over the usual limit."""

    def request(self, path: bytes):
        channel = DummyChannel()
        channel._path = path
        channel.transport = StringTransport()
        factory = guarded({}, [(b"/muc_admin/rooms/", b"/avatar", 3 * MAX_BODY)])
        request = factory(channel)
        request.gotLength(None)
        for _ in range(5):
            request.handleContentChunk(b"x" * MAX_BODY)
        request.content.seek(0)
        return len(request.content.read())

    def test_the_avatar_path_keeps_its_own_limit(self):
        self.assertEqual(self.request(b"/muc_admin/rooms/garden/avatar"), 3 * MAX_BODY + 1)
        self.assertEqual(self.request(b"/muc_admin/rooms/garden/avatar?x=1"), 3 * MAX_BODY + 1)

    def test_every_other_path_keeps_the_usual_limit(self):
        for path in (b"/muc_admin/rooms", b"/muc_kick", b"/muc_admin/rooms/garden/config",
                     b"/avatar"):
            self.assertEqual(self.request(path), MAX_BODY + 1, path)

    def test_the_body_limit_fits_the_image_limit(self):
        self.assertEqual(avatar_body_limit(64 * 1024), 4 * 21846 + 1024)
        self.assertEqual(avatar_body_limit(100), MAX_BODY)
        limits = ServiceLimits()
        self.assertGreaterEqual(avatar_body_limit(limits.max_avatar_bytes),
                                len(base64.b64encode(b"x" * limits.max_avatar_bytes)) + 100)
