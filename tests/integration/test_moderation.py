"""Retraction with real clients behind the real Prosody: a moderator
retracts a message with slixmpp's XEP-0425 plugin (v0.3), the other
occupant receives the announcement (v0.3 and v0.2 forms), an author
retracts their own message (XEP-0424), the service retracts one over
HTTP, and a MAM query returns the tombstones."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import slixmpp

from tests.integration.muc_scenarios import create_room, enter, occupant, settle
from tests.integration.stanzas import CLIENT_NS, describe

USERS = ("alice", "bob")
MODERATE_AUTHORIZATION = "Bearer integration-moderate"

SID = "urn:xmpp:sid:0"
MAM = "urn:xmpp:mam:2"
FORWARD = "urn:xmpp:forward:0"
FASTEN = "urn:xmpp:fasten:0"
RETRACT_0 = "urn:xmpp:message-retract:0"
RETRACT_1 = "urn:xmpp:message-retract:1"
MODERATE_0 = "urn:xmpp:message-moderate:0"
MODERATE_1 = "urn:xmpp:message-moderate:1"


@pytest.fixture(scope="module")
def muc(prosody, tmp_path_factory):
    """This module's service, with the HTTP moderation endpoint on."""
    from tests.integration.muc_process import MucProcess

    service = MucProcess(tmp_path_factory.mktemp("muc"), prosody,
                         http_muc_moderate_authorization_header=MODERATE_AUTHORIZATION)
    service.start()
    yield service
    service.stop()


def stanza_id(message, room) -> str:
    for element in message.xml.findall(f"{{{SID}}}stanza-id"):
        if element.get("by") == room:
            return element.get("id")
    raise AssertionError(f"no stanza-id by {room}:\n{describe(message)}")


def retracting(sid):
    return lambda s: (s.xml.find(f"{{{RETRACT_1}}}retract") is not None
                      and s.xml.find(f"{{{RETRACT_1}}}retract").get("id") == sid)


async def archive(client, room) -> list:
    """Every archived message of ``room`` (the inner, forwarded stanzas)."""
    query = ET.Element(f"{{{MAM}}}query", queryid="all")
    results = []
    before = len(client.received)
    await client.request(room, query, type="set")
    for stanza in client.received[before:]:
        result = stanza.xml.find(f"{{{MAM}}}result")
        if result is not None and result.get("queryid") == "all":
            results.append((result.get("id"),
                            result.find(f"{{{FORWARD}}}forwarded/{{{CLIENT_NS}}}message")))
    return results


def test_moderation_self_retraction_and_http_end_to_end(scenario, muc):
    room = f"moderation@{muc.jid}"
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        alice.xmpp.register_plugin("xep_0425")
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await alice.expect_presence(frm=bob_nick, type=None)

        # A moderator retracts bob's message.
        bob.send_message(room, "buy cheap potions", id="spam-1")
        seen = await alice.expect_message(frm=bob_nick, type="groupchat", body="buy cheap potions")
        spam = stanza_id(seen, room)
        await bob.expect_message(frm=bob_nick, body="buy cheap potions")
        await alice.xmpp.plugin["xep_0425"].moderate(slixmpp.JID(room), spam, "Spam")
        announcement = await bob.expect_message(frm=room, type="groupchat", where=retracting(spam))
        current = announcement.xml.find(f"{{{RETRACT_1}}}retract")
        assert current.find(f"{{{MODERATE_1}}}moderated").get("by") == alice_nick, describe(announcement)
        assert current.findtext(f"{{{RETRACT_1}}}reason") == "Spam"
        legacy = announcement.xml.find(f"{{{FASTEN}}}apply-to")
        assert legacy.get("id") == spam
        assert legacy.find(f"{{{MODERATE_0}}}moderated/{{{RETRACT_0}}}retract") is not None
        await alice.expect_message(frm=room, type="groupchat", where=retracting(spam))

        # An author retracts their own message (XEP-0424 v1).
        bob.send_message(room, "oops, wrong room", id="oops-1")
        seen = await alice.expect_message(frm=bob_nick, body="oops, wrong room")
        oops = stanza_id(seen, room)
        bob.send_message(room, None, id="retract-1", payload=(
            f"<retract xmlns='{RETRACT_1}' id='{oops}'/>",
            "<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>"))
        await alice.expect_message(frm=bob_nick, where=retracting(oops))

        # Someone else's message: refused, not passed on.
        alice.send_message(room, "mine", id="mine-1")
        seen = await bob.expect_message(frm=alice_nick, body="mine")
        mine = stanza_id(seen, room)
        bob.send_message(room, None, id="retract-2", payload=(f"<retract xmlns='{RETRACT_1}' id='{mine}'/>",))
        refused = await bob.expect_message(frm=room, type="error")
        assert refused.xml.find("{%s}error/{urn:ietf:params:xml:ns:xmpp-stanzas}forbidden" % CLIENT_NS) \
            is not None, describe(refused)

        # The service retracts over HTTP.
        status, raw = muc.http("POST", "/muc_moderate", json_body={"muc": room, "id": mine},
                               headers={"Authorization": MODERATE_AUTHORIZATION})
        assert (status, json.loads(raw)) == (200, {"retracted": mine, "muc": room, "already": False})
        announcement = await bob.expect_message(frm=room, where=retracting(mine))
        assert announcement.xml.find(f"{{{RETRACT_1}}}retract/{{{MODERATE_1}}}moderated").get("by") == room
        await settle(room, alice, bob)

        # The archive holds tombstones where the messages were.
        archived = dict(await archive(alice, room))
        for sid, original_id in ((spam, "spam-1"), (oops, "oops-1"), (mine, "mine-1")):
            tombstone = archived[sid]
            assert tombstone.get("id") == original_id, ET.tostring(tombstone)
            assert tombstone.find(f"{{{CLIENT_NS}}}body") is None, ET.tostring(tombstone)
            assert tombstone.find(f"{{{RETRACT_1}}}retracted") is not None, ET.tostring(tombstone)
        assert archived[spam].find(f"{{{MODERATE_0}}}moderated").get("by") == alice_nick
        assert archived[oops].find(f"{{{RETRACT_1}}}retracted").get("id") == "retract-1"
        assert any(m.get("id") == "retract-1" for m in archived.values())  # the retraction is kept

    scenario(body, "alice", "bob")
