"""The HTTP room-admin API (``/muc_admin``) and the HTTP ban, seen by real
clients: the running ``twistd muc`` behind a real Prosody, slixmpp occupants
in its rooms, and for every operation what the HTTP client reads (rooms,
options, occupants, affiliations, the archive) is checked against what the
clients know over XMPP, and what it changes (creation, configuration,
affiliations, destruction, messages, invitations, bans) against what the
clients receive.

Administration over XMPP (kicks, bans, members-only, ... by an owner's
client) is ``test_muc_admin.py``; this module is about the HTTP side.
"""

from __future__ import annotations

import asyncio
import json
from xml.etree import ElementTree as ET

import pytest

from tests.integration.archive_scenarios import say
from tests.integration.muc_process import KICK_AUTHORIZATION
from tests.integration.muc_scenarios import (
    MUC_ADMIN_NS,
    admin_item,
    affiliation_list,
    body_of,
    config_submission,
    create_room,
    drain,
    enter,
    join_and_read,
    muc_items,
    occupant,
    owner_form,
    owner_query,
    quiet,
    room_name,
    settle,
    status_code_list,
    summary,
    unclaimed_from,
)
from tests.integration.stanzas import MUC_USER_NS, describe, error_condition, status_codes

USERS = ("alice", "bob", "carol")
ADMIN_AUTHORIZATION = "Bearer integration-room-admin"
DIRECT_INVITATION_NS = "jabber:x:conference"


@pytest.fixture(scope="module")
def muc_settings():
    """The room-admin API on, beside the kick every service has."""
    return {"http_muc_admin_authorization_header": ADMIN_AUTHORIZATION}


# ---- HTTP ----------------------------------------------------------------------


async def admin(muc, method: str, path: str, document=None, *,
                authorization: str = ADMIN_AUTHORIZATION) -> tuple[int, dict]:
    """One request to ``/muc_admin{path}``, off the event loop (urllib blocks)."""
    status, raw = await asyncio.to_thread(
        muc.http, method, f"/muc_admin{path}", json_body=document,
        headers={"Authorization": authorization})
    return status, json.loads(raw)


async def kick(muc, document) -> tuple[int, dict]:
    status, raw = await asyncio.to_thread(
        muc.http, "POST", "/muc_kick", json_body=document,
        headers={"Authorization": KICK_AUTHORIZATION})
    return status, json.loads(raw)


# ---- reading what clients get ------------------------------------------------------


