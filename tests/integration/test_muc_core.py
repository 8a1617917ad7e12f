"""The core of XEP-0045 with real clients: users of the throwaway Prosody
create, join and use rooms on the service (``muc.localhost``) through it.

One Prosody and one service for the module; every test has its own room.
Rooms are semi-anonymous and temporary by default, as in Prosody.

Each test runs twice: against our service, then against Prosody's own MUC
(``conference.localhost``) on the same server, the reference behaviour; a
test that passes only there shows where the service differs.
"""

from __future__ import annotations

from tests.integration.muc_scenarios import (
    DATA_FORMS_NS,
    DISCO_ITEMS_NS,
    INSTANT_ROOM,
    MUC_OWNER_NS,
    PING_NS,
    ROOMCONFIG_FORM,
    ROOMINFO_FORM,
    VCARD_NS,
    VERSION_NS,
    assert_gone,
    body_of,
    config_submission,
    create_room,
    delay_of,
    destroy_request,
    enter,
    error_by,
    error_text,
    from_room,
    gone_uri,
    is_subject_message,
    muc_items,
    occupant,
    owner_query,
    room_jid,
    room_traffic,
    settle,
    status_code_list,
    subject_of,
    summary,
    unclaimed_from,
)
from tests.integration.stanzas import (
    CLIENT_NS,
    DISCO_INFO_NS,
    MUC_USER_NS,
    describe,
    disco_features,
    error_condition,
    muc_item,
    status_codes,
)

USERS = ("alice", "bob", "carol", "admin")


# ---- 1. creating a room ---------------------------------------------------------


def test_creator_gets_201_and_110_and_the_room_stays_locked_until_configured(scenario, service):
    room = room_jid(service, "core-create")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        alice.join(alice_nick)
        created = await alice.expect_presence(frm=alice_nick, type=None)
        assert status_code_list(created) == [201, 110], describe(created)
        assert muc_items(created) == [{"affiliation": "owner", "role": "moderator", "jid": alice.jid}]
        subject = await alice.expect_message(frm=room, type="groupchat")
        assert subject_of(subject) == "" and body_of(subject) is None, describe(subject)
        assert alice.received.index(created) < alice.received.index(subject)
        assert unclaimed_from(alice, room) == [], summary(unclaimed_from(alice, room))

        # Locked: nobody else gets in, and the refusal comes from the service.
        bob.join(bob_nick)
        refused = await bob.expect_presence(frm=bob_nick, type="error")
        assert error_condition(refused) == "item-not-found", describe(refused)
        assert error_by(refused) == service, describe(refused)
        await settle(room, alice)
        assert unclaimed_from(alice, room) == [], summary(unclaimed_from(alice, room))

        # The instant room: the owner accepts the default configuration.
        accepted = await alice.request(room, INSTANT_ROOM, type="set")
        assert (accepted.xml.get("type"), accepted.xml.get("from")) == ("result", room)

        bob.join(bob_nick)
        mine = await bob.expect_self_presence(bob_nick, None)
        assert muc_item(mine) == {"affiliation": "none", "role": "participant", "jid": bob.jid}
        assert 201 not in status_codes(mine), describe(mine)
        await alice.expect_presence(frm=bob_nick, type=None)

    scenario(body, "alice", "bob")


# ---- 2. joining ---------------------------------------------------------------------


