"""The room archive with real clients: stanza ids (XEP-0359), MAM queries to
the room's JID (XEP-0313), moderation (XEP-0425) and self-retraction
(XEP-0424).

Each test runs twice: against our service (``muc.localhost``), then against
Prosody's own MUC (``conference.localhost``) on the same server with
``mod_muc_mam`` and ``mod_muc_moderation`` (Debian's prosody-modules), the
reference behaviour. Prosody archives every room by default
(``muc_log_by_default``), keeps times to the second, and puts the total in
RSM ``<count/>`` (``muc_log_include_total``). Every test has its own room,
which stays occupied while it runs: Prosody's rooms are temporary by
default, and destroying one deletes its archive.

Clients carry slixmpp's XEP-0359/0313/0424/0425 plugins
(``archive_scenarios.ARCHIVE_PLUGINS``).
"""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree as ET

import pytest
import slixmpp
from slixmpp.plugins import xep_0082

from tests.integration.archive_scenarios import (
    ARCHIVE_PLUGINS,
    FASTEN_NS,
    MAM_EXTENDED_NS,
    MAM_NS,
    MODERATE_0_NS,
    RETRACT_0_NS,
    RETRACT_1_NS,
    SID_NS,
    archive_query,
    archive_refusal,
    archived_delay,
    archived_message,
    is_retraction_announcement,
    moderated_of,
    moderation_request,
    query_fields,
    real_jids,
    room_stanza_id,
    say,
    stanza_ids_by,
    whole_archive,
)
from tests.integration.muc_scenarios import (
    admin_item,
    body_of,
    from_room,
    config_submission,
    create_room,
    delay_of,
    drain,
    enter,
    is_subject_message,
    join_and_read,
    occupant,
    owner_form,
    owner_query,
    room_jid,
    settle,
)
from tests.integration.prosody import ProsodyServer
from tests.integration.stanzas import (
    CLIENT_NS,
    MUC_NS,
    MUC_USER_NS,
    describe,
    disco_features,
    error_condition,
    status_codes,
)
from tests.integration.xmpp_client import all_logged_in, run

USERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def prosody(tmp_path_factory):
    """This module's Prosody, its own MUC archiving and moderating."""
    server = ProsodyServer(
        tmp_path_factory.mktemp("prosody"), conference_modules=("muc_mam", "muc_moderation")
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scenario(prosody, users):
    """As the shared ``scenario``, with the archive plugins on every client."""

    def play(body, *names):
        async def main():
            async with all_logged_in(prosody, *names, plugins=ARCHIVE_PLUGINS) as clients:
                await body(*clients)

        run(main())

    return play


def error_type(stanza) -> str | None:
    error = stanza.xml.find(f"{{{CLIENT_NS}}}error")
    return error.get("type") if error is not None else None


async def room_of_two(alice, bob, room: str) -> None:
    """Alice creates ``room`` (owner, moderator), Bob enters; presences dropped."""
    await create_room(alice, room, "Alice")
    await enter(bob, room, "Bob")
    await drain(room, alice, bob)


async def configure(owner, room: str, fields: dict[str, str], *occupants) -> list[set[int]]:
    """Submit ``fields``; return the status codes of the room's configuration
    change message each of ``occupants`` got (XEP-0045 §10.2.1)."""
    await owner.request(room, config_submission(fields), type="set")
    codes = []
    for client in occupants:
        notice = await client.expect_message(
            frm=room, type="groupchat", where=lambda s: s.xml.find(f"{{{MUC_USER_NS}}}x") is not None
        )
        codes.append(status_codes(notice))
    return codes


# ---- 1. stanza ids -----------------------------------------------------------------------


def test_every_reflection_carries_the_rooms_stanza_id_the_same_for_every_reader(scenario, service):
    """``<stanza-id xmlns='urn:xmpp:sid:0' by='room@service' id='...'/>`` on the
    sender's reflection and on every other occupant's copy, one id per message."""
    room = room_jid(service, "arch-sid")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        ids = [await say(alice, room, "Alice", f"number {n}", bob) for n in range(3)]
        ids.append(await say(bob, room, "Bob", "and mine", alice))
        assert len(set(ids)) == len(ids), ids

    scenario(body, "alice", "bob")


def test_a_stanza_id_a_client_claims_in_the_rooms_name_is_removed(scenario, service):
    """Prosody drops every client-sent stanza-id whose ``by`` is the room (as
    a JID: case does not matter) and adds its own; a stanza-id by someone
    else is passed on (not asserted). The archive files the message under
    the room's id."""
    room = room_jid(service, "arch-forge")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        forged = alice.xmpp.make_message(mto=room, mtype="groupchat", mbody="forged ids")
        forged["stanza_id"]["by"] = room
        forged["stanza_id"]["id"] = "forged-id"
        shouted = forged.xml.makeelement(f"{{{SID_NS}}}stanza-id", {"by": room.upper(), "id": "forged-upper"})
        forged.xml.append(shouted)
        forged.send()

        real = set()
        for client in (alice, bob):
            message = await client.expect_message(frm=occupant(room, "Alice"), body="forged ids")
            ours = stanza_ids_by(message, room)
            assert len(ours) == 1, describe(message)
            assert ours[0] not in ("forged-id", "forged-upper"), describe(message)
            real.add(ours[0])
        assert len(real) == 1, real

        page = await whole_archive(bob, room)
        assert page.ids == [real.pop()], page.describe()

    scenario(body, "alice", "bob")


def test_the_room_advertises_stanza_ids_and_its_archive(scenario, service):
    """disco#info of a room: ``urn:xmpp:sid:0`` and ``urn:xmpp:mam:2`` (archiving
    is on by default). Prosody also lists ``urn:xmpp:mam:2#extended`` and
    ``urn:xmpp:message-moderate:0``."""
    room = room_jid(service, "arch-disco")

    async def body(alice):
        await create_room(alice, room, "Alice")
        features = disco_features(await alice.disco_info(room))
        assert {SID_NS, MAM_NS} <= features, sorted(features)

    scenario(body, "alice")


# ---- 2. MAM queries on the room's JID ----------------------------------------------------------


async def seven_messages(alice, bob, room: str) -> tuple[list[str], list[str]]:
    """Alice and Bob say seven things; their bodies and live stanza-ids."""
    bodies, ids = [], []
    for n in range(7):
        sender, nick, reader = (alice, "Alice", bob) if n % 2 == 0 else (bob, "Bob", alice)
        text = f"message {n} from {nick}"
        ids.append(await say(sender, room, nick, text, reader))
        bodies.append(text)
    return bodies, ids


def test_a_full_query_returns_the_messages_oldest_first_under_their_live_ids(scenario, service):
    """Each result: ``<message from='room'><result xmlns='urn:xmpp:mam:2'
    queryid=Q id=STANZA-ID><forwarded xmlns='urn:xmpp:forward:0'><delay
    xmlns='urn:xmpp:delay' stamp=.../><message type='groupchat'
    from='room/Nick' id=...><body/>...</message></forwarded></result></message>``;
    then ``<fin xmlns='urn:xmpp:mam:2' complete='true'><set
    xmlns='http://jabber.org/protocol/rsm'><first/><last/><count>7</count></set></fin>``."""
    room = room_jid(service, "arch-full")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        bodies, ids = await seven_messages(alice, bob, room)

        page = await whole_archive(bob, room)
        assert page.ids == ids, page.describe()
        assert page.bodies == bodies, page.describe()
        for n, result in enumerate(page.results):
            assert result.xml.get("from") == room, describe(result)
            message = archived_message(result)
            nick = "Alice" if n % 2 == 0 else "Bob"
            sender = (message.get("type"), message.get("from"))
            assert sender == ("groupchat", occupant(room, nick)), describe(result)
            delay = archived_delay(result)
            assert delay is not None and delay.get("stamp"), describe(result)
        rsm = (page.rsm("first"), page.rsm("last"), page.rsm("count"))
        assert rsm == (ids[0], ids[-1], "7"), page.describe()

    scenario(body, "alice", "bob")


def test_paging_forwards_with_after_until_complete(scenario, service):
    """``max=3`` then ``after=<last>``: pages of 3, 3, 1; only the last says
    ``complete='true'`` (Prosody leaves the attribute out before); every page's
    RSM first/last are its own, ``count`` the whole archive's."""
    room = room_jid(service, "arch-after")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        _, ids = await seven_messages(alice, bob, room)

        pages, after = [], None
        while True:
            page = await archive_query(bob, room, max=3, after=after)
            pages.append(page)
            assert (page.rsm("first"), page.rsm("last")) == (page.ids[0], page.ids[-1]), page.describe()
            assert page.rsm("count") == "7", page.describe()
            if page.complete or len(pages) == 4:
                break
            after = page.rsm("last")
        assert [page.ids for page in pages] == [ids[0:3], ids[3:6], ids[6:7]], [p.ids for p in pages]
        assert [page.complete for page in pages] == [False, False, True]

    scenario(body, "alice", "bob")


def test_the_last_page_and_paging_backwards_with_before(scenario, service):
    """An empty ``<before/>`` asks for the last page: the newest ``max``
    messages, still oldest first; ``before=<first>`` then pages back until
    ``complete='true'``."""
    room = room_jid(service, "arch-before")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        bodies, ids = await seven_messages(alice, bob, room)

        last = await archive_query(bob, room, max=3, before="")
        assert last.ids == ids[4:7] and last.bodies == bodies[4:7], last.describe()
        assert (last.rsm("first"), last.rsm("last")) == (ids[4], ids[6]), last.describe()
        assert not last.complete, last.describe()

        middle = await archive_query(bob, room, max=3, before=last.rsm("first"))
        assert middle.ids == ids[1:4], middle.describe()
        assert not middle.complete, middle.describe()

        first = await archive_query(bob, room, max=3, before=middle.rsm("first"))
        assert first.ids == ids[0:1], first.describe()
        assert first.complete, first.describe()

    scenario(body, "alice", "bob")


def test_start_and_end_select_by_the_archived_time(scenario, service):
    """``start``/``end`` in the query form select by the time in each result's
    ``<delay/>`` (inclusive). Prosody keeps whole seconds, so the two batches
    are more than a second apart and the bounds are read back from the
    archive. A start in the future or an end in the past gives an empty,
    complete page (Prosody: ``<count>0</count>``, no first/last)."""
    room = room_jid(service, "arch-time")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        early = [await say(alice, room, "Alice", f"early {n}", bob) for n in range(2)]
        await asyncio.sleep(1.2)
        late = [await say(bob, room, "Bob", f"late {n}", alice) for n in range(2)]

        everything = await whole_archive(bob, room)
        assert everything.ids == early + late, everything.describe()
        stamps = [archived_delay(result).get("stamp") for result in everything.results]
        last_early, first_late = stamps[1], stamps[2]
        assert xep_0082.parse(first_late) > xep_0082.parse(last_early), stamps

        until = await archive_query(bob, room, end=last_early)
        assert until.ids == early and until.complete, until.describe()
        since = await archive_query(bob, room, start=first_late)
        assert since.ids == late and since.complete, since.describe()

        for bound in ({"start": "2100-01-01T00:00:00Z"}, {"end": "2000-01-01T00:00:00Z"}):
            empty = await archive_query(bob, room, **bound)
            assert empty.ids == [] and empty.complete, (bound, empty.describe())
            assert empty.rsm("first") is None and empty.rsm("last") is None, empty.describe()
            assert empty.rsm("count") in (None, "0"), empty.describe()

    scenario(body, "alice", "bob")


def test_the_query_form_lists_its_fields(scenario, service):
    """``iq get`` of ``<query xmlns='urn:xmpp:mam:2'/>`` returns a ``jabber:x:data``
    form. Prosody (internal storage): FORM_TYPE (hidden, urn:xmpp:mam:2),
    with (jid-single), start and end (text-single, xs:dateTime), before-id,
    after-id (text-single), ids (list-multi), and it advertises
    ``urn:xmpp:mam:2#extended``: the form has before-id/after-id/ids exactly
    when the room advertises that."""
    room = room_jid(service, "arch-form")

    async def body(alice):
        await create_room(alice, room, "Alice")
        fields = await query_fields(alice, room)
        assert fields["FORM_TYPE"] == {"type": "hidden", "value": MAM_NS}, fields
        assert {"with", "start", "end"} <= set(fields), fields
        extended = MAM_EXTENDED_NS in disco_features(await alice.disco_info(room))
        assert ({"before-id", "after-id", "ids"} <= set(fields)) == extended, (extended, fields)

    scenario(body, "alice")


# ---- 3. who may query ----------------------------------------------------------------------------


def test_a_members_only_archive_is_for_members_even_outside_the_room(scenario, service):
    """Bob, a member who never entered, reads the archive; Carol, not a
    member, gets ``<error type='auth'><forbidden/></error>``."""
    room = room_jid(service, "arch-members")

    async def body(alice, bob, carol):
        await create_room(alice, room, "Alice")
        await alice.request(room, config_submission({"muc#roomconfig_membersonly": "1"}), type="set")
        await alice.request(room, admin_item(affiliation="member", jid=bob.bare_jid), type="set")
        said = await say(alice, room, "Alice", "members only")

        page = await whole_archive(bob, room)
        assert page.ids == [said] and page.bodies == ["members only"], page.describe()

        refused = await archive_refusal(carol, room)
        assert (error_type(refused), error_condition(refused)) == ("auth", "forbidden"), describe(refused)

    scenario(body, "alice", "bob", "carol")


def test_an_outcast_may_not_query_and_a_missing_room_has_no_archive(scenario, service):
    """An outcast of an open room: ``auth``/``forbidden``. A room that does not
    exist: ``item-not-found`` (Prosody: ``type='cancel'``)."""
    room = room_jid(service, "arch-outcast")

    async def body(alice, carol):
        await create_room(alice, room, "Alice")
        await say(alice, room, "Alice", "not for outcasts")
        await alice.request(room, admin_item(affiliation="outcast", jid=carol.bare_jid), type="set")

        refused = await archive_refusal(carol, room)
        assert (error_type(refused), error_condition(refused)) == ("auth", "forbidden"), describe(refused)

        missing = await archive_refusal(carol, room_jid(service, "arch-never-created"))
        assert error_condition(missing) == "item-not-found", describe(missing)

    scenario(body, "alice", "carol")


# ---- 4. real JIDs in the archive --------------------------------------------------------------------


def test_a_semi_anonymous_archive_shows_a_participant_no_real_jid(scenario, service):
    """Prosody stores no muc#user item in a semi-anonymous room (and strips
    any on the way out), so a participant's results name occupants only."""
    room = room_jid(service, "arch-semianon")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        await say(alice, room, "Alice", "who am I", bob)
        await say(bob, room, "Bob", "nobody knows", alice)

        page = await whole_archive(bob, room)
        assert len(page.results) == 2, page.describe()
        for message in page.messages:
            assert real_jids(message) == [], page.describe()

    scenario(body, "alice", "bob")


def test_a_non_anonymous_archive_names_the_bare_real_jids(scenario, service):
    """With ``muc#roomconfig_whois`` = anyone (status 172 to the occupants),
    Prosody archives each message with ``<x xmlns='http://jabber.org/protocol/
    muc#user'><item affiliation=... role=... jid='user@host'/></x>``: the
    sender's bare JID, and the role their affiliation gives."""
    room = room_jid(service, "arch-nonanon")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        codes = await configure(alice, room, {"muc#roomconfig_whois": "anyone"}, alice, bob)
        assert all(172 in mine for mine in codes), codes
        await say(alice, room, "Alice", "I am alice", bob)
        await say(bob, room, "Bob", "I am bob", alice)

        page = await whole_archive(bob, room)
        items = [
            [dict(item.attrib) for item in message.iterfind(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")]
            for message in page.messages
        ]
        assert items == [
            [{"affiliation": "owner", "role": "moderator", "jid": alice.bare_jid}],
            [{"affiliation": "none", "role": "participant", "jid": bob.bare_jid}],
        ], page.describe()

    scenario(body, "alice", "bob")


# ---- 5. join history ----------------------------------------------------------------------------------


def test_join_history_carries_the_stanza_ids_and_delay(scenario, service):
    """Prosody serves history from the archive, each message with ``<delay
    xmlns='urn:xmpp:delay' from='room' stamp=.../>`` and the ``<stanza-id
    by='room'/>`` it had live, oldest first, before the subject."""
    room = room_jid(service, "arch-history")

    async def body(alice, carol):
        await create_room(alice, room, "Alice")
        ids = [await say(alice, room, "Alice", f"history {n}") for n in range(3)]

        _, traffic = await join_and_read(carol, room, "Carol")
        history = [message for message in traffic if not is_subject_message(message)]
        assert [body_of(message) for message in history] == [f"history {n}" for n in range(3)], traffic
        assert [room_stanza_id(message, room) for message in history] == ids
        for message in history:
            delay = delay_of(message)
            assert delay is not None and delay.get("from") == room and delay.get("stamp"), describe(message)

    scenario(body, "alice", "carol")


def test_a_client_that_joins_without_history_reads_the_archive_instead(scenario, service):
    """Gajim's way: join with ``<history maxchars='0'/>`` (no history at
    all), then ask the room's archive for what was said."""
    room = room_jid(service, "arch-gajim")

    async def body(alice, carol):
        await create_room(alice, room, "Alice")
        ids = [await say(alice, room, "Alice", f"said before {n}") for n in range(3)]

        me = occupant(room, "Carol")
        x = ET.Element(f"{{{MUC_NS}}}x")
        ET.SubElement(x, f"{{{MUC_NS}}}history", maxchars="0")
        before = len(carol.received)
        carol.send_presence(me, payload=[x])
        await carol.expect_self_presence(me, None)
        await carol.expect_message(type="groupchat",
                                   where=lambda s: from_room(room)(s) and is_subject_message(s))
        joined = [s for s in carol.received[before:] if from_room(room)(s)
                  and s.xml.tag.endswith("message") and body_of(s) is not None]
        assert joined == [], joined

        page = await whole_archive(carol, room)
        assert page.ids == ids and page.bodies == [f"said before {n}" for n in range(3)], page.describe()

    scenario(body, "alice", "carol")


# ---- 6. switching the archive off -------------------------------------------------------------------


def test_archiving_switched_off_keeps_new_messages_out_and_on_again_in(scenario, service):
    """``muc#roomconfig_enablearchiving`` (boolean, default 1 in Prosody's
    config form). Off: status 171 to the occupants, mam:2 gone from disco
    (sid:0 stays), new messages stay out of the archive (Prosody sends them
    without a stanza-id, ours with one), which still answers with what it
    had. On: status 170."""
    room = room_jid(service, "arch-switch")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        form = owner_form(await alice.request(room, owner_query()))
        assert form.get("muc#roomconfig_enablearchiving") in (["1"], ["true"]), form
        kept = await say(alice, room, "Alice", "archived", bob)

        codes = await configure(alice, room, {"muc#roomconfig_enablearchiving": "0"}, alice, bob)
        assert all(171 in mine for mine in codes), codes
        assert MAM_NS not in disco_features(await bob.disco_info(room))

        alice.send_message(room, "off the record")
        for client in (alice, bob):
            message = await client.expect_message(frm=occupant(room, "Alice"), body="off the record")
            # Prosody gives a message an id only when it archives it; ours
            # names every message (moderation and replies point at them).
            expected = 1 if service.startswith("muc.") else 0
            assert len(stanza_ids_by(message, room)) == expected, describe(message)
        page = await whole_archive(bob, room)
        assert page.ids == [kept], page.describe()

        codes = await configure(alice, room, {"muc#roomconfig_enablearchiving": "1"}, alice, bob)
        assert all(170 in mine for mine in codes), codes
        assert MAM_NS in disco_features(await bob.disco_info(room))
        again = await say(alice, room, "Alice", "archived again", bob)
        page = await whole_archive(bob, room)
        assert page.ids == [kept, again] and page.bodies == ["archived", "archived again"], page.describe()

    scenario(body, "alice", "bob")


# ---- 7. moderation (XEP-0425 v0.2, urn:xmpp:message-moderate:0) ------------------------------------


def test_a_moderator_retracts_a_message_and_the_archive_keeps_a_tombstone(scenario, service):
    """The moderator's ``iq set`` of ``<apply-to xmlns='urn:xmpp:fasten:0'
    id=SID><moderate xmlns='urn:xmpp:message-moderate:0'><retract
    xmlns='urn:xmpp:message-retract:0'/><reason/></moderate></apply-to>`` gets
    an empty result. Every occupant gets ``<message from='room'
    type='groupchat'><apply-to xmlns='urn:xmpp:fasten:0' id=SID><moderated
    xmlns='urn:xmpp:message-moderate:0' by='room/ModNick'><retract
    xmlns='urn:xmpp:message-retract:0'/><reason/></moderated></apply-to>
    <stanza-id by='room'/></message>``, itself archived. The original's entry
    (same id, same delay) becomes ``<message type='groupchat' from='room/Nick'
    id=ORIGINAL-ID><moderated xmlns='urn:xmpp:message-moderate:0'
    by='room/ModNick'><retracted xmlns='urn:xmpp:message-retract:0'
    stamp=.../><reason/></moderated></message>``, no body, also in the
    history a newcomer gets."""
    room = room_jid(service, "arch-moderate")

    async def body(alice, bob, carol):
        await room_of_two(alice, bob, room)
        spam = await say(bob, room, "Bob", "buy cheap watches", alice)
        fine = await say(bob, room, "Bob", "sorry about that", alice)

        reply = await alice.request(room, moderation_request(spam, "spam"), type="set")
        assert reply.xml.get("type") == "result", describe(reply)

        announcement_ids = set()
        for client in (alice, bob):
            announcement = await client.expect_message(
                frm=room, type="groupchat", where=is_retraction_announcement(spam)
            )
            moderated = moderated_of(announcement.xml)
            assert moderated is not None, describe(announcement)
            assert moderated.get("by") == occupant(room, "Alice"), describe(announcement)
            assert moderated.find(f"{{{RETRACT_0_NS}}}retract") is not None, describe(announcement)
            assert moderated.findtext(f"{{{MODERATE_0_NS}}}reason") == "spam", describe(announcement)
            assert body_of(announcement) is None, describe(announcement)
            announcement_ids.add(room_stanza_id(announcement, room))
        assert len(announcement_ids) == 1, announcement_ids
        announced = announcement_ids.pop()

        page = await whole_archive(bob, room)
        assert page.ids == [spam, fine, announced], page.describe()
        tombstone, kept, archived_announcement = page.messages
        assert tombstone.findtext(f"{{{CLIENT_NS}}}body") is None, page.describe()
        assert tombstone.get("from") == occupant(room, "Bob"), page.describe()
        moderated = moderated_of(tombstone)
        assert moderated is not None and moderated.get("by") == occupant(room, "Alice"), page.describe()
        retracted = moderated.find(f"{{{RETRACT_0_NS}}}retracted")
        assert retracted is not None and retracted.get("stamp"), page.describe()
        assert moderated.findtext(f"{{{MODERATE_0_NS}}}reason") == "spam", page.describe()
        assert kept.findtext(f"{{{CLIENT_NS}}}body") == "sorry about that", page.describe()
        assert archived_announcement.find(f"{{{FASTEN_NS}}}apply-to").get("id") == spam, page.describe()

        _, traffic = await join_and_read(carol, room, "Carol")
        history = [message for message in traffic if not is_subject_message(message)]
        assert "buy cheap watches" not in [body_of(message) for message in history], traffic
        assert room_stanza_id(history[0], room) == spam and body_of(history[0]) is None, describe(history[0])
        assert moderated_of(history[0].xml) is not None, describe(history[0])

    scenario(body, "alice", "bob", "carol")


def test_only_a_moderator_may_moderate_and_only_what_is_archived(scenario, service):
    """A participant's request: ``<error type='auth'><forbidden/><text>You need
    a role of at least 'moderator'</text></error>``, and nothing changes. A
    moderator naming an id the archive does not have: ``item-not-found``
    (Prosody: ``type='modify'``)."""
    room = room_jid(service, "arch-moderate-no")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        said = await say(alice, room, "Alice", "you cannot take this back", bob)

        refused = await bob.request_error(room, moderation_request(said, "mine now"), type="set")
        assert (error_type(refused), error_condition(refused)) == ("auth", "forbidden"), describe(refused)

        unknown = await alice.request_error(room, moderation_request("no-such-stanza-id"), type="set")
        assert error_condition(unknown) == "item-not-found", describe(unknown)

        await settle(room, alice, bob)
        for client in (alice, bob):
            assert client.unclaimed(lambda s: s.xml.find(f"{{{FASTEN_NS}}}apply-to") is not None) == []
        page = await whole_archive(bob, room)
        assert page.ids == [said] and page.bodies == ["you cannot take this back"], page.describe()

    scenario(body, "alice", "bob")


# ---- 8. self-retraction (XEP-0424) -------------------------------------------------------------------


def test_an_authors_retraction_goes_out_as_a_message_and_is_archived(scenario, service):
    """Prosody's MUC has no XEP-0424 handling: the author's retraction, in
    either form, is a groupchat message like any other, reflected to all
    with a stanza-id and archived as its own entry after the original. The
    forms: slixmpp's ``<retract xmlns='urn:xmpp:message-retract:1' id=SID/>``
    with a fallback body, ``<fallback xmlns='urn:xmpp:fallback:0'/>`` and
    ``<store xmlns='urn:xmpp:hints'/>``; and v0.2's ``<apply-to
    xmlns='urn:xmpp:fasten:0' id=SID><retract
    xmlns='urn:xmpp:message-retract:0'/></apply-to>``. Prosody leaves the
    original's entry untouched, body and all; that is not asserted, so that
    a service which turns it into a tombstone passes too."""
    room = room_jid(service, "arch-retract")

    async def body(alice, bob):
        await room_of_two(alice, bob, room)
        oops = await say(bob, room, "Bob", "oops, wrong room", alice)

        bob.xmpp.plugin["xep_0424"].send_retraction(slixmpp.JID(room), oops, mtype="groupchat")
        current = set()
        for client in (alice, bob):
            message = await client.expect_message(
                frm=occupant(room, "Bob"), type="groupchat",
                where=lambda s: s.xml.find(f"{{{RETRACT_1_NS}}}retract") is not None,
            )
            assert message.xml.find(f"{{{RETRACT_1_NS}}}retract").get("id") == oops, describe(message)
            current.add(room_stanza_id(message, room))
        assert len(current) == 1, current

        apply_to = f"<apply-to xmlns='{FASTEN_NS}' id='{oops}'><retract xmlns='{RETRACT_0_NS}'/></apply-to>"
        bob.send_message(room, "This message was retracted.", payload=[apply_to])
        legacy = set()
        for client in (alice, bob):
            message = await client.expect_message(
                frm=occupant(room, "Bob"), type="groupchat",
                where=lambda s: s.xml.find(f"{{{FASTEN_NS}}}apply-to/{{{RETRACT_0_NS}}}retract") is not None,
            )
            assert message.xml.find(f"{{{FASTEN_NS}}}apply-to").get("id") == oops, describe(message)
            legacy.add(room_stanza_id(message, room))
        assert len(legacy) == 1, legacy

        page = await whole_archive(bob, room)
        assert page.ids == [oops, *current, *legacy], page.describe()
        _, archived_current, archived_legacy = page.messages
        assert archived_current.find(f"{{{RETRACT_1_NS}}}retract").get("id") == oops, page.describe()
        assert archived_legacy.find(f"{{{FASTEN_NS}}}apply-to").get("id") == oops, page.describe()

    scenario(body, "alice", "bob")


# ---- what a kill -9 may lose ---------------------------------------------------------------------


def test_a_persistent_rooms_archive_loses_nothing_acknowledged_to_a_kill(scenario, muc, own_service):
    """Our service only: with the archive's batch never written before the
    kill (an hour's flush interval), every message Bob saw reflected is in
    the room's archive after a ``kill -9`` and a restart, under its live id:
    the stored history, written with each message, brings them back.  (The
    module's service steps aside meanwhile: Prosody takes one connection
    for the component's domain.)"""
    muc.stop()
    try:
        service = own_service(muc_log_flush_interval=3600)
        room = room_jid(service.jid, "arch-kill")

        async def body(alice, bob):
            await room_of_two(alice, bob, room)
            await configure(alice, room, {"muc#roomconfig_persistentroom": "1"}, alice, bob)
            ids = [await say(alice, room, "Alice", f"before the kill {n}", bob) for n in range(5)]
            service.kill()
            service.start()
            page = await whole_archive(bob, room)
            assert page.ids == ids, page.describe()
            assert page.bodies == [f"before the kill {n}" for n in range(5)], page.describe()

        scenario(body, "alice", "bob")
        service.stop()
    finally:
        muc.start()