def item_reason(stanza) -> str | None:
    return stanza.xml.findtext(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item/{{{MUC_USER_NS}}}reason")


async def admin_list_with_reasons(client, room: str, affiliation: str) -> list[tuple[str, str]]:
    """``(jid, reason)`` of each item of ``room``'s ``affiliation`` list, as
    the client reads it over ``muc#admin`` ('' without a reason)."""
    reply = await client.request(room, admin_item(affiliation=affiliation))
    return sorted((item.get("jid"), item.findtext(f"{{{MUC_ADMIN_NS}}}reason") or "")
                  for item in reply.xml.iter(f"{{{MUC_ADMIN_NS}}}item"))


def by_affiliation(answer: dict, affiliation: str) -> list[tuple[str, str]]:
    return sorted((entry["jid"], entry["reason"]) for entry in answer["affiliations"]
                  if entry["affiliation"] == affiliation)


def _flag(values):
    return values == ["1"] or values == ["true"]


def _text(values):
    return values[0] if values else ""


def _number(values):
    return int(values[0]) if values and values[0] else None


#: Owner-form fields and the option each is, with how to read the form's value.
FORM_OPTIONS = {
    "muc#roomconfig_roomname": ("name", _text),
    "muc#roomconfig_roomdesc": ("description", _text),
    "muc#roomconfig_lang": ("language", _text),
    "muc#roomconfig_persistentroom": ("persistent", _flag),
    "muc#roomconfig_publicroom": ("public", _flag),
    "muc#roomconfig_membersonly": ("members_only", _flag),
    "muc#roomconfig_allowinvites": ("allow_invites", _flag),
    "muc#roomconfig_moderatedroom": ("moderated", _flag),
    "muc#roomconfig_whois": ("whois", _text),
    "muc#roomconfig_changesubject": ("change_subject", _flag),
    "muc#roomconfig_historylength": ("history_length", _number),
    "muc#roomconfig_defaulthistorymessages": ("default_history_messages", _number),
    "muc#roomconfig_maxusers": ("max_users", _number),
    "muc#roomconfig_presencebroadcast": ("presence_broadcast", sorted),
    "muc#roomconfig_enablearchiving": ("archiving", _flag),
}


def unavailable(nick_jid: str):
    return lambda s: s.xml.get("from") == nick_jid and s.xml.get("type") == "unavailable"


async def gathered(room: str, alice, *others) -> None:
    """Alice's new room with ``others`` in it, each under its user's name
    (``bob@…``: Bob), and every presence of that read."""
    await create_room(alice, room, "Alice")
    for client in others:
        await enter(client, room, client.bare_jid.split("@")[0].capitalize())
    await drain(room, alice, *others)


# ---- reading -----------------------------------------------------------------------


def test_rooms_and_occupants_show_the_clients_in_a_room(muc, scenario):
    room = f"http-list@{muc.jid}"

    async def body(alice, bob):
        await gathered(room, alice, bob)

        status, answer = await admin(muc, "GET", "/rooms?max=1000")
        assert status == 200, answer
        [listed] = [entry for entry in answer["rooms"] if entry["jid"] == room]
        assert listed == {"jid": room, "name": "", "occupants": 2, "persistent": False,
                          "public": False, "locked": False}, answer
        # Paging by JID: the page after the room does not hold it.
        status, after = await admin(muc, "GET", f"/rooms?after={room}")
        assert status == 200 and room not in [r["jid"] for r in after["rooms"]], after

        # The room named by its local part.
        status, answer = await admin(muc, "GET", "/rooms/http-list/occupants")
        assert status == 200, answer
        assert answer == {"jid": room, "occupants": [
            {"nick": "Alice", "role": "moderator", "affiliation": "owner",
             "jid": alice.jid, "jids": [alice.jid]},
            {"nick": "Bob", "role": "participant", "affiliation": "none",
             "jid": bob.jid, "jids": [bob.jid]},
        ]}, answer

        # Bob leaves: the count and the occupants follow.
        bob.leave(occupant(room, "Bob"))
        await alice.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        status, answer = await admin(muc, "GET", f"/rooms/{room}")
        assert (status, answer["occupants"]) == (200, 1), answer
        status, answer = await admin(muc, "GET", f"/rooms/{room}/occupants")
        assert [o["nick"] for o in answer["occupants"]] == ["Alice"], answer

        status, answer = await admin(muc, "GET", "/rooms/http-list/occupants",
                                     authorization="Bearer wrong")
        assert (status, answer) == (401, {"error": "Authorization failed"})

    scenario(body, "alice", "bob")


def test_options_are_what_the_owner_configured_with_the_form(muc, scenario):
    room = f"http-options@{muc.jid}"

    async def body(alice):
        await create_room(alice, room, "Alice", instant=False)
        await alice.request(room, config_submission({
            "muc#roomconfig_roomname": "Tea room",
            "muc#roomconfig_roomdesc": "Where the kettle is",
            "muc#roomconfig_persistentroom": "1",
            "muc#roomconfig_moderatedroom": "1",
            "muc#roomconfig_whois": "anyone",
            "muc#roomconfig_changesubject": "1",
            "muc#roomconfig_historylength": "7",
            "muc#roomconfig_maxusers": "30",
            "muc#roomconfig_roomsecret": "s3cret-leaf",
        }), type="set")
        await drain(room, alice)
        form = owner_form(await alice.request(room, owner_query()))

        status, answer = await admin(muc, "GET", f"/rooms/{room}")
        assert status == 200, answer
        assert (answer["jid"], answer["locked"], answer["occupants"]) == (room, False, 1), answer
        options = dict(answer["options"])
        # ``archiving`` null follows the service's default (archiving on),
        # which is what the form shows.
        options["archiving"] = True if options["archiving"] is None else options["archiving"]
        seen = {field: reader(form[field]) for field, (_, reader) in FORM_OPTIONS.items()
                if field in form}
        assert {FORM_OPTIONS[field][0]: value for field, value in seen.items()} == {
            FORM_OPTIONS[field][0]: options[FORM_OPTIONS[field][0]] for field in seen}, (form, options)
        # And what was submitted is what both sides show.
        assert (options["name"], options["description"], options["whois"]) == (
            "Tea room", "Where the kettle is", "anyone"), options
        assert (options["persistent"], options["moderated"], options["history_length"],
                options["max_users"]) == (True, True, 7, 30), options
        assert options["password_protected"] is True and "password" not in options, options
        assert "s3cret-leaf" not in json.dumps(answer)

    scenario(body, "alice")


def test_affiliations_and_their_reasons_are_those_of_the_muc_admin_lists(muc, scenario):
    room = f"http-affiliations@{muc.jid}"

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        for jid, affiliation, reason in ((bob.bare_jid, "member", "A regular"),
                                         (carol.bare_jid, "outcast", "Spam"),
                                         (f"dave@{carol.bare_jid.split('@')[1]}", "admin", None)):
            await alice.request(room, admin_item(jid=jid, affiliation=affiliation, reason=reason),
                                type="set")
        await drain(room, alice)

        status, answer = await admin(muc, "GET", f"/rooms/{room}/affiliations")
        assert status == 200 and answer["jid"] == room, answer
        for affiliation in ("owner", "admin", "member", "outcast"):
            assert by_affiliation(answer, affiliation) == await admin_list_with_reasons(
                alice, room, affiliation), (affiliation, answer)
        assert by_affiliation(answer, "outcast") == [(carol.bare_jid, "Spam")], answer
        assert by_affiliation(answer, "member") == [(bob.bare_jid, "A regular")], answer
        assert by_affiliation(answer, "owner") == [(alice.bare_jid, "")], answer

    scenario(body, "alice", "bob", "carol")


def test_the_archive_read_over_http_holds_what_the_clients_said(muc, scenario):
    room = f"http-archive@{muc.jid}"

    async def body(alice, bob):
        await gathered(room, alice, bob)
        said = [("Alice", await say(alice, room, "Alice", "Good morning", bob)),
                ("Bob", await say(bob, room, "Bob", "Morning!", alice)),
                ("Alice", await say(alice, room, "Alice", "Tea?", bob))]

        status, answer = await admin(muc, "GET", f"/rooms/{room}/archive")
        assert status == 200, answer
        assert (answer["jid"], answer["complete"]) == (room, True), answer
        messages = answer["messages"]
        assert [(m["nick"], m["id"]) for m in messages] == said, answer
        assert [m["author"] for m in messages] == [alice.bare_jid, bob.bare_jid, alice.bare_jid]
        stanzas = [ET.fromstring(m["payload"]) for m in messages]
        assert [(s.get("from"), s.findtext("body")) for s in stanzas] == [
            (occupant(room, "Alice"), "Good morning"), (occupant(room, "Bob"), "Morning!"),
            (occupant(room, "Alice"), "Tea?")], messages
        assert not any(m["retracted"] for m in messages)

        # Paging with the ids the clients received.
        status, page = await admin(muc, "GET", f"/rooms/{room}/archive?max=1&after={said[0][1]}")
        assert status == 200 and [m["id"] for m in page["messages"]] == [said[1][1]], page
        assert page["complete"] is False, page
        status, page = await admin(muc, "GET", f"/rooms/{room}/archive?max=2&before={said[2][1]}")
        assert [m["id"] for m in page["messages"]] == [said[0][1], said[1][1]], page

    scenario(body, "alice", "bob")


# ---- changing ----------------------------------------------------------------------


def test_a_room_created_over_http_is_open_named_owned_and_members_only(muc, scenario):
    room = f"http-created@{muc.jid}"

    async def body(alice, bob):
        status, answer = await admin(muc, "POST", "/rooms", {
            "room": "http-created", "owner": alice.bare_jid,
            "options": {"name": "Provisioned", "members_only": True, "persistent": True}})
        assert status == 201, answer
        assert (answer["jid"], answer["locked"]) == (room, False), answer
        assert answer["options"]["members_only"] is True, answer
        status, again = await admin(muc, "POST", "/rooms", {"room": room, "owner": bob.bare_jid})
        assert (status, again) == (409, {"error": "The room exists already"})

        # Unlocked: Alice enters an existing room (no 201), as its owner.
        mine = await enter(alice, room, "Alice")
        assert 201 not in status_codes(mine), describe(mine)
        assert muc_items(mine)[0]["affiliation"] == "owner", describe(mine)
        assert await room_name(bob, room) == "Provisioned"

        # Members-only: Bob, not a member, is refused.
        bob.join(occupant(room, "Bob"))
        refused = await bob.expect_presence(frm=occupant(room, "Bob"), type="error")
        assert error_condition(refused) == "registration-required", describe(refused)
        await quiet(room, alice)
        assert [o["nick"] for o in (await admin(muc, "GET", f"/rooms/{room}/occupants"))[1][
            "occupants"]] == ["Alice"]

    scenario(body, "alice", "bob")


def test_a_config_change_is_announced_and_members_only_removes_non_members(muc, scenario):
    room = f"http-config@{muc.jid}"

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await alice.request(room, admin_item(jid=carol.bare_jid, affiliation="member"), type="set")
        await drain(room, alice, bob, carol)

        status, answer = await admin(muc, "POST", f"/rooms/{room}/config",
                                     {"options": {"name": "Renamed"}})
        assert status == 200 and answer["options"]["name"] == "Renamed", answer
        for client in (alice, bob, carol):
            notice = await client.expect_message(frm=room, type="groupchat", where=status_codes)
            assert status_code_list(notice) == [104], describe(notice)
            assert body_of(notice) is None, describe(notice)
        await quiet(room, alice, bob, carol)
        assert await room_name(bob, room) == "Renamed"

        status, answer = await admin(muc, "POST", f"/rooms/{room}/config",
                                     {"options": {"whois": "anyone"}})
        assert status == 200, answer
        for client in (alice, bob, carol):
            notice = await client.expect_message(frm=room, type="groupchat", where=status_codes)
            assert status_code_list(notice) == [172], describe(notice)
        await quiet(room, alice, bob, carol)

        # A refused change changes nothing and tells nobody.
        status, answer = await admin(muc, "POST", f"/rooms/{room}/config",
                                     {"options": {"members_only": True, "whois": "nobody"}})
        assert status == 400, answer
        await quiet(room, alice, bob, carol)

        status, answer = await admin(muc, "POST", f"/rooms/{room}/config",
                                     {"options": {"members_only": True}})
        assert status == 200 and answer["options"]["members_only"] is True, answer
        removed = await bob.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        assert status_code_list(removed) == [322, 110], describe(removed)
        for client in (alice, carol):
            notice = await client.expect_message(frm=room, type="groupchat", where=status_codes)
            assert status_code_list(notice) == [104], describe(notice)
            left = await client.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
            assert status_code_list(left) == [], describe(left)  # see the README
        await quiet(room, alice, carol)
        status, answer = await admin(muc, "GET", f"/rooms/{room}/occupants")
        assert [o["nick"] for o in answer["occupants"]] == ["Alice", "Carol"], answer

    scenario(body, "alice", "bob", "carol")


def test_an_affiliation_batch_bans_with_a_reason_and_is_all_or_nothing(muc, scenario):
    room = f"http-batch@{muc.jid}"

    async def body(alice, bob, carol):
        await gathered(room, alice, bob, carol)

        # One item the room refuses (no owner left): nothing of the batch happens.
        status, answer = await admin(muc, "POST", f"/rooms/{room}/affiliations", {"affiliations": [
            {"jid": bob.bare_jid, "affiliation": "outcast", "reason": "Spam"},
            {"jid": alice.bare_jid, "affiliation": "none"}]})
        assert (status, answer) == (409, {"error": "A room needs at least one owner"})
        await quiet(room, alice, bob, carol)
        assert await admin_list_with_reasons(alice, room, "outcast") == []

        status, answer = await admin(muc, "POST", f"/rooms/{room}/affiliations", {"affiliations": [
            {"jid": carol.bare_jid, "affiliation": "member"},
            {"jid": bob.bare_jid, "affiliation": "outcast", "reason": "Spam"}]})
        assert status == 200, answer
        assert by_affiliation(answer, "outcast") == [(bob.bare_jid, "Spam")], answer
        assert by_affiliation(answer, "member") == [(carol.bare_jid, "")], answer

        banned = await bob.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        assert status_code_list(banned) == [301, 110], describe(banned)
        assert item_reason(banned) == "Spam", describe(banned)
        assert muc_items(banned)[0]["affiliation"] == "outcast", describe(banned)
        for client in (alice, carol):
            seen = await client.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
            assert status_code_list(seen) == [301], describe(seen)
            member = await client.expect_presence(
                frm=occupant(room, "Carol"), type=None,
                where=lambda s: muc_items(s)[0]["affiliation"] == "member")
            assert muc_items(member)[0]["role"] == "participant", describe(member)
        await settle(room, alice, carol)
        assert await admin_list_with_reasons(alice, room, "outcast") == [(bob.bare_jid, "Spam")]
        assert [i["jid"] for i in await affiliation_list(alice, room, "member")] == [carol.bare_jid]

        bob.join(occupant(room, "Bob"))
        refused = await bob.expect_presence(frm=occupant(room, "Bob"), type="error")
        assert error_condition(refused) == "forbidden", describe(refused)

    scenario(body, "alice", "bob", "carol")


def test_destroy_tells_every_occupant_the_reason_and_the_new_room(muc, scenario):
    room = f"http-destroy@{muc.jid}"
    venue = f"http-destroy-new@{muc.jid}"

    async def body(alice, bob):
        await gathered(room, alice, bob)

        status, answer = await admin(muc, "POST", f"/rooms/{room}/destroy",
                                     {"reason": "We moved", "alternate_venue": venue})
        assert (status, answer) == (200, {"destroyed": room})
        for client, nick in ((alice, "Alice"), (bob, "Bob")):
            gone = await client.expect_presence(frm=occupant(room, nick), type="unavailable")
            destroy = gone.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}destroy")
            assert destroy is not None and destroy.get("jid") == venue, describe(gone)
            assert destroy.findtext(f"{{{MUC_USER_NS}}}reason") == "We moved", describe(gone)
            assert status_code_list(gone) == [110], describe(gone)
        for client in (alice, bob):
            await client.sync(muc.jid)
            assert unclaimed_from(client, room) == [], summary(unclaimed_from(client, room))
        status, answer = await admin(muc, "GET", f"/rooms/{room}")
        assert (status, answer) == (404, {"error": f"Room not found: {room}"})

    scenario(body, "alice", "bob")