def test_joiner_gets_occupants_then_itself_then_history_then_subject(scenario, service):
    room = room_jid(service, "core-join")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        alice.send_message(room, "before you came", id="early")
        await alice.expect_message(frm=alice_nick, body="before you came")

        await enter(bob, room, "Bob")
        traffic = room_traffic(bob, room)
        kinds = [(s.xml.tag.split("}")[1], s.xml.get("from")) for s in traffic]
        assert kinds == [
            ("presence", alice_nick),
            ("presence", bob_nick),
            ("message", alice_nick),
            ("message", room),
        ], summary(traffic)
        others, mine, history, subject = traffic

        # Semi-anonymous: a participant does not see the owner's real JID.
        assert others.xml.get("type") is None
        assert muc_items(others) == [{"affiliation": "owner", "role": "moderator"}], describe(others)
        assert status_codes(others) == set(), describe(others)
        assert status_code_list(mine) == [110], describe(mine)
        assert muc_items(mine) == [{"affiliation": "none", "role": "participant", "jid": bob.jid}]
        assert body_of(history) == "before you came" and delay_of(history) is not None, describe(history)
        assert is_subject_message(subject) and subject.xml.get("type") == "groupchat", describe(subject)

        # The owner is a moderator: she sees Bob's real JID, and no 110.
        told = await alice.expect_presence(frm=bob_nick, type=None)
        assert muc_items(told) == [{"affiliation": "none", "role": "participant", "jid": bob.jid}]
        assert status_codes(told) == set(), describe(told)
        await settle(room, alice)
        assert unclaimed_from(alice, room) == [], summary(unclaimed_from(alice, room))

    scenario(body, "alice", "bob")


# ---- 3. groupchat ----------------------------------------------------------------------


def test_groupchat_is_reflected_with_its_id_and_refused_to_outsiders(scenario, service):
    room = room_jid(service, "core-chat")
    alice_nick = occupant(room, "Alice")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        alice.send_message(room, "Hello & <welcome>", id="greeting-1")
        for client in (alice, bob):
            reflected = await client.expect_message(frm=alice_nick, body="Hello & <welcome>")
            assert reflected.xml.get("type") == "groupchat", describe(reflected)
            assert reflected.xml.get("id") == "greeting-1", describe(reflected)
            assert reflected.xml.get("to") == client.jid, describe(reflected)

        # Non-ASCII text and nicks survive the round trip.
        await enter(carol, room, "Zoë")
        carol.send_message(room, "naïve café ✓ 😀", id="utf-8")
        for client in (alice, bob, carol):
            reflected = await client.expect_message(frm=occupant(room, "Zoë"), body="naïve café ✓ 😀")
            assert reflected.xml.get("id") == "utf-8", describe(reflected)
        carol.leave(occupant(room, "Zoë"))
        await carol.expect_self_presence(occupant(room, "Zoë"), "unavailable")

        carol.send_message(room, "let me in", id="intrusion")
        refused = await carol.expect_message(frm=room, type="error")
        assert error_condition(refused) == "not-acceptable", describe(refused)
        assert refused.xml.get("id") == "intrusion"
        await settle(room, alice, bob)
        for client in (alice, bob):
            stray = client.unclaimed(lambda s: body_of(s) == "let me in")
            assert stray == [], summary(stray)

    scenario(body, "alice", "bob", "carol")


# ---- 4. history ----------------------------------------------------------------------


def test_history_is_replayed_with_delay_and_limited_by_maxstanzas(scenario, service):
    room = room_jid(service, "core-history")
    carol_nick = occupant(room, "Carol")
    lines = [("Alice", "one"), ("Bob", "two"), ("Alice", "three")]

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        speakers = {"Alice": alice, "Bob": bob}
        for nick, text in lines:
            speakers[nick].send_message(room, text)
            await alice.expect_message(frm=occupant(room, nick), body=text)

        await enter(carol, room, "Carol")
        history = [s for s in room_traffic(carol, room) if body_of(s) is not None]
        assert [(s.xml.get("from"), body_of(s)) for s in history] == [
            (occupant(room, nick), text) for nick, text in lines
        ], summary(history)
        for message in history:
            delay = delay_of(message)
            assert delay is not None and delay.get("from") == room, describe(message)
            assert (delay.get("stamp") or "").endswith("Z"), describe(message)
            assert message.xml.get("type") == "groupchat"

        carol.leave(carol_nick)
        await carol.expect_self_presence(carol_nick, "unavailable")
        carol.forget_unclaimed()
        before = len(carol.received)
        await enter(carol, room, "Carol", max_history=1)
        again = [s for s in carol.received[before:] if from_room(room)(s) and body_of(s) is not None]
        assert [body_of(s) for s in again] == ["three"], summary(again)
        assert delay_of(again[0]).get("from") == room

        carol.leave(carol_nick)
        await carol.expect_self_presence(carol_nick, "unavailable")
        before = len(carol.received)
        await enter(carol, room, "Carol", max_history=0)
        none = [s for s in carol.received[before:] if from_room(room)(s) and body_of(s) is not None]
        assert none == [], summary(none)

    scenario(body, "alice", "bob", "carol")


