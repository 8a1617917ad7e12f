"""Administering rooms with real clients: kicks, bans, members-only and
password-protected rooms, occupant limits, voice, configuration notices,
invitations, destruction and affiliation announcements (XEP-0045 §7-10).

One Prosody and one service for the module; every test has its own room.
Where XEP-0045 leaves a choice, Prosody's own MUC (``conference.localhost``)
is the reference: each test runs against our service and then against
Prosody's MUC on the same server, except the occupant limit, an option
Prosody 0.12 does not have.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from tests.integration.muc_scenarios import (
    DATA_FORMS_NS,
    MUC_OWNER_NS,
    PING_NS,
    admin_item,
    admin_items,
    body_of,
    bare,
    config_submission,
    create_room,
    drain,
    enter,
    muc_items,
    occupant,
    owner_query,
    quiet,
    room_jid,
    settle,
    status_code_list,
    summary,
    unclaimed_from,
)
from tests.integration.stanzas import (
    CLIENT_NS,
    MUC_USER_NS,
    describe,
    disco_features,
    error_condition,
    status_codes,
)
from tests.integration.xmpp_client import logged_in

MUC_REQUEST_FORM = "http://jabber.org/protocol/muc#request"
ROOMSECRET = "muc#roomconfig_roomsecret"
MAXUSERS = "muc#roomconfig_maxusers"
USERS = ("alice", "bob", "carol", "dave")


@pytest.fixture
def our_service(muc):
    """Our MUC domain only, for options Prosody 0.12 does not have."""
    return muc.jid


# ---- requests ---------------------------------------------------------------------


def admin_list(affiliation: str) -> ET.Element:
    return admin_item(affiliation=affiliation)


def destroy_to(venue: str, reason: str) -> ET.Element:
    query = ET.Element(f"{{{MUC_OWNER_NS}}}query")
    destroy = ET.SubElement(query, f"{{{MUC_OWNER_NS}}}destroy", jid=venue)
    ET.SubElement(destroy, f"{{{MUC_OWNER_NS}}}reason").text = reason
    return query


def muc_user(*children: ET.Element) -> ET.Element:
    x = ET.Element(f"{{{MUC_USER_NS}}}x")
    x.extend(children)
    return x


def invitation(to: str, reason: str) -> ET.Element:
    invite = ET.Element(f"{{{MUC_USER_NS}}}invite", to=to)
    ET.SubElement(invite, f"{{{MUC_USER_NS}}}reason").text = reason
    return muc_user(invite)


def declination(to: str, reason: str) -> ET.Element:
    decline = ET.Element(f"{{{MUC_USER_NS}}}decline", to=to)
    ET.SubElement(decline, f"{{{MUC_USER_NS}}}reason").text = reason
    return muc_user(decline)


def request_form(fields: dict[str, str], form_type: str = "submit") -> ET.Element:
    """A ``muc#request`` data form (a voice request, or a moderator's answer)."""
    form = ET.Element(f"{{{DATA_FORMS_NS}}}x", type=form_type)
    for var, value in {"FORM_TYPE": MUC_REQUEST_FORM, **fields}.items():
        field = ET.SubElement(form, f"{{{DATA_FORMS_NS}}}field", var=var)
        ET.SubElement(field, f"{{{DATA_FORMS_NS}}}value").text = value
    return form


# ---- reading ------------------------------------------------------------------------


def form_fields(form: ET.Element | None) -> dict[str, dict]:
    """``var`` -> ``{"type": …, "values": [...]}`` of a data form."""
    if form is None:
        return {}
    return {
        field.get("var"): {
            "type": field.get("type"),
            "values": [value.text or "" for value in field.iterfind(f"{{{DATA_FORMS_NS}}}value")],
        }
        for field in form.iter(f"{{{DATA_FORMS_NS}}}field")
        if field.get("var")
    }


def item_children(stanza) -> tuple[dict | None, str | None]:
    """The ``<actor/>`` attributes and ``<reason/>`` text of the first muc#user item."""
    item = stanza.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")
    if item is None:
        return None, None
    actor = item.find(f"{{{MUC_USER_NS}}}actor")
    return (dict(actor.attrib) if actor is not None else None,
            item.findtext(f"{{{MUC_USER_NS}}}reason"))


# ---- 1. kick --------------------------------------------------------------------------