def test_a_message_from_the_room_reaches_everyone_from_its_bare_jid(muc, scenario):
    room = f"http-message@{muc.jid}"

    async def body(alice, bob, carol):
        await gathered(room, alice, bob)

        status, answer = await admin(muc, "POST", f"/rooms/{room}/message",
                                     {"body": "The room closes at six"})
        assert (status, answer) == (200, {"jid": room, "sent_to": 2})
        for client in (alice, bob):
            told = await client.expect_message(frm=room, type="groupchat", body="The room closes at six")
            assert told.xml.get("from") == room, describe(told)
        await quiet(room, alice, bob)

        # Not kept in the history: a newcomer does not get it.
        _, history = await join_and_read(carol, room, "Carol")
        assert [body_of(m) for m in history if body_of(m)] == [], summary(history)

    scenario(body, "alice", "bob", "carol")


def test_direct_invitations_reach_the_invited_users(muc, scenario):
    room = f"http-invite@{muc.jid}"

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await drain(room, alice)
        for client in (bob, carol):  # online, as a client is: a bare JID's messages reach it
            client.send_presence()
            await client.expect_presence(frm=client.jid, type=None)

        status, answer = await admin(muc, "POST", f"/rooms/{room}/invitations", {
            "users": [bob.bare_jid, carol.bare_jid], "reason": "Tea at five", "password": "kettle"})
        assert (status, answer) == (200, {"jid": room, "invited": 2})
        for client in (bob, carol):
            invited = await client.expect_message(
                frm=room, where=lambda s: s.xml.find(f"{{{DIRECT_INVITATION_NS}}}x") is not None)
            x = invited.xml.find(f"{{{DIRECT_INVITATION_NS}}}x")
            assert (x.get("jid"), x.get("reason"), x.get("password")) == (
                room, "Tea at five", "kettle"), describe(invited)
        # The invitation lets Bob in, as anyone: no affiliation was given.
        await enter(bob, room, "Bob")
        assert await admin_list_with_reasons(alice, room, "member") == []

    scenario(body, "alice", "bob", "carol")