# ---- 5. private messages ----------------------------------------------------------------


def test_private_message_comes_from_the_senders_occupant_jid(scenario, service):
    room = room_jid(service, "core-private")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        bob.send_message(alice_nick, "psst", type="chat", id="pm-1")
        whispered = await alice.expect_message(frm=bob_nick, body="psst")
        assert (whispered.xml.get("type"), whispered.xml.get("id")) == ("chat", "pm-1"), describe(whispered)
        assert whispered.xml.find(f"{{{MUC_USER_NS}}}x") is not None, describe(whispered)
        assert "bob@" not in describe(whispered), describe(whispered)

        bob.send_message(occupant(room, "Nobody"), "hello?", type="chat", id="pm-2")
        refused = await bob.expect_message(frm=occupant(room, "Nobody"), type="error")
        assert error_condition(refused) == "item-not-found", describe(refused)
        assert refused.xml.get("id") == "pm-2"
        await settle(room, bob)
        assert bob.unclaimed(lambda s: body_of(s) == "psst") == []

    scenario(body, "alice", "bob")


# ---- 6. IQs to occupants ------------------------------------------------------------------


def test_iq_to_an_occupant_is_relayed_and_its_answer_routed_back(scenario, service):
    room = room_jid(service, "core-iq")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        # slixmpp answers version queries by itself: the answer must find Bob.
        answer = await bob.request(alice_nick, f"<query xmlns='{VERSION_NS}'/>")
        assert (answer.xml.get("type"), answer.xml.get("from")) == ("result", alice_nick), describe(answer)
        assert answer.xml.get("to") == bob.jid
        assert answer.xml.findtext(f"{{{VERSION_NS}}}query/{{{VERSION_NS}}}name"), describe(answer)

        relayed = await alice.expect_iq(frm=bob_nick, type="get")
        assert relayed.xml.get("to") == alice.jid, describe(relayed)
        assert relayed.xml.find(f"{{{VERSION_NS}}}query") is not None, describe(relayed)
        assert relayed.xml.get("id") != answer.xml.get("id"), describe(relayed)
        assert "bob@" not in describe(relayed), describe(relayed)

        # disco#info the same way (another of slixmpp's automatic answers).
        info = await bob.disco_info(alice_nick)
        assert info.xml.get("from") == alice_nick
        assert "jabber:iq:version" in disco_features(info), describe(info)

        # An error answer finds its way back too, as the client gave it.
        refused = await bob.request_error(alice_nick, "<query xmlns='urn:example:unknown'/>")
        assert refused.xml.get("from") == alice_nick, describe(refused)
        assert error_condition(refused) == "feature-not-implemented", describe(refused)  # slixmpp's
        assert error_text(refused) == "No handlers registered for this request.", describe(refused)
        # Nobody by that nick: the room answers.
        missing = await bob.request_error(occupant(room, "Nobody"), f"<query xmlns='{VERSION_NS}'/>")
        assert error_condition(missing) == "item-not-found", describe(missing)

        # XEP-0410: the room answers a self-ping while the sender is joined...
        pong = await bob.request(bob_nick, f"<ping xmlns='{PING_NS}'/>")
        assert (pong.xml.get("type"), pong.xml.get("from")) == ("result", bob_nick), describe(pong)
        # ... and refuses a non-occupant.
        refused = await carol.request_error(occupant(room, "Carol"), f"<ping xmlns='{PING_NS}'/>")
        assert error_condition(refused) == "not-acceptable", describe(refused)

        await settle(room, bob)
        pings = bob.unclaimed(lambda s: s.xml.find(f"{{{PING_NS}}}ping") is not None)
        assert pings == [], summary(pings)

    scenario(body, "alice", "bob", "carol")