def test_moderator_kicks_a_participant_with_actor_and_reason(prosody, scenario, service):
    """Bob is in the room from two clients: the kick removes both sessions."""
    room = room_jid(service, "admin-kick")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob, carol):
        async with logged_in(prosody, "bob", resource="second") as bob2:
            await create_room(alice, room, "Alice")
            await enter(bob, room, "Bob")
            bob2.join(bob_nick)
            await bob2.expect_self_presence(bob_nick, None)
            await enter(carol, room, "Carol")
            await drain(room, alice, bob, bob2, carol)
            # One item per session (in no particular order: Prosody's differs).
            bob_sessions = sorted(session.jid for session in (bob, bob2))

            def items_of(presence):
                return sorted(muc_items(presence), key=lambda item: item.get("jid", ""))

            expected_items = [{"affiliation": "none", "role": "none", "jid": jid} for jid in bob_sessions]

            # A participant may not kick.
            refused = await carol.request_error(room, admin_item(nick="Bob", role="none"), type="set")
            assert error_condition(refused) == "not-allowed", describe(refused)
            await quiet(room, alice, bob, bob2, carol)

            done = await alice.request(
                room, admin_item(nick="Bob", role="none", reason="Flooding"), type="set")
            assert (done.xml.get("type"), done.xml.get("from")) == ("result", room), describe(done)

            for session in (bob, bob2):
                kicked = await session.expect_presence(frm=bob_nick, type="unavailable")
                assert kicked.xml.get("to") == session.jid, describe(kicked)
                assert status_code_list(kicked) == [307, 110], describe(kicked)
                assert items_of(kicked) == expected_items, describe(kicked)
                assert item_children(kicked) == ({"nick": "Alice"}, "Flooding"), describe(kicked)

            # Carol, a participant of a semi-anonymous room: no real JIDs.
            seen = await carol.expect_presence(frm=bob_nick, type="unavailable")
            assert status_code_list(seen) == [307], describe(seen)
            assert muc_items(seen) == [{"affiliation": "none", "role": "none"}], describe(seen)
            assert item_children(seen) == ({"nick": "Alice"}, "Flooding"), describe(seen)

            # Alice, a moderator, sees Bob's JIDs and her own as the actor's.
            told = await alice.expect_presence(frm=bob_nick, type="unavailable")
            assert status_code_list(told) == [307], describe(told)
            assert items_of(told) == expected_items, describe(told)
            assert item_children(told) == ({"nick": "Alice", "jid": alice.jid}, "Flooding"), describe(told)
            await quiet(room, alice, bob, bob2, carol)

            # Bob is out: what the room says no longer reaches him.
            alice.send_message(room, "he is gone")
            await carol.expect_message(frm=occupant(room, "Alice"), body="he is gone")
            await settle(room, bob, bob2)
            for session in (bob, bob2):
                assert session.unclaimed(lambda s: body_of(s) == "he is gone") == []
                refused = await session.request_error(bob_nick, f"<ping xmlns='{PING_NS}'/>")
                assert error_condition(refused) == "not-acceptable", describe(refused)

    scenario(body, "alice", "bob", "carol")


# ---- 2. ban ------------------------------------------------------------------------------


def test_owner_bans_by_bare_jid_and_the_ban_list_shows_it(scenario, service):
    room = room_jid(service, "admin-ban")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await drain(room, alice, bob, carol)

        done = await alice.request(
            room, admin_item(jid=bob.bare_jid, affiliation="outcast", reason="Trolling"), type="set")
        assert done.xml.get("type") == "result", describe(done)

        banned = await bob.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(banned) == [301, 110], describe(banned)
        assert muc_items(banned) == [
            {"affiliation": "outcast", "role": "none", "jid": bob.jid}], describe(banned)
        assert item_children(banned) == ({"nick": "Alice"}, "Trolling"), describe(banned)
        seen = await carol.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(seen) == [301], describe(seen)
        assert muc_items(seen) == [{"affiliation": "outcast", "role": "none"}], describe(seen)
        told = await alice.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(told) == [301], describe(told)
        assert muc_items(told) == [{"affiliation": "outcast", "role": "none", "jid": bob.jid}], describe(told)
        await quiet(room, alice, bob, carol)

        # Coming back, under any nick, is refused.
        for nick in ("Bob", "Robert"):
            bob.join(occupant(room, nick))
            refused = await bob.expect_presence(frm=occupant(room, nick), type="error")
            assert error_condition(refused) == "forbidden", describe(refused)
        await quiet(room, alice, carol)

        outcasts = await alice.request(room, admin_list("outcast"))
        assert admin_items(outcasts) == [{"affiliation": "outcast", "jid": bob.bare_jid}], describe(outcasts)
        # Only admins and owners may read it.
        refused = await carol.request_error(room, admin_list("outcast"))
        assert error_condition(refused) == "forbidden", describe(refused)

        # Lifting the ban lets him in again.
        await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="none"), type="set")
        assert admin_items(await alice.request(room, admin_list("outcast"))) == []
        await enter(bob, room, "Bob")

    scenario(body, "alice", "bob", "carol")