def test_an_http_ban_removes_the_user_and_keeps_them_out(muc, scenario):
    room = f"http-ban@{muc.jid}"

    async def body(alice, bob, carol):
        await gathered(room, alice, bob, carol)

        status, answer = await kick(muc, {"nickname": "Bob", "muc": room, "reason": "Spam",
                                          "ban": True})
        assert (status, answer) == (200, {"kicked": "Bob", "muc": room, "banned": True})
        banned = await bob.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        assert status_code_list(banned) == [301, 110], describe(banned)
        assert item_reason(banned) == "Spam", describe(banned)
        assert muc_items(banned)[0]["affiliation"] == "outcast", describe(banned)
        for client in (alice, carol):
            seen = await client.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
            assert status_code_list(seen) == [301], describe(seen)
            assert item_reason(seen) == "Spam", describe(seen)
        await quiet(room, alice, bob, carol)

        assert await admin_list_with_reasons(alice, room, "outcast") == [(bob.bare_jid, "Spam")]
        status, answer = await admin(muc, "GET", f"/rooms/{room}/affiliations")
        assert by_affiliation(answer, "outcast") == [(bob.bare_jid, "Spam")], answer

        for nick in ("Bob", "Robert"):
            bob.join(occupant(room, nick))
            refused = await bob.expect_presence(frm=occupant(room, nick), type="error")
            assert error_condition(refused) == "forbidden", describe(refused)
        await quiet(room, alice, carol)

    scenario(body, "alice", "bob", "carol")