def test_vcard_query_to_an_occupant_is_answered_by_its_account(scenario, service):
    """vCards belong to the account: the room sends the query to the
    occupant's bare JID, the user's server answers from there, and the
    answer still reaches the asker."""
    room = room_jid(service, "core-vcard")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        answer = await bob.request(alice_nick, f"<vCard xmlns='{VCARD_NS}'/>", timeout=3)
        assert (answer.xml.get("type"), answer.xml.get("from")) == ("result", alice_nick), describe(answer)
        assert answer.xml.get("to") == bob.jid, describe(answer)
        await settle(room, alice)
        relayed = alice.unclaimed(lambda s: s.xml.find(f"{{{VCARD_NS}}}vCard") is not None)
        assert relayed == [], f"the query went to the client, not the account:\n{summary(relayed)}"

    scenario(body, "alice", "bob")


# ---- 7. subject ---------------------------------------------------------------------------


def test_moderator_sets_the_subject_and_participants_may_not(scenario, service):
    room = room_jid(service, "core-subject")
    alice_nick = occupant(room, "Alice")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        alice.send_message(room, subject="Spring planning", id="subj-1")
        for client in (alice, bob):
            told = await client.expect_message(frm=alice_nick, type="groupchat", where=is_subject_message)
            assert subject_of(told) == "Spring planning", describe(told)

        bob.send_message(room, subject="Mine now", id="subj-2")
        refused = await bob.expect_message(frm=room, type="error")
        assert error_condition(refused) == "forbidden", describe(refused)
        await settle(room, alice, bob)
        for client in (alice, bob):
            stray = client.unclaimed(lambda s: subject_of(s) == "Mine now")
            assert stray == [], summary(stray)

        # A joiner gets the subject last, from whoever set it.
        await enter(carol, room, "Carol")
        last = room_traffic(carol, room)[-1]
        assert (last.xml.get("from"), subject_of(last)) == (alice_nick, "Spring planning"), describe(last)
        stamp = delay_of(last)
        assert stamp is not None and stamp.get("from") == room, describe(last)

    scenario(body, "alice", "bob", "carol")


# ---- 8. nick change -------------------------------------------------------------------------


def test_nick_change_is_303_then_the_new_nick(scenario, service):
    room = room_jid(service, "core-nick")
    alice_nick, bob_nick, robert = (occupant(room, n) for n in ("Alice", "Bob", "Robert"))

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await settle(room, alice, bob, carol)
        for client in (alice, bob, carol):
            client.forget_unclaimed()

        bob.send_presence(robert)
        jid_shown = {alice: bob.jid, bob: bob.jid, carol: None}  # Carol is a participant
        for client in (alice, bob, carol):
            went = await client.expect_presence(frm=bob_nick, type="unavailable")
            came = await client.expect_presence(frm=robert, type=None)
            assert client.received.index(went) < client.received.index(came)
            self_codes = [110] if client is bob else []
            assert status_code_list(went) == [303] + self_codes, describe(went)
            assert status_code_list(came) == self_codes, describe(came)
            expected = {"affiliation": "none", "role": "participant"}
            if jid_shown[client]:
                expected["jid"] = jid_shown[client]
            assert muc_items(went) == [{**expected, "nick": "Robert"}], describe(went)
            assert muc_items(came) == [expected], describe(came)

        # Robert may not take a nick in use.
        bob.send_presence(alice_nick)
        refused = await bob.expect_presence(frm=alice_nick, type="error")
        assert error_condition(refused) == "conflict", describe(refused)
        await settle(room, alice, bob, carol)
        for client in (alice, bob, carol):
            assert unclaimed_from(client, room) == [], summary(unclaimed_from(client, room))

        # He speaks under his new nick.
        bob.send_message(room, "call me Robert")
        await carol.expect_message(frm=robert, body="call me Robert")

    scenario(body, "alice", "bob", "carol")


# ---- 9. presence updates ----------------------------------------------------------------------


