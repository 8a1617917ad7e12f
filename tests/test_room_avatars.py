"""Room avatars over XMPP (XEP-0486): the room's vCard on its bare JID, the
hash in presence and disco#info, stored with persistent rooms."""

import base64
import hashlib

import mucsvc  # noqa: F401
from twisted.trial import unittest

from mucsvc.rooms import ServiceLimits
from mucsvc.storage import MemoryRoomStore
from tests.test_rooms_protocol import (
    JULIET, NURSE, ROMEO, ROOM, Harness, codes, condition, config_submit, first, to,
)

VCARD = "vcard-temp"
UPDATE = "vcard-temp:x:update"
DATA_FORMS = "jabber:x:data"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
PNG_SHA1 = hashlib.sha1(PNG).hexdigest()
OUTSIDER = "benvolio@example.org/street"


def photo_vcard(data=PNG, media_type="image/png", binval=None):
    text = base64.b64encode(data).decode("ascii") if binval is None else binval
    kind = f"<TYPE>{media_type}</TYPE>" if media_type is not None else ""
    return f"<vCard xmlns='vcard-temp'><PHOTO>{kind}<BINVAL>{text}</BINVAL></PHOTO></vCard>"


def vcard_set(who, vcard, room=ROOM, id="v1"):
    return (f"<iq xmlns='jabber:client' type='set' id='{id}' from='{who}' to='{room}'>"
            f"{vcard}</iq>")


def vcard_get(who, room=ROOM, id="g1"):
    return (f"<iq xmlns='jabber:client' type='get' id='{id}' from='{who}' to='{room}'>"
            "<vCard xmlns='vcard-temp'/></iq>")


def disco_get(who, room=ROOM):
    return (f"<iq xmlns='jabber:client' type='get' id='d1' from='{who}' to='{room}'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")


def photo_hash(presence):
    """The ``<photo/>`` text of an XEP-0153 update (None: no such element)."""
    for x in presence.elements(UPDATE, "x"):
        return str(first(x, "photo"))
    return None


def avatar_hash_values(result):
    query = first(result, "query")
    for form in query.elements(DATA_FORMS, "x"):
        for field in form.elements(DATA_FORMS, "field"):
            if field.getAttribute("var") == "muc#roominfo_avatarhash":
                assert field["type"] == "text-multi"
                return [str(v) for v in field.elements(DATA_FORMS, "value")]
    return None


def error_text(stanza):
    error = first(stanza, "error")
    texts = [str(t) for t in error.elements("urn:ietf:params:xml:ns:xmpp-stanzas", "text")]
    return texts[0] if texts else None


