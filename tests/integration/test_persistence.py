"""Persistent rooms survive the service: ``twistd muc`` is stopped (SIGTERM)
or killed (SIGKILL) and started again on the same config and storage file,
and clients find what was acknowledged before: the room, its name, its
members and bans, its subject and history.  Temporary rooms do not come
back, a destroyed persistent room's tombstone does, and occupants present
at a clean stop are told (332).

Each test runs its own service (its own storage file) beside the module's
Prosody; the clients stay logged in to Prosody across the restart, as users
of a real server would.
"""

from __future__ import annotations

import pytest

from tests.integration.muc_scenarios import (
    DISCO_ITEMS_NS,
    admin_item,
    affiliation_list,
    affiliations_of,
    assert_gone,
    body_of,
    config_submission,
    create_room,
    delay_of,
    destroy_request,
    drain,
    error_text,
    from_room,
    is_subject_message,
    join_and_read,
    muc_items,
    occupant,
    owner_form,
    owner_query,
    room_name,
    settle,
    status_code_list,
    subject_of,
    summary,
)
from tests.integration.stanzas import describe, disco_features, error_condition, occupant_id




USERS = ("alice", "bob", "carol")


@pytest.fixture
def service(own_service):
    """A ``twistd muc`` of this test alone, with its own storage file; the
    test restarts it, and it is stopped afterwards whatever happened."""
    return own_service()


# ---- requests and readers ------------------------------------------------------------


async def public_rooms(client, service_jid) -> dict[str, str | None]:
    reply = await client.request(service_jid, f"<query xmlns='{DISCO_ITEMS_NS}'/>")
    return {item.get("jid"): item.get("name") for item in reply.xml.iter(f"{{{DISCO_ITEMS_NS}}}item")}


async def leave(client, room, nick) -> None:
    client.leave(occupant(room, nick))
    await client.expect_self_presence(occupant(room, nick), "unavailable")


#: Options set on the kept rooms besides their name; each must come back.
KEPT_OPTIONS = {
    "muc#roomconfig_persistentroom": "1",
    "muc#roomconfig_publicroom": "1",
    "muc#roomconfig_roomdesc": "Where things stay",
    "muc#roomconfig_moderatedroom": "1",
    "muc#roomconfig_changesubject": "1",
    "muc#roomconfig_historylength": "2",
    "muc#roomconfig_roomadmins": "dave@localhost",
    "muc#roomconfig_membersonly": "1",
    "muc#roomconfig_whois": "anyone",
    "muc#roomconfig_lang": "en",
    "muc#roomconfig_maxusers": "30",
    "muc#roomconfig_allowpm": "participants",
}


async def furnish(alice, bob, room, *, name: str) -> dict[str, list[str]]:
    """Make ``room`` a persistent public room named ``name`` (and
    ``KEPT_OPTIONS``), with Bob a member under his reserved nick (and in the
    room), a subject and three messages, of which the room keeps the last
    two.  Returns the configuration form's values."""
    alice_nick, bob_nick = occupant(room, "Alice"), occupant(room, "Bob")
    await create_room(alice, room, "Alice", instant=False)
    await alice.request(
        room, config_submission({**KEPT_OPTIONS, "muc#roomconfig_roomname": name}), type="set")
    await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="member", nick="Bob"), type="set")
    bob.join(bob_nick)
    await bob.expect_self_presence(bob_nick, None)
    alice.send_message(room, subject="Kept subject")
    await bob.expect_message(frm=alice_nick, where=lambda s: subject_of(s) == "Kept subject")
    lines = ((alice, alice_nick, "zeroth"), (alice, alice_nick, "first"), (bob, bob_nick, "second"))
    for speaker, nick, text in lines:
        speaker.send_message(room, text)
        await alice.expect_message(frm=nick, body=text)
    return owner_form(await alice.request(room, owner_query()))