def test_show_and_status_changes_are_broadcast(scenario, service):
    room = room_jid(service, "core-status")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await alice.expect_presence(frm=bob_nick, type=None)

        bob.send_presence(bob_nick, show="away", status="Out to lunch")
        for client in (alice, bob):
            update = await client.expect_presence(frm=bob_nick, type=None)
            assert update.xml.findtext(f"{{{CLIENT_NS}}}show") == "away", describe(update)
            assert update.xml.findtext(f"{{{CLIENT_NS}}}status") == "Out to lunch", describe(update)
            assert muc_item(update)["role"] == "participant", describe(update)
            assert status_code_list(update) == ([110] if client is bob else []), describe(update)

    scenario(body, "alice", "bob")


# ---- 10. leaving --------------------------------------------------------------------------------


def test_leaving_is_broadcast_and_the_last_one_out_ends_a_temporary_room(scenario, service):
    room = room_jid(service, "core-leave")
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await alice.expect_presence(frm=bob_nick, type=None)

        bob.leave(bob_nick, status="Gone fishing")
        told = await alice.expect_presence(frm=bob_nick, type="unavailable")
        assert told.xml.findtext(f"{{{CLIENT_NS}}}status") == "Gone fishing", describe(told)
        assert muc_items(told) == [{"affiliation": "none", "role": "none", "jid": bob.jid}], describe(told)
        assert status_code_list(told) == [], describe(told)
        mine = await bob.expect_presence(frm=bob_nick, type="unavailable")
        assert status_code_list(mine) == [110], describe(mine)
        assert muc_item(mine)["role"] == "none", describe(mine)

        # Bob is out: the room no longer talks to him.
        alice.send_message(room, "anyone?")
        await alice.expect_message(frm=alice_nick, body="anyone?")
        await settle(room, bob)
        assert bob.unclaimed(lambda s: body_of(s) == "anyone?") == []

        alice.leave(alice_nick)
        await alice.expect_self_presence(alice_nick, "unavailable")
        await assert_gone(bob, room, "its last occupant")

        # The name is free again: joining creates a new, locked room.
        alice.join(alice_nick)
        again = await alice.expect_self_presence(alice_nick, None)
        assert status_code_list(again) == [201, 110], describe(again)

    scenario(body, "alice", "bob")


def test_a_client_that_disconnects_leaves_the_room(scenario, service):
    """The user's server tells the room when a client goes offline
    without leaving (it tracked the directed presence of the join)."""
    room = room_jid(service, "core-offline")
    bob_nick = occupant(room, "Bob")

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await alice.expect_presence(frm=bob_nick, type=None)

        await bob.logout()
        gone = await alice.expect_presence(frm=bob_nick, type="unavailable")
        assert muc_items(gone) == [{"affiliation": "none", "role": "none", "jid": bob.jid}], describe(gone)
        info = await alice.disco_info(room)
        fields = {
            field.get("var"): field.findtext(f"{{{DATA_FORMS_NS}}}value")
            for field in info.xml.iter(f"{{{DATA_FORMS_NS}}}field")
        }
        assert fields.get("muc#roominfo_occupants") == "1", describe(info)

    scenario(body, "alice", "bob")


# ---- 11. discovery -------------------------------------------------------------------------------