# ---- 3. members-only ---------------------------------------------------------------------


def test_members_only_removes_non_members_and_admits_members(scenario, service, prosody):
    room = room_jid(service, "admin-members")
    bob_nick, carol_nick = occupant(room, "Bob"), occupant(room, "Carol")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await alice.request(room, admin_item(jid=carol.bare_jid, affiliation="member"), type="set")
        for client in (alice, bob, carol):
            update = await client.expect_presence(
                frm=carol_nick, type=None, where=lambda s: muc_items(s)[0]["affiliation"] == "member")
            assert muc_items(update)[0]["role"] == "participant", describe(update)
        await drain(room, alice, bob, carol)

        await alice.request(room, config_submission({"muc#roomconfig_membersonly": "1"}), type="set")
        removed = await bob.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(removed) == [322, 110], describe(removed)
        assert muc_items(removed) == [
            {"affiliation": "none", "role": "none", "jid": bob.jid}], describe(removed)
        for client in (alice, carol):
            notice = await client.expect_message(frm=room, type="groupchat", where=status_codes)
            assert status_code_list(notice) == [104], describe(notice)
        await settle(room, alice, carol)
        # The remaining occupants: Prosody 0.12 sends them nothing (Bob
        # stays in their lists); we send Bob's departure without the 322,
        # which poezio would take for its own removal (README).
        for client in (alice, carol):
            told = client.unclaimed(lambda s: s.xml.get("from") == bob_nick)
            if service == prosody.reference_muc:
                assert told == [], summary(told)
                continue
            assert len(told) == 1, summary(told)
            [presence] = told
            assert presence.xml.get("type") == "unavailable", describe(presence)
            assert status_code_list(presence) == [], describe(presence)
            assert [{k: v for k, v in item.items() if k != "jid"} for item in muc_items(presence)] == [
                {"affiliation": "none", "role": "none"}], describe(presence)
        await drain(room, alice, carol)
        assert "muc_membersonly" in disco_features(await alice.disco_info(room))

        bob.join(bob_nick)
        refused = await bob.expect_presence(frm=bob_nick, type="error")
        assert error_condition(refused) == "registration-required", describe(refused)
        await quiet(room, alice, carol)

        # Membership granted while he is away: the moderators are told.
        await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="member"), type="set")
        announced = await alice.expect_message(frm=room, where=lambda s: muc_items(s))
        assert muc_items(announced) == [{"affiliation": "member", "jid": bob.bare_jid}], describe(announced)
        mine = await enter(bob, room, "Bob")
        assert muc_items(mine) == [
            {"affiliation": "member", "role": "participant", "jid": bob.jid}], describe(mine)
        await drain(room, alice, bob, carol)

        # Revoked: out again, with 321.
        await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="none"), type="set")
        gone = await bob.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(gone) == [321, 110], describe(gone)
        assert muc_items(gone) == [{"affiliation": "none", "role": "none", "jid": bob.jid}], describe(gone)
        for client in (alice, carol):
            told = await client.expect_presence(frm=bob_nick, type="unavailable")
            assert status_code_list(told) == [321], describe(told)
        await quiet(room, alice, bob, carol)
        members = await alice.request(room, admin_list("member"))
        assert admin_items(members) == [{"affiliation": "member", "jid": carol.bare_jid}], describe(members)

    scenario(body, "alice", "bob", "carol")


# ---- 4. password ---------------------------------------------------------------------------


