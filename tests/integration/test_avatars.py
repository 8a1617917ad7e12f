"""Room avatars (XEP-0486) through a real Prosody: an owner sets the room's
vCard photo; another occupant hears the hash in a presence from the room,
reads the vCard, finds the hash in disco#info; after the service restarts
(SIGTERM, then SIGKILL) the persistent room still has it.

Prosody 0.12's own MUC (``conference.localhost``) has no room vCard at all
(it came with Prosody 13, and before that with the community module
mod_vcard_muc), so there is no reference run here.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest

from tests.integration.muc_scenarios import (
    config_submission,
    create_room,
    enter,
    occupant,
    status_code_list,
)
from tests.integration.stanzas import describe, disco_features, error_condition

USERS = ("alice", "bob")
VCARD_NS = "vcard-temp"
UPDATE_NS = "vcard-temp:x:update"
DATA_NS = "jabber:x:data"
#: A real, small PNG (1x1, red), as a client would upload it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
PNG_SHA1 = hashlib.sha1(PNG).hexdigest()


@pytest.fixture
def service(own_service):
    """A ``twistd muc`` of this test alone (it is restarted)."""
    return own_service()


def vcard(data: bytes | None, media_type: str = "image/png") -> ET.Element:
    card = ET.Element(f"{{{VCARD_NS}}}vCard")
    if data is not None:
        photo = ET.SubElement(card, f"{{{VCARD_NS}}}PHOTO")
        ET.SubElement(photo, f"{{{VCARD_NS}}}TYPE").text = media_type
        ET.SubElement(photo, f"{{{VCARD_NS}}}BINVAL").text = base64.b64encode(data).decode()
    return card


def photo_of(stanza) -> str | None:
    """The XEP-0153 hash in a presence (None: no update element)."""
    update = stanza.xml.find(f"{{{UPDATE_NS}}}x")
    if update is None:
        return None
    return update.findtext(f"{{{UPDATE_NS}}}photo") or ""


async def read_avatar(client, room) -> tuple[str, bytes]:
    reply = await client.request(room, ET.Element(f"{{{VCARD_NS}}}vCard"))
    photo = reply.xml.find(f"{{{VCARD_NS}}}vCard/{{{VCARD_NS}}}PHOTO")
    assert photo is not None, describe(reply)
    return (photo.findtext(f"{{{VCARD_NS}}}TYPE"),
            base64.b64decode(photo.findtext(f"{{{VCARD_NS}}}BINVAL")))


async def disco_hashes(client, room) -> tuple[set, list[str] | None]:
    reply = await client.disco_info(room)
    for form in reply.xml.iter(f"{{{DATA_NS}}}x"):
        for field in form.iter(f"{{{DATA_NS}}}field"):
            if field.get("var") == "muc#roominfo_avatarhash":
                return disco_features(reply), [v.text for v in field.iter(f"{{{DATA_NS}}}value")]
    return disco_features(reply), None


def test_an_owners_room_avatar_reaches_the_others_and_survives_restarts(scenario, service):
    room = f"portrait@{service.jid}"

    async def body(alice, bob):
        await create_room(alice, room, "Alice", instant=False)
        await alice.request(room, config_submission({"muc#roomconfig_persistentroom": "1"}),
                            type="set")
        await enter(bob, room, "Bob")
        features, hashes = await disco_hashes(bob, room)
        assert "vcard-temp" in features and hashes is None, features

        # Bob is no owner: refused, and nothing changes.
        refused = await bob.request_error(room, vcard(PNG), type="set")
        assert error_condition(refused) == "forbidden", describe(refused)
        refused = await bob.request_error(room, ET.Element(f"{{{VCARD_NS}}}vCard"))
        assert error_condition(refused) == "item-not-found", describe(refused)

        await alice.request(room, vcard(PNG), type="set")
        update = await bob.expect_presence(frm=room, where=lambda s: photo_of(s) is not None)
        assert photo_of(update) == PNG_SHA1 and update.xml.get("type") is None, describe(update)
        changed = await bob.expect_message(frm=room, type="groupchat",
                                           where=lambda s: 104 in status_code_list(s))
        assert status_code_list(changed) == [104], describe(changed)
        assert await read_avatar(bob, room) == ("image/png", PNG)
        features, hashes = await disco_hashes(bob, room)
        assert hashes == [PNG_SHA1]

        # The largest image the service takes by default goes through
        # Prosody's client and component links as it is.
        largest = b"\x89PNG" + bytes(i % 251 for i in range(64 * 1024 - 4))
        await alice.request(room, vcard(largest), type="set")
        update = await bob.expect_presence(frm=room, where=lambda s: photo_of(s) is not None)
        assert photo_of(update) == hashlib.sha1(largest).hexdigest()
        # slixmpp cannot read an IQ error of condition policy-violation
        # (RFC 6120 has it; its list does not): sent raw, read raw.
        too_large = ET.tostring(vcard(largest + b"!"), encoding="unicode")
        alice.send_raw(f"<iq type='set' id='too-large' to='{room}'>{too_large}</iq>")
        refused = await alice.expect_iq(frm=room, type="error",
                                        where=lambda s: s.xml.get("id") == "too-large")
        assert error_condition(refused) == "policy-violation", describe(refused)
        await alice.request(room, vcard(PNG), type="set")
        await bob.expect_presence(frm=room, where=lambda s: photo_of(s) == PNG_SHA1)

        for restart in (service.stop_cleanly, service.kill):
            restart()
            service.start()
            bob.forget_unclaimed()
            # A joiner is told the hash right after its own presence.
            await enter(bob, room, "Bob")
            told = await bob.expect_presence(frm=room, where=lambda s: photo_of(s) is not None)
            assert photo_of(told) == PNG_SHA1, describe(told)
            assert await read_avatar(bob, room) == ("image/png", PNG)
            assert (await disco_hashes(bob, room))[1] == [PNG_SHA1]

        # An empty vCard removes it: an empty <photo/> for everyone.
        alice.forget_unclaimed()
        await enter(alice, room, "Alice")
        await alice.request(room, ET.Element(f"{{{VCARD_NS}}}vCard"), type="set")
        cleared = await bob.expect_presence(frm=room, where=lambda s: photo_of(s) is not None)
        assert photo_of(cleared) == "", describe(cleared)
        assert (await disco_hashes(bob, room))[1] is None
        refused = await bob.request_error(room, ET.Element(f"{{{VCARD_NS}}}vCard"))
        assert error_condition(refused) == "item-not-found", describe(refused)

    scenario(body, "alice", "bob")