def test_public_rooms_are_listed_once_unlocked_and_describe_themselves(scenario, service):
    public = room_jid(service, "core-disco")
    hidden = room_jid(service, "core-disco-hidden")

    def listed(items):
        return {
            item.get("jid"): item.get("name")
            for item in items.xml.iter(f"{{{DISCO_ITEMS_NS}}}item")
        }

    async def body(alice, bob):
        await create_room(alice, public, "Alice", instant=False)
        items = await bob.request(service, f"<query xmlns='{DISCO_ITEMS_NS}'/>")
        assert public not in listed(items), describe(items)

        await alice.request(public, config_submission({
            "muc#roomconfig_roomname": "Core Disco", "muc#roomconfig_publicroom": "1",
        }), type="set")
        await create_room(alice, hidden, "Alice", instant=False)
        await alice.request(hidden, config_submission({"muc#roomconfig_publicroom": "0"}), type="set")
        items = await bob.request(service, f"<query xmlns='{DISCO_ITEMS_NS}'/>")
        rooms = listed(items)
        assert rooms.get(public) == "Core Disco", describe(items)
        assert hidden not in rooms, describe(items)

        info = await bob.disco_info(public)
        assert info.xml.get("from") == public
        identities = [i.attrib for i in info.xml.iter(f"{{{DISCO_INFO_NS}}}identity")]
        assert identities == [{"category": "conference", "type": "text", "name": "Core Disco"}], describe(info)
        features = disco_features(info)
        for feature in ("http://jabber.org/protocol/muc", "muc_semianonymous", "muc_temporary",
                        "muc_public", "muc_open", "muc_unmoderated", "muc_unsecured"):
            assert feature in features, f"{feature} missing:\n{describe(info)}"
        for opposite in ("muc_nonanonymous", "muc_persistent", "muc_hidden", "muc_membersonly",
                         "muc_moderated", "muc_passwordprotected"):
            assert opposite not in features, f"{opposite} advertised:\n{describe(info)}"
        form = info.xml.find(f"{{{DISCO_INFO_NS}}}query/{{{DATA_FORMS_NS}}}x")
        assert form is not None and form.get("type") == "result", describe(info)
        fields = {
            field.get("var"): field.findtext(f"{{{DATA_FORMS_NS}}}value")
            for field in form.iter(f"{{{DATA_FORMS_NS}}}field")
        }
        assert fields.get("FORM_TYPE") == ROOMINFO_FORM, describe(info)
        assert fields.get("muc#roominfo_occupants") == "1", describe(info)
        assert fields.get("muc#roomconfig_roomname") == "Core Disco", describe(info)

        hidden_features = disco_features(await bob.disco_info(hidden))
        assert "muc_hidden" in hidden_features and "muc_public" not in hidden_features

    scenario(body, "alice", "bob")


# ---- 12. configuration ------------------------------------------------------------------------------


def test_owner_configures_a_moderated_room_where_visitors_may_not_speak(scenario, service):
    room = room_jid(service, "core-config")
    carol_nick = occupant(room, "Carol")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")

        reply = await alice.request(room, owner_query())
        form = reply.xml.find(f"{{{MUC_OWNER_NS}}}query/{{{DATA_FORMS_NS}}}x")
        assert form is not None and form.get("type") == "form", describe(reply)
        fields = {
            field.get("var"): field.findtext(f"{{{DATA_FORMS_NS}}}value")
            for field in form.iter(f"{{{DATA_FORMS_NS}}}field")
        }
        assert fields.get("FORM_TYPE") == ROOMCONFIG_FORM, describe(reply)
        assert "muc#roomconfig_moderatedroom" in fields, describe(reply)
        assert fields["muc#roomconfig_moderatedroom"] in (None, "0", "false"), describe(reply)

        refused = await bob.request_error(room, owner_query())
        assert error_condition(refused) == "forbidden", describe(refused)

        done = await alice.request(room, config_submission({"muc#roomconfig_moderatedroom": "1"}), type="set")
        assert done.xml.get("type") == "result"
        for client in (alice, bob):
            notice = await client.expect_message(frm=room, type="groupchat", where=lambda s: status_codes(s))
            assert status_code_list(notice) == [104], describe(notice)
            assert body_of(notice) is None, describe(notice)

        assert "muc_moderated" in disco_features(await bob.disco_info(room))

        mine = await enter(carol, room, "Carol")
        assert muc_item(mine) == {"affiliation": "none", "role": "visitor", "jid": carol.jid}, describe(mine)
        carol.send_message(room, "may I?", id="visitor-1")
        refused = await carol.expect_message(frm=room, type="error")
        assert error_condition(refused) == "forbidden", describe(refused)

        # Bob was a participant before: he keeps his voice.
        bob.send_message(room, "I still may")
        await carol.expect_message(frm=occupant(room, "Bob"), body="I still may")
        await settle(room, alice, bob)
        for client in (alice, bob):
            assert client.unclaimed(lambda s: body_of(s) == "may I?") == []
        assert carol.unclaimed(lambda s: body_of(s) == "may I?") == []
        # Refused, but still in the room.
        await carol.request(carol_nick, f"<ping xmlns='{PING_NS}'/>")

    scenario(body, "alice", "bob", "carol")