async def check_restored(alice, bob, carol, service_jid, room, *, name: str, form: dict):
    """What a client must find in ``room`` after a restart (see ``furnish``)."""
    alice_nick = occupant(room, "Alice")
    assert (await public_rooms(bob, service_jid)).get(room) == name
    assert await room_name(bob, room) == name
    features = disco_features(await bob.disco_info(room))
    wanted = {"muc_persistent", "muc_public", "muc_moderated", "muc_membersonly", "muc_nonanonymous"}
    assert wanted <= features, features

    carol.join(occupant(room, "Carol"))
    refused = await carol.expect_presence(frm=occupant(room, "Carol"), type="error")
    assert error_condition(refused) == "forbidden", describe(refused)

    mine, traffic = await join_and_read(alice, room, "Alice")
    # Entering an existing room: no 201, and the owner is still the owner
    # (100: the room is still non-anonymous).
    assert status_code_list(mine) == [100, 110], describe(mine)
    assert muc_items(mine) == [
        {"affiliation": "owner", "role": "moderator", "jid": alice.jid}], describe(mine)
    history = [s for s in traffic if body_of(s) is not None]
    # The stanza ids of the original messages (muc#stable_id) come back too.
    originals = {body_of(s): s.xml.get("id") for s in bob.received if body_of(s) in ("first", "second")}
    assert {body_of(s): s.xml.get("id") for s in history} == originals, summary(traffic)
    assert [(s.xml.get("from"), body_of(s)) for s in history] == [
        (alice_nick, "first"), (occupant(room, "Bob"), "second"),
    ], summary(traffic)
    for message in history:
        assert delay_of(message) is not None and delay_of(message).get("from") == room, describe(message)
    subject = traffic[-1]
    assert (subject.xml.get("from"), subject_of(subject)) == (alice_nick, "Kept subject"), summary(traffic)
    assert delay_of(subject) is not None, describe(subject)

    restored = owner_form(await alice.request(room, owner_query()))
    assert restored == form, f"before: {form}\nafter:  {restored}"
    assert await affiliations_of(alice, room, "member", "outcast", "owner", "admin") == {
        "member": [{"affiliation": "member", "jid": bob.bare_jid, "nick": "Bob"}],
        "outcast": [{"affiliation": "outcast", "jid": carol.bare_jid}],
        "owner": [{"affiliation": "owner", "jid": alice.bare_jid}],
        "admin": [{"affiliation": "admin", "jid": "dave@localhost"}],
    }

    # Bob, a member, gets in and has a voice in the moderated room.
    mine, _ = await join_and_read(bob, room, "Bob")
    assert muc_items(mine) == [
        {"affiliation": "member", "role": "participant", "jid": bob.jid}], describe(mine)


# ---- 1. stop and start ------------------------------------------------------------------


def test_a_persistent_room_survives_a_restart(scenario, service):
    room = f"kept@{service.jid}"

    async def body(alice, bob, carol):
        form = await furnish(alice, bob, room, name="Kept Room")
        first = next(s for s in alice.received if body_of(s) == "first")
        alice_id = occupant_id(first)
        assert alice_id, describe(first)
        await alice.request(
            room, admin_item(jid=carol.bare_jid, affiliation="outcast", reason="Spam"), type="set")
        await leave(bob, room, "Bob")
        await leave(alice, room, "Alice")
        # Empty, and still there.
        assert await room_name(bob, room) == "Kept Room"

        service.stop_cleanly()
        service.start()

        await check_restored(alice, bob, carol, service.jid, room, name="Kept Room", form=form)
        # XEP-0421: the same user keeps the same occupant id in the room.
        mine = [s for s in alice.received
                if s.xml.get("from") == occupant(room, "Alice") and s.xml.tag.endswith("presence")][-1]
        assert occupant_id(mine) == alice_id, describe(mine)

        # The restored room goes on being kept: a new message, subject and
        # member, then one more restart (a crash this time).
        alice_nick = occupant(room, "Alice")
        await drain(room, alice, bob)
        bob.send_message(room, "third")
        await alice.expect_message(frm=occupant(room, "Bob"), body="third")
        alice.send_message(room, subject="Newer subject")
        await bob.expect_message(frm=alice_nick, where=lambda s: subject_of(s) == "Newer subject")
        await alice.request(room, admin_item(jid="dave@localhost", affiliation="member"), type="set")
        service.kill()
        service.start()

        _, traffic = await join_and_read(alice, room, "Alice")
        history = [body_of(s) for s in traffic if body_of(s) is not None]
        assert history == ["second", "third"], summary(traffic)
        assert subject_of(traffic[-1]) == "Newer subject", summary(traffic)
        members = await affiliation_list(alice, room, "member")
        assert [item["jid"] for item in members] == [bob.bare_jid, "dave@localhost"], members

    scenario(body, "alice", "bob", "carol")


