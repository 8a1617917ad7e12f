"""Hats (XEP-0317) with real clients behind Prosody: a hat given to Bob
through the HTTP API or by a service admin's ad-hoc command shows up in
Alice's view of Bob's presence at once, goes away the same way, and a
persistent room still has it after ``twistd muc`` is restarted.

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
from tests.integration.stanzas import describe, status_codes

COMMANDS_NS = "http://jabber.org/protocol/commands"
ADD_NODE = "http://prosody.im/protocol/hats#add"
REMOVE_NODE = "http://prosody.im/protocol/hats#remove"
HATS_AUTHORIZATION = "Bearer test-hats"
TEACHER = "http://example.org/hats/teacher"
USERS = ("alice", "bob", "admin")


@pytest.fixture
def service(own_service):
    """A ``twistd muc`` of this test alone, with the hats API on."""
    return own_service(http_muc_hats_authorization_header=HATS_AUTHORIZATION)


# ---- helpers -------------------------------------------------------------------


def command(node: str, **values: str) -> ET.Element:
    """An ad-hoc command executed at once with its form filled in."""
    element = ET.Element(f"{{{COMMANDS_NS}}}command", node=node, action="execute")
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