def test_password_protected_room_wants_the_right_password(scenario, service):
    room = room_jid(service, "admin-secret")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        form = (await alice.request(room, owner_query())).xml.find(
            f"{{{MUC_OWNER_NS}}}query/{{{DATA_FORMS_NS}}}x")
        fields = form_fields(form)
        assert fields.get(ROOMSECRET, {}).get("type") == "text-private", describe(form)
        submission = {ROOMSECRET: "open sesame"}
        if "muc#roomconfig_passwordprotectedroom" in fields:
            submission["muc#roomconfig_passwordprotectedroom"] = "1"
        await alice.request(room, config_submission(submission), type="set")
        notice = await alice.expect_message(frm=room, type="groupchat")
        assert status_code_list(notice) == [104], describe(notice)
        features = disco_features(await bob.disco_info(room))
        assert "muc_passwordprotected" in features and "muc_unsecured" not in features

        for attempt in (None, "open says me"):
            bob.join(bob_nick, password=attempt)
            refused = await bob.expect_presence(frm=bob_nick, type="error")
            assert error_condition(refused) == "not-authorized", describe(refused)
            assert refused.xml.find(f"{{{CLIENT_NS}}}error").get("type") == "auth", describe(refused)
        await quiet(room, alice)

        bob.join(bob_nick, password="open sesame")
        mine = await bob.expect_self_presence(bob_nick, None)
        assert muc_items(mine) == [{"affiliation": "none", "role": "participant", "jid": bob.jid}]
        await alice.expect_presence(frm=bob_nick, type=None)

    scenario(body, "alice", "bob")


# ---- 5. occupant limit -------------------------------------------------------------------------


def test_a_full_room_refuses_newcomers_but_not_its_owner(scenario, our_service):
    room = room_jid(our_service, "admin-full")
    alice_nick, dave_nick = occupant(room, "Alice"), occupant(room, "Dave")

    async def body(alice, bob, carol, dave):
        await create_room(alice, room, "Alice")
        form = (await alice.request(room, owner_query())).xml.find(
            f"{{{MUC_OWNER_NS}}}query/{{{DATA_FORMS_NS}}}x")
        assert MAXUSERS in form_fields(form), describe(form)
        await alice.request(room, config_submission({MAXUSERS: "2"}), type="set")
        await enter(bob, room, "Bob")

        # Full (2 of 2); the owner steps out and Carol takes the place.
        alice.leave(alice_nick)
        await alice.expect_self_presence(alice_nick, "unavailable")
        await enter(carol, room, "Carol")

        dave.join(dave_nick)
        refused = await dave.expect_presence(frm=dave_nick, type="error")
        assert error_condition(refused) == "service-unavailable", describe(refused)
        await quiet(room, dave)

        # The owner is let in beyond the limit.
        mine = await enter(alice, room, "Alice")
        assert muc_items(mine) == [{"affiliation": "owner", "role": "moderator", "jid": alice.jid}]
        info = await dave.disco_info(room)
        occupants = {
            field.get("var"): field.findtext(f"{{{DATA_FORMS_NS}}}value")
            for field in info.xml.iter(f"{{{DATA_FORMS_NS}}}field")
        }.get("muc#roominfo_occupants")
        assert occupants == "3", describe(info)

    scenario(body, "alice", "bob", "carol", "dave")


# ---- 6. moderated room and voice ----------------------------------------------------------------