def test_without_the_header_nothing_reaches_the_room(muc, scenario):
    room = f"http-refused@{muc.jid}"

    async def body(alice, bob):
        await gathered(room, alice, bob)
        for method, path, document in (
                ("POST", f"/rooms/{room}/message", {"body": "Hello"}),
                ("POST", f"/rooms/{room}/config", {"options": {"name": "Taken"}}),
                ("POST", f"/rooms/{room}/affiliations",
                 {"affiliations": [{"jid": bob.bare_jid, "affiliation": "outcast"}]}),
                ("POST", f"/rooms/{room}/invitations", {"users": [bob.bare_jid]}),
                ("POST", f"/rooms/{room}/destroy", {})):
            status, answer = await admin(muc, method, path, document, authorization=KICK_AUTHORIZATION)
            assert (status, answer) == (401, {"error": "Authorization failed"}), path
        await quiet(room, alice, bob)
        status, answer = await admin(muc, "GET", f"/rooms/{room}/affiliations")
        assert by_affiliation(answer, "outcast") == [], answer
        status, answer = await admin(muc, "GET", f"/rooms/{room}")
        assert answer["options"]["name"] == "", answer
        assert [o["nick"] for o in (await admin(muc, "GET", f"/rooms/{room}/occupants"))[1][
            "occupants"]] == ["Alice", "Bob"]

    scenario(body, "alice", "bob")