class AvatarTests(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.h.create()
        self.h.join(JULIET, "juliet")

    def set_avatar(self, vcard=None, who=ROMEO):
        return self.h.receive(vcard_set(who, photo_vcard() if vcard is None else vcard))

    def test_an_owner_sets_it_and_everyone_hears_the_hash_then_104(self):
        out = self.set_avatar()
        result = out[0]
        self.assertEqual((result.name, result["type"], result["id"], result["to"]),
                         ("iq", "result", "v1", ROMEO))
        for who in (ROMEO, JULIET):
            presence, message = [s for s in to(out, who) if s.name != "iq"]
            self.assertEqual((presence.name, presence["from"]), ("presence", ROOM))
            self.assertIsNone(presence.getAttribute("type"))
            self.assertEqual(photo_hash(presence), PNG_SHA1)
            self.assertEqual((message.name, message["type"], message["from"]),
                             ("message", "groupchat", ROOM))
            self.assertEqual(codes(message), ["104"])
        self.assertEqual(len(out), 5)
        self.assertEqual(self.h.muc.rooms.room(ROOM).avatar.data, PNG)
        self.assertEqual(self.h.muc.events.counts["avatar_changed"], 1)  # /metrics

    def test_anyone_reads_the_vcard_even_from_outside(self):
        self.set_avatar()
        [result] = self.h.receive(vcard_get(OUTSIDER))
        self.assertEqual((result["type"], result["to"], result["from"]), ("result", OUTSIDER, ROOM))
        photo = first(first(result, "vCard"), "PHOTO")
        self.assertEqual(first(result, "vCard").uri, VCARD)
        self.assertEqual(str(first(photo, "TYPE")), "image/png")
        self.assertEqual(base64.b64decode(str(first(photo, "BINVAL"))), PNG)

    def test_members_only_rooms_show_their_avatar_to_non_members(self):
        # Prosody and ejabberd answer a room's vCard to anyone; so does
        # disco#info, which carries the hash anyway.
        self.set_avatar()
        self.h.receive(config_submit(ROMEO, [("muc#roomconfig_membersonly", "1")]))
        [result] = self.h.receive(vcard_get(OUTSIDER))
        self.assertEqual(result["type"], "result")

    def test_no_avatar_is_item_not_found(self):
        [error] = self.h.receive(vcard_get(JULIET))
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_a_non_owner_is_forbidden_and_nothing_changes(self):
        out = self.set_avatar(who=JULIET)
        [error] = out
        name, element = condition(error)
        self.assertEqual((error["type"], name, element["type"]), ("error", "forbidden", "auth"))
        self.assertEqual(error_text(error), "Only owners can change the room's avatar")
        self.assertIsNone(self.h.muc.rooms.room(ROOM).avatar)

    def test_an_outsider_is_forbidden_too(self):
        [error] = self.set_avatar(who=OUTSIDER)
        self.assertEqual(condition(error)[0], "forbidden")

    def test_an_empty_vcard_removes_it_and_everyone_hears_an_empty_photo(self):
        self.set_avatar()
        out = self.set_avatar("<vCard xmlns='vcard-temp'/>")
        self.assertEqual(out[0]["type"], "result")
        presence, message = to(out, JULIET)
        self.assertEqual(photo_hash(presence), "")
        self.assertEqual(codes(message), ["104"])
        self.assertIsNone(self.h.muc.rooms.room(ROOM).avatar)
        [error] = self.h.receive(vcard_get(JULIET))
        self.assertEqual(condition(error)[0], "item-not-found")

    def test_the_same_image_again_is_answered_but_not_announced(self):
        self.set_avatar()
        out = self.set_avatar()
        self.assertEqual([s.name for s in out], ["iq"])

    def test_base64_may_be_wrapped_in_lines(self):
        text = base64.encodebytes(PNG).decode("ascii")  # 76 columns, newlines
        self.assertIn("\n", text)
        out = self.set_avatar(photo_vcard(binval=text))
        self.assertEqual(out[0]["type"], "result")
        self.assertEqual(self.h.muc.rooms.room(ROOM).avatar.sha1, PNG_SHA1)

    def test_bad_base64_is_bad_request_with_text(self):
        [error] = self.set_avatar(photo_vcard(binval="not*base64!"))
        self.assertEqual(condition(error)[0], "bad-request")
        self.assertEqual(error_text(error), "The PHOTO's BINVAL is not valid base64")
        self.assertIsNone(self.h.muc.rooms.room(ROOM).avatar)

    def test_a_photo_needs_an_image_type(self):
        for kind in (None, "text/html"):
            [error] = self.set_avatar(photo_vcard(media_type=kind))
            self.assertEqual(condition(error)[0], "bad-request")
            self.assertIn("image type", error_text(error))

    def test_extval_is_refused(self):
        [error] = self.set_avatar("<vCard xmlns='vcard-temp'><PHOTO>"
                                  "<EXTVAL>https://example.org/a.png</EXTVAL></PHOTO></vCard>")
        self.assertEqual(condition(error)[0], "bad-request")
        self.assertIn("EXTVAL", error_text(error))

    def test_a_joiner_gets_the_hash_after_its_own_presence_before_history(self):
        self.set_avatar()
        out = self.h.join(NURSE, "nurse")
        mine = to(out, NURSE)
        self.assertEqual([s.name for s in mine], ["presence"] * 4 + ["message"])
        own, avatar = mine[2], mine[3]
        self.assertEqual(own["from"], ROOM + "/nurse")
        self.assertEqual((avatar["from"], photo_hash(avatar)), (ROOM, PNG_SHA1))
        # The others hear only of the nurse, not of the avatar again.
        self.assertEqual([photo_hash(s) for s in to(out, JULIET)], [None])

    def test_no_avatar_no_presence_on_join(self):
        mine = to(self.h.join(NURSE, "nurse"), NURSE)
        self.assertEqual([photo_hash(s) for s in mine if s.name == "presence"], [None] * 3)

    def test_disco_info_has_the_feature_and_the_hash(self):
        [before] = self.h.receive(disco_get(OUTSIDER))
        features = [f["var"] for f in first(before, "query").elements(
            "http://jabber.org/protocol/disco#info", "feature")]
        self.assertIn(VCARD, features)
        self.assertIsNone(avatar_hash_values(before))
        self.set_avatar()
        [after] = self.h.receive(disco_get(OUTSIDER))
        self.assertEqual(avatar_hash_values(after), [PNG_SHA1])


class LimitTests(unittest.TestCase):
    def test_an_image_over_the_limit_is_policy_violation_with_text(self):
        h = Harness(limits=ServiceLimits(max_avatar_bytes=100))
        h.create()
        [error] = h.receive(vcard_set(ROMEO, photo_vcard(b"x" * 101)))
        name, element = condition(error)
        self.assertEqual((name, element["type"]), ("policy-violation", "modify"))
        self.assertEqual(error_text(error),
                         "The avatar is too large: 101 bytes of image, at most 100 allowed")
        self.assertIsNone(h.muc.rooms.room(ROOM).avatar)
        ok = h.receive(vcard_set(ROMEO, photo_vcard(b"x" * 100)))[0]
        self.assertEqual((ok.name, ok["type"]), ("iq", "result"))


class StoredAvatarTests(unittest.TestCase):
    def persistent_room(self, store):
        h = Harness(store=store)
        h.create()
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        return h

    def test_a_persistent_room_keeps_its_avatar_across_a_restart(self):
        store = MemoryRoomStore()
        h = self.persistent_room(store)
        h.receive(vcard_set(ROMEO, photo_vcard()))
        restarted = Harness(store=store)
        self.assertEqual(restarted.muc.rooms.room(ROOM).avatar.sha1, PNG_SHA1)
        [result] = restarted.receive(vcard_get(OUTSIDER))
        self.assertEqual(result["type"], "result")

    def test_a_temporary_room_made_persistent_takes_its_avatar_along(self):
        store = MemoryRoomStore()
        h = Harness(store=store)
        h.create()
        h.receive(vcard_set(ROMEO, photo_vcard()))
        self.assertEqual(store.load_rooms(), [])
        h.receive(config_submit(ROMEO, [("muc#roomconfig_persistentroom", "1")]))
        [stored] = store.load_rooms()
        self.assertEqual(stored.avatar.sha1, PNG_SHA1)

    def test_a_failed_write_leaves_the_old_avatar_and_tells_nobody(self):
        store = MemoryRoomStore()
        h = self.persistent_room(store)
        h.receive(vcard_set(ROMEO, photo_vcard()))
        store.apply = lambda writes: (_ for _ in ()).throw(OSError("disk full"))
        out = h.receive(vcard_set(ROMEO, photo_vcard(b"GIF89a" + b"\0" * 20, "image/gif")))
        [error] = out
        self.assertEqual(condition(error)[0], "internal-server-error")
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)
        self.assertEqual(h.muc.rooms.room(ROOM).avatar.sha1, PNG_SHA1)
        [still] = h.receive(vcard_get(OUTSIDER))
        photo = first(first(still, "vCard"), "PHOTO")
        self.assertEqual(base64.b64decode(str(first(photo, "BINVAL"))), PNG)