def test_visitors_need_voice_and_may_ask_moderators_for_it(scenario, service):
    room = room_jid(service, "admin-voice")
    bob_nick, carol_nick = occupant(room, "Bob"), occupant(room, "Carol")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await alice.request(room, config_submission({"muc#roomconfig_moderatedroom": "1"}), type="set")
        mine = await enter(bob, room, "Bob")
        assert muc_items(mine)[0]["role"] == "visitor", describe(mine)
        await enter(carol, room, "Carol")
        await drain(room, alice, bob, carol)

        bob.send_message(room, "can anyone hear me?", id="mute-1")
        refused = await bob.expect_message(frm=room, type="error")
        assert error_condition(refused) == "forbidden", describe(refused)
        assert refused.xml.get("id") == "mute-1", describe(refused)
        await quiet(room, alice, bob, carol)
        for client in (alice, carol):
            assert client.unclaimed(lambda s: body_of(s) == "can anyone hear me?") == []

        # The moderator gives Bob a voice.
        await alice.request(room, admin_item(nick="Bob", role="participant", reason="Go ahead"), type="set")
        for client in (alice, bob, carol):
            voiced = await client.expect_presence(frm=bob_nick, type=None)
            assert muc_items(voiced)[0]["role"] == "participant", describe(voiced)
            assert status_code_list(voiced) == ([110] if client is bob else []), describe(voiced)
        bob.send_message(room, "thank you")
        await carol.expect_message(frm=bob_nick, body="thank you")
        await drain(room, alice, bob, carol)

        # Carol asks for voice: only moderators receive the request.
        carol.send_message(room, type="normal", payload=request_form({"muc#role": "participant"}))
        request = await alice.expect_message(
            frm=room, where=lambda s: s.xml.find(f"{{{DATA_FORMS_NS}}}x") is not None)
        assert request.xml.get("type") in (None, "normal"), describe(request)
        form = request.xml.find(f"{{{DATA_FORMS_NS}}}x")
        assert form.get("type") == "form", describe(request)
        fields = form_fields(form)
        assert fields["FORM_TYPE"]["values"] == [MUC_REQUEST_FORM], describe(request)
        assert fields["muc#jid"]["values"] == [carol.jid], describe(request)
        assert fields["muc#roomnick"]["values"] == ["Carol"], describe(request)
        assert fields["muc#role"]["values"] == ["participant"], describe(request)
        assert "muc#request_allow" in fields, describe(request)
        await quiet(room, bob, carol)

        # Alice approves the request with the same form.
        alice.send_message(room, type="normal", payload=request_form({
            "muc#jid": carol.jid, "muc#roomnick": "Carol", "muc#role": "participant",
            "muc#request_allow": "1",
        }))
        for client in (alice, bob, carol):
            voiced = await client.expect_presence(frm=carol_nick, type=None)
            assert muc_items(voiced)[0]["role"] == "participant", describe(voiced)

    scenario(body, "alice", "bob", "carol")


# ---- 7. configuration notices -------------------------------------------------------------------


def test_configuration_changes_are_announced_with_104_and_172(scenario, service):
    room = room_jid(service, "admin-notice")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await drain(room, alice, bob)

        await alice.request(room, config_submission({"muc#roomconfig_roomname": "Notice Board"}), type="set")
        for client in (alice, bob):
            notice = await client.expect_message(frm=room, type="groupchat")
            assert status_code_list(notice) == [104], describe(notice)
            assert body_of(notice) is None, describe(notice)
        await quiet(room, alice, bob)

        # Nothing changed, nothing said.
        await alice.request(room, config_submission({"muc#roomconfig_roomname": "Notice Board"}), type="set")
        await quiet(room, alice, bob)

        # A privacy change is announced by its own code only.
        await alice.request(room, config_submission({"muc#roomconfig_whois": "anyone"}), type="set")
        for client in (alice, bob):
            notice = await client.expect_message(frm=room, type="groupchat")
            assert status_code_list(notice) == [172], describe(notice)
        await quiet(room, alice, bob)
        features = disco_features(await bob.disco_info(room))
        assert "muc_nonanonymous" in features and "muc_semianonymous" not in features

        await alice.request(room, config_submission({"muc#roomconfig_whois": "moderators"}), type="set")
        for client in (alice, bob):
            notice = await client.expect_message(frm=room, type="groupchat")
            assert status_code_list(notice) == [173], describe(notice)
        await quiet(room, alice, bob)

    scenario(body, "alice", "bob")


# ---- 8. invitations --------------------------------------------------------------------------------


