"""Hats (XEP-0317) with real clients behind Prosody: a hat given to Bob
through the HTTP API or by a service admin's ad-hoc command shows up in
Alice's view of Bob's presence at once, goes away the same way, and a
persistent room still has it after ``twistd muc`` is restarted.  The room's
own v0.3 commands: the owner defines a hat with a hue and gives it to Bob,
Carol sees it with its hue, and the HTTP API lists the same hat.

Each test runs its own service (own storage file) beside the module's
Prosody, with the hats API configured; ``admin@localhost`` is a service
admin in the harness's config.
"""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree as ET

import pytest

from tests.integration.muc_scenarios import (
    DATA_FORMS_NS,
    admin_item,
    config_submission,
    create_room,
    enter,
    hats_api,
    hats_of,
    occupant,
    settle,
)
from tests.integration.stanzas import describe, error_condition, status_codes

COMMANDS_NS = "http://jabber.org/protocol/commands"
ADD_NODE = "http://prosody.im/protocol/hats#add"
REMOVE_NODE = "http://prosody.im/protocol/hats#remove"
HATS_AUTHORIZATION = "Bearer test-hats"
TEACHER = "http://example.org/hats/teacher"
USERS = ("alice", "bob", "admin", "carol")
HATS_NS = "urn:xmpp:hats:0"
DISCO_ITEMS_NS = "http://jabber.org/protocol/disco#items"
V03 = "urn:xmpp:hats:commands:"


@pytest.fixture
def service(own_service):
    """A ``twistd muc`` of this test alone, with the hats API on."""
    return own_service(http_muc_hats_authorization_header=HATS_AUTHORIZATION)


# ---- helpers -------------------------------------------------------------------


def command(node: str, *, action: str = "execute", sessionid: str | None = None,
            **values: str) -> ET.Element:
    """An ad-hoc command executed at once with its form filled in."""
    element = ET.Element(f"{{{COMMANDS_NS}}}command", node=node, action=action)
    if sessionid is not None:
        element.set("sessionid", sessionid)
    form = ET.SubElement(element, f"{{{DATA_FORMS_NS}}}x", type="submit")
    for var, value in values.items():
        field = ET.SubElement(form, f"{{{DATA_FORMS_NS}}}field", var=var)
        ET.SubElement(field, f"{{{DATA_FORMS_NS}}}value").text = value
    return element


async def note_of(client, to: str, element: ET.Element) -> tuple[str | None, str | None]:
    reply = await client.request(to, element, type="set")
    result = reply.xml.find(f"{{{COMMANDS_NS}}}command")
    assert result is not None and result.get("status") == "completed", describe(reply)
    note = result.find(f"{{{COMMANDS_NS}}}note")
    return note.get("type"), note.text


async def room_with_member(alice, bob, room: str) -> None:
    """Alice's persistent room, Bob a member in it; what they were sent is dropped."""
    await create_room(alice, room, "Alice")
    await alice.request(room, config_submission({"muc#roomconfig_persistentroom": "1"}), type="set")
    await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="member"), type="set")
    await enter(bob, room, "Bob")
    await alice.expect_presence(frm=occupant(room, "Bob"), type=None)
    await settle(room, alice, bob)
    alice.forget_unclaimed()
    bob.forget_unclaimed()


async def bobs_presence(alice, room: str):
    """The next presence of Bob that Alice sees: a re-broadcast, no status codes."""
    presence = await alice.expect_presence(frm=occupant(room, "Bob"), type=None)
    assert status_codes(presence) == set(), describe(presence)
    return presence


# ---- the tests ---------------------------------------------------------------------