# ---- 2. killed ----------------------------------------------------------------------------


def test_what_was_acknowledged_survives_sigkill(scenario, service):
    room = f"crash@{service.jid}"

    async def body(alice, bob, carol):
        form = await furnish(alice, bob, room, name="Crash Room")
        # A configuration change of the stored room, then the ban, and the
        # process is killed as soon as the ban's result arrives.
        await alice.request(room, config_submission({"muc#roomconfig_roomname": "Crashed Room"}), type="set")
        done = await alice.request(room, admin_item(jid=carol.bare_jid, affiliation="outcast"), type="set")
        assert done.xml.get("type") == "result", describe(done)
        service.kill()
        service.start()

        # The occupants were lost with the process; the room was not.
        form["muc#roomconfig_roomname"] = ["Crashed Room"]
        await check_restored(alice, bob, carol, service.jid, room, name="Crashed Room", form=form)

    scenario(body, "alice", "bob", "carol")


# ---- 3. what does not come back -------------------------------------------------------------


def test_temporary_rooms_are_gone_and_a_destroyed_one_answers_gone_after_a_restart(scenario, service):
    temporary = f"fleeting@{service.jid}"
    destroyed = f"demolished@{service.jid}"
    unkept = f"unkept@{service.jid}"

    async def body(alice, bob):
        # Alice stays in the temporary room: only the restart ends it.
        await create_room(alice, temporary, "Alice")
        alice.send_message(temporary, "soon forgotten")
        await alice.expect_message(frm=occupant(temporary, "Alice"), body="soon forgotten")

        await create_room(alice, destroyed, "Alice", instant=False)
        await alice.request(destroyed, config_submission({"muc#roomconfig_persistentroom": "1"}), type="set")
        await alice.request(destroyed, destroy_request("No longer needed"), type="set")
        await alice.expect_self_presence(occupant(destroyed, "Alice"), "unavailable")

        # Persistent, then temporary again while Alice is still inside.
        await create_room(alice, unkept, "Alice", instant=False)
        await alice.request(unkept, config_submission({"muc#roomconfig_persistentroom": "1"}), type="set")
        alice.send_message(unkept, "kept for a while")
        await alice.expect_message(frm=occupant(unkept, "Alice"), body="kept for a while")
        await alice.request(unkept, config_submission({"muc#roomconfig_persistentroom": "0"}), type="set")

        await settle(service.jid, alice)
        alice.forget_unclaimed()
        service.stop_cleanly()
        # Before going, the service told Alice she is out of both rooms.
        for room in (temporary, unkept):
            gone = await alice.expect_presence(frm=occupant(room, "Alice"), type="unavailable")
            assert status_code_list(gone) == [332, 110], describe(gone)
            assert muc_items(gone) == [
                {"affiliation": "owner", "role": "none", "jid": alice.jid}], describe(gone)
        service.start()

        # The destroyed persistent room's tombstone was kept: its name is
        # still taken, with the reason.
        bob.join(occupant(destroyed, "Bob"))
        refused = await bob.expect_presence(frm=occupant(destroyed, "Bob"), type="error")
        assert error_condition(refused) == "gone", describe(refused)
        assert error_text(refused) == "No longer needed", describe(refused)

        for room in (temporary, unkept):
            await assert_gone(bob, room, "the restart")
            # Joining creates the room anew, empty.
            before = len(bob.received)
            bob.join(occupant(room, "Bob"))
            mine = await bob.expect_self_presence(occupant(room, "Bob"), None)
            assert status_code_list(mine) == [201, 110], describe(mine)
            assert muc_items(mine) == [{"affiliation": "owner", "role": "moderator", "jid": bob.jid}]
            await bob.expect_message(frm=room, type="groupchat", where=is_subject_message)
            history = [s for s in bob.received[before:] if from_room(room)(s) and body_of(s) is not None]
            assert history == [], summary(history)

    scenario(body, "alice", "bob")