def test_mediated_invite_shows_the_inviters_nick_and_the_password_and_a_decline_returns(scenario, service):
    room = room_jid(service, "admin-invite")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await alice.request(room, config_submission({ROOMSECRET: "pa55"}), type="set")
        bob.join(bob_nick, password="pa55")
        await bob.expect_self_presence(bob_nick, None)
        # Carol is online: a message to her bare JID reaches her session.
        carol.send_presence()
        await carol.sync(carol.xmpp.boundjid.domain)
        await drain(room, alice, bob)

        bob.send_message(room, type="normal", payload=invitation(carol.bare_jid, "Come and see"))
        invited = await carol.expect_message(frm=room)
        assert bare(invited.xml.get("to")) == carol.bare_jid, describe(invited)
        x = invited.xml.find(f"{{{MUC_USER_NS}}}x")
        assert x is not None, describe(invited)
        invite = x.find(f"{{{MUC_USER_NS}}}invite")
        # Semi-anonymous: Carol learns Bob's nick, not his address.
        assert invite is not None and invite.get("from") == bob_nick, describe(invited)
        assert invite.findtext(f"{{{MUC_USER_NS}}}reason") == "Come and see", describe(invited)
        assert x.findtext(f"{{{MUC_USER_NS}}}password") == "pa55", describe(invited)
        assert "bob@" not in describe(invited), describe(invited)
        conference = invited.xml.find("{jabber:x:conference}x")
        assert conference is not None and conference.get("jid") == room, describe(invited)
        await quiet(room, alice, bob, carol)

        carol.send_message(room, type="normal", payload=declination(bob_nick, "Busy"))
        declined = await bob.expect_message(
            frm=room, where=lambda s: s.xml.find(f"{{{MUC_USER_NS}}}x") is not None)
        decline = declined.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}decline")
        assert decline is not None, describe(declined)
        assert bare(decline.get("from")) == carol.bare_jid, describe(declined)
        assert decline.findtext(f"{{{MUC_USER_NS}}}reason") == "Busy", describe(declined)
        await quiet(room, alice, bob, carol)

    scenario(body, "alice", "bob", "carol")


# ---- 9. destruction -----------------------------------------------------------------------------------


def test_destroy_names_the_alternate_venue_and_the_reason(scenario, service):
    room = room_jid(service, "admin-destroy")
    venue = room_jid(service, "admin-destroy-new")
    nicks = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await drain(room, alice, bob, carol)

        await alice.request(room, destroy_to(venue, "We moved"), type="set")
        for client in (alice, bob, carol):
            me = occupant(room, nicks[client.bare_jid.split("@")[0]])
            gone = await client.expect_presence(frm=me, type="unavailable")
            destroy = gone.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}destroy")
            assert destroy is not None and destroy.get("jid") == venue, describe(gone)
            assert destroy.findtext(f"{{{MUC_USER_NS}}}reason") == "We moved", describe(gone)
            assert status_code_list(gone) == [110], describe(gone)
            assert muc_items(gone)[0]["role"] == "none", describe(gone)
        for client in (alice, bob, carol):
            await client.sync(service)
            assert unclaimed_from(client, room) == [], summary(unclaimed_from(client, room))

    scenario(body, "alice", "bob", "carol")


# ---- 10. affiliation of someone absent -------------------------------------------------------------------


def test_affiliation_change_of_an_absent_user_is_announced_to_moderators(scenario, service):
    room = room_jid(service, "admin-absent")
    dave_jid = "dave@localhost"

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await drain(room, alice, bob)

        await alice.request(
            room, admin_item(jid=dave_jid, affiliation="member", reason="Welcome"), type="set")
        announced = await alice.expect_message(frm=room)
        assert announced.xml.get("type") is None, describe(announced)
        assert muc_items(announced) == [{"affiliation": "member", "jid": dave_jid}], describe(announced)
        assert status_code_list(announced) == [], describe(announced)
        assert item_children(announced) == (None, "Welcome"), describe(announced)
        # Bob, a participant of a semi-anonymous room, is not told.
        await quiet(room, alice, bob)

        await alice.request(room, admin_item(jid=dave_jid, affiliation="outcast"), type="set")
        announced = await alice.expect_message(frm=room)
        assert muc_items(announced) == [{"affiliation": "outcast", "jid": dave_jid}], describe(announced)
        assert status_code_list(announced) == [301], describe(announced)
        await quiet(room, alice, bob)

        # In a non-anonymous room everyone is told.
        await alice.request(room, config_submission({"muc#roomconfig_whois": "anyone"}), type="set")
        for client in (alice, bob):
            await client.expect_message(frm=room, type="groupchat", where=lambda s: 172 in status_codes(s))
        await alice.request(room, admin_item(jid=dave_jid, affiliation="none"), type="set")
        for client in (alice, bob):
            announced = await client.expect_message(frm=room)
            assert muc_items(announced) == [{"affiliation": "none", "jid": dave_jid}], describe(announced)
        await quiet(room, alice, bob)

    scenario(body, "alice", "bob")