def test_a_hat_given_over_http_is_seen_by_the_other_occupant(scenario, service):
    room = f"hats-http@{service.jid}"

    async def body(alice, bob):
        await room_with_member(alice, bob, room)

        code, answer = await hats_api(service, "POST", "/muc_hats/add", {
            "user": bob.bare_jid, "muc": room, "hat": TEACHER,
            "attachment": {"active": True, "title": "Teacher"}})
        assert (code, answer) == (200, {"hats": {TEACHER: {"active": True, "required": False,
                                                           "title": "Teacher"}}})
        seen = await bobs_presence(alice, room)
        assert hats_of(seen) == [(TEACHER, "Teacher")], describe(seen)
        mine = await bob.expect_self_presence(occupant(room, "Bob"), None)
        assert hats_of(mine) == [(TEACHER, "Teacher")], describe(mine)

        code, answer = await hats_api(service, "POST", "/muc_hats/remove",
                                      {"user": bob.bare_jid, "muc": room, "hat": TEACHER})
        assert (code, answer) == (200, {"hats": {}})
        seen = await bobs_presence(alice, room)
        assert hats_of(seen) is None, describe(seen)

        code, _ = await asyncio.to_thread(service.http, "GET", f"/muc_hats?user={bob.bare_jid}&muc={room}",
                                          headers={"Authorization": "Bearer wrong"})
        assert code == 401

    scenario(body, "alice", "bob")


def test_an_admins_ad_hoc_command_gives_and_takes_a_hat(scenario, service):
    room = f"hats-adhoc@{service.jid}"

    async def body(alice, bob, admin):
        await room_with_member(alice, bob, room)

        note = await note_of(admin, service.jid, command(ADD_NODE, user=bob.bare_jid, room=room,
                                                         title="Teacher", uri=TEACHER))
        assert note == ("info", "The hat has been added successfully")
        seen = await bobs_presence(alice, room)
        assert hats_of(seen) == [(TEACHER, "Teacher")], describe(seen)

        note = await note_of(admin, service.jid, command(REMOVE_NODE, user=bob.bare_jid, room=room,
                                                         uri=TEACHER))
        assert note == ("info", "The hat has been removed successfully")
        seen = await bobs_presence(alice, room)
        assert hats_of(seen) is None, describe(seen)

        note = await note_of(admin, service.jid, command(ADD_NODE, user=alice.bare_jid, room=room,
                                                         uri="not a uri"))
        assert note[0] == "error", note

    scenario(body, "alice", "bob", "admin")


def test_hats_of_a_persistent_room_survive_a_restart(scenario, service):
    room = f"hats-kept@{service.jid}"

    async def body(alice, bob):
        await room_with_member(alice, bob, room)
        code, _ = await hats_api(service, "PUT", f"/muc_hats?user={bob.bare_jid}&muc={room}",
                                 {"hats": {TEACHER: {"active": True, "required": True, "title": "Teacher"}}})
        assert code == 200
        await bobs_presence(alice, room)

        await asyncio.to_thread(service.stop)
        await asyncio.to_thread(service.start)

        assert await hats_api(service, "GET", f"/muc_hats?user={bob.bare_jid}&muc={room}") == (
            200, {"hats": {TEACHER: {"active": True, "required": True, "title": "Teacher"}}})
        alice.forget_unclaimed()
        await enter(alice, room, "Alice")
        await enter(bob, room, "Bob")
        seen = await alice.expect_presence(frm=occupant(room, "Bob"), type=None)
        assert hats_of(seen) == [(TEACHER, "Teacher")], describe(seen)

    scenario(body, "alice", "bob")


def hats_with_hue(stanza) -> list[tuple[str, str | None, str | None]] | None:
    element = stanza.xml.find(f"{{{HATS_NS}}}hats")
    if element is None:
        return None
    return [(hat.get("uri"), hat.get("title"), hat.get("hue"))
            for hat in element.iterfind(f"{{{HATS_NS}}}hat")]