# ---- 13. destruction ----------------------------------------------------------------------------------


def test_destroying_a_room_tells_every_occupant_about_itself(scenario, service):
    room = room_jid(service, "core-destroy")
    nicks = {"alice": "Alice", "bob": "Bob", "carol": "Carol"}

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await enter(carol, room, "Carol")
        await settle(room, alice, bob, carol)
        for client in (alice, bob, carol):
            client.forget_unclaimed()

        refused = await bob.request_error(room, destroy_request("mutiny"), type="set")
        assert error_condition(refused) == "forbidden", describe(refused)

        done = await alice.request(room, destroy_request("Closing time"), type="set")
        assert (done.xml.get("type"), done.xml.get("from")) == ("result", room)
        for client in (alice, bob, carol):
            me = occupant(room, nicks[client.bare_jid.split("@")[0]])
            gone = await client.expect_presence(frm=me, type="unavailable")
            x = gone.xml.find(f"{{{MUC_USER_NS}}}x")
            assert x.findtext(f"{{{MUC_USER_NS}}}destroy/{{{MUC_USER_NS}}}reason") == "Closing time", describe(gone)
            assert status_code_list(gone) == [110], describe(gone)
            assert muc_item(gone)["role"] == "none", describe(gone)
            assert muc_item(gone)["jid"] == client.jid, describe(gone)

        # Everyone is out at once: nobody hears of the others leaving.
        for client in (alice, bob, carol):
            await client.sync(service)
            assert unclaimed_from(client, room) == [], summary(unclaimed_from(client, room))

        await assert_gone(bob, room, "its destruction")
        carol.send_message(room, "hello?")
        lost = await carol.expect_message(frm=room, type="error")
        assert error_condition(lost) == "item-not-found", describe(lost)

    scenario(body, "alice", "bob", "carol")


def test_a_destroyed_persistent_room_answers_gone_until_an_admin_recreates_it(scenario, service):
    room = room_jid(service, "core-tombstone")
    venue = room_jid(service, "core-tombstone-new")

    async def body(alice, bob, admin):
        await create_room(alice, room, "Alice", instant=False)
        await alice.request(room, config_submission({"muc#roomconfig_persistentroom": "1"}),
                            type="set")
        done = await alice.request(room, destroy_request("Moved to the new room", venue),
                                   type="set")
        assert done.xml.get("type") == "result", describe(done)
        await alice.expect_self_presence(occupant(room, "Alice"), "unavailable")

        # The name is taken: a join, a message and a disco#info all get
        # gone from the service, with the alternate venue and the reason.
        bob.join(occupant(room, "Bob"))
        refused = await bob.expect_presence(frm=occupant(room, "Bob"), type="error")
        bob.send_message(room, "anyone?")
        lost = await bob.expect_message(frm=room, type="error")
        info = await bob.request_error(room, f"<query xmlns='{DISCO_INFO_NS}'/>")
        for stanza in (refused, lost, info):
            assert error_condition(stanza) == "gone", describe(stanza)
            assert stanza.xml.find(f"{{{CLIENT_NS}}}error").get("type") == "cancel", describe(stanza)
            assert gone_uri(stanza) == f"xmpp:{venue}?join", describe(stanza)
            assert error_text(stanza) == "Moved to the new room", describe(stanza)
            assert error_by(stanza) == service, describe(stanza)
        # Its former owner too.
        alice.join(occupant(room, "Alice"))
        again = await alice.expect_presence(frm=occupant(room, "Alice"), type="error")
        assert error_condition(again) == "gone", describe(again)

        # A service admin may take the name back at once: a new room.
        admin.join(occupant(room, "Admin"))
        mine = await admin.expect_self_presence(occupant(room, "Admin"), None)
        assert status_code_list(mine) == [201, 110], describe(mine)

    scenario(body, "alice", "bob", "admin")