def test_an_owner_defines_and_assigns_a_hat_with_the_rooms_commands(scenario, service):
    room = f"hats-v03@{service.jid}"

    async def body(alice, bob, carol):
        await room_with_member(alice, bob, room)
        await enter(carol, room, "Carol")
        await settle(room, alice, bob, carol)
        for client in (alice, bob, carol):
            client.forget_unclaimed()

        listing = await alice.request(room, ET.Element(f"{{{DISCO_ITEMS_NS}}}query", node=COMMANDS_NS))
        nodes = [item.get("node") for item in listing.xml.iter(f"{{{DISCO_ITEMS_NS}}}item")]
        assert {V03 + name for name in ("create", "destroy", "list", "assign", "unassign")} <= set(nodes)

        # A client's two steps: execute, then complete the form in its session.
        reply = await alice.request(room, ET.Element(f"{{{COMMANDS_NS}}}command",
                                                     node=V03 + "create", action="execute"), type="set")
        started = reply.xml.find(f"{{{COMMANDS_NS}}}command")
        assert started.get("status") == "executing", describe(reply)
        note = await note_of(alice, room, command(V03 + "create", action="complete",
                                                  sessionid=started.get("sessionid"),
                                                  **{"hats#uri": TEACHER, "hats#title": "Teacher",
                                                     "hats#hue": "210"}))
        assert note == ("info", "The hat has been created")
        changed = await carol.expect_message(frm=room, type="groupchat")
        assert status_codes(changed) == {104}, describe(changed)

        note = await note_of(alice, room, command(V03 + "assign", **{"hats#jid": bob.bare_jid,
                                                                    "hats#uri": TEACHER}))
        assert note == ("info", "The hat has been assigned")
        seen = await carol.expect_presence(frm=occupant(room, "Bob"), type=None)
        assert hats_with_hue(seen) == [(TEACHER, "Teacher", "210")], describe(seen)
        mine = await bob.expect_self_presence(occupant(room, "Bob"), None)
        assert hats_with_hue(mine) == [(TEACHER, "Teacher", "210")], describe(mine)

        assert await hats_api(service, "GET", f"/muc_hats/definitions?muc={room}") == (
            200, {"hats": [{"uri": TEACHER, "title": "Teacher", "hue": 210.0}]})
        assert await hats_api(service, "GET", f"/muc_hats?user={bob.bare_jid}&muc={room}") == (
            200, {"hats": {TEACHER: {"active": True, "required": True}}})

        # A member may not; nothing changes.
        refused = await bob.request_error(room, command(V03 + "destroy", **{"hats#uri": TEACHER}),
                                          type="set")
        assert error_condition(refused) == "forbidden", describe(refused)

        # Destroyed over HTTP: off Bob at once, and gone from the room's list.
        assert await hats_api(service, "POST", "/muc_hats/definitions/destroy",
                              {"muc": room, "hat": TEACHER}) == (200, {"hats": []})
        seen = await carol.expect_presence(frm=occupant(room, "Bob"), type=None)
        assert hats_with_hue(seen) is None, describe(seen)
        reply = await alice.request(room, ET.Element(f"{{{COMMANDS_NS}}}command",
                                                     node=V03 + "list", action="execute"), type="set")
        listed = reply.xml.find(f"{{{COMMANDS_NS}}}command/{{{DATA_FORMS_NS}}}x")
        assert listed is not None and listed.find(f"{{{DATA_FORMS_NS}}}item") is None, describe(reply)

    scenario(body, "alice", "bob", "carol")


def test_room_hat_definitions_survive_a_restart(scenario, service):
    room = f"hats-defs-kept@{service.jid}"

    async def body(alice, bob):
        await room_with_member(alice, bob, room)
        assert (await hats_api(service, "POST", "/muc_hats/definitions/create",
                               {"muc": room, "hat": TEACHER, "title": "Teacher", "hue": 33.5}))[0] == 200
        note = await note_of(alice, room, command(V03 + "assign", **{"hats#jid": bob.bare_jid,
                                                                    "hat": TEACHER}))
        assert note == ("info", "The hat has been assigned")
        await bobs_presence(alice, room)

        await asyncio.to_thread(service.stop)
        await asyncio.to_thread(service.start)

        assert await hats_api(service, "GET", f"/muc_hats/definitions?muc={room}") == (
            200, {"hats": [{"uri": TEACHER, "title": "Teacher", "hue": 33.5}]})
        alice.forget_unclaimed()
        await enter(alice, room, "Alice")
        await enter(bob, room, "Bob")
        seen = await alice.expect_presence(frm=occupant(room, "Bob"), type=None)
        assert hats_with_hue(seen) == [(TEACHER, "Teacher", "33.5")], describe(seen)

    scenario(body, "alice", "bob")
