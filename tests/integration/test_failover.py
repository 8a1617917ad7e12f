"""Failover: four ``twistd muc`` processes with one ``jid``, one secret and
one PostgreSQL database behind a real ejabberd with ``component_number: 3``
(``component_slots = 3``).

Three processes hold the slot tokens and connect; the fourth is a standby
that does not connect. ``kill -9`` of a holder: the survivors' rooms carry
every message meanwhile; ejabberd drops what goes to the dead slot until
the standby, once the dead holder's lease ran out, takes its token, reads
the rooms from the database and connects, getting the free slot. Its
persistent rooms then answer again with their configuration, affiliations
and archive; their occupants, unknown to the new process, are told so by
their XEP-0410 self-ping (``not-acceptable``), rejoin and keep their
occupant ids. The killed process, restarted, finds every token held and
stays a standby: no room is served twice.

The tests run in order and build on one another's state.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.integration.ejabberd import EjabberdServer
from tests.integration.fleet import Fleet
from tests.integration.muc_process import KICK_AUTHORIZATION, MucProcess
from tests.integration.muc_scenarios import (
    PING_NS, admin_item, affiliations_of, config_submission, create_room, enter, hats_of, occupant,
    room_name,
)
from tests.integration.archive_scenarios import ARCHIVE_PLUGINS, whole_archive
from tests.integration.ports import wait_until
from tests.integration.stanzas import describe, error_condition, occupant_id, status_codes
from tests.integration.xmpp_client import (
    DEFAULT_PASSWORD, StanzaErrorReply, StanzaTimeout, all_logged_in, run,
)

SLOTS = 3
RENEWAL, LEASE = 2.0, 6.0
#: What the move may take: the dead holder's lease, one standby attempt
#: interval, and reading the rooms and connecting.
CONNECT_ALLOWANCE = 3.0
FAILOVER_BOUND = LEASE + RENEWAL + CONNECT_ALLOWANCE
ROOMS = [f"room{index}" for index in range(9)]
ADMIN_HEADER = "Bearer failover-admin"
HATS_HEADER = "Bearer failover-hats"
TEACHER = "http://example.org/hats/teacher"
PING = f"<ping xmlns='{PING_NS}'/>"
DISCO = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
BEFORE_KILL = 5


@pytest.fixture(scope="module")
def ejabberd(tmp_path_factory):
    server = EjabberdServer(tmp_path_factory.mktemp("ejabberd"), component_number=SLOTS)
    server.start()
    for user in ("alice", "bob"):
        server.register(user, DEFAULT_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def database(postgresql):
    return postgresql.database()


class Failover(Fleet):
    """The processes of this module, on one database (``url``)."""

    def __init__(self, server, url, workdir):
        super().__init__(server, workdir, ADMIN_HEADER)
        self.url = url

    def start(self, name: str, *, holder: bool) -> MucProcess:
        """Start ``name``; return once it holds a token and its link is up
        (``holder``), or once it says it is a standby."""
        process = self.processes.get(name) or MucProcess(
            self.workdir / name, self.server, storage=self.url, component_slots=SLOTS,
            component_slot_renewal=RENEWAL, component_slot_lease=LEASE,
            muc_room_default_persistent=True,
            http_muc_admin_authorization_header=ADMIN_HEADER,
            http_muc_hats_authorization_header=HATS_HEADER)
        self.processes[name] = process
        process.start_unchecked()
        wanted = "holding" if holder else "standby"

        def settled() -> bool:
            try:
                status, body = process.health()
            except OSError:
                return False
            state = body.get("slot", {}).get("state")
            if holder:
                return status == 200 and state == wanted and body["component"]["state"] == "up"
            return status == 200 and state == wanted
        if not wait_until(settled, 20):
            raise AssertionError(f"{name} is not {wanted}:\n{process.diagnostics()}")
        return process


@pytest.fixture(scope="module")
def fleet(ejabberd, database, tmp_path_factory):
    fleet = Failover(ejabberd, database, tmp_path_factory.mktemp("fleet"))
    try:
        for name in ("p1", "p2", "p3"):
            fleet.start(name, holder=True)
        fleet.start("p4", holder=False)
        yield fleet
    finally:
        fleet.stop_all()


@pytest.fixture(scope="module")
def slots(ejabberd, fleet):
    """Room local part -> the slot ejabberd's hash gives it (1..3)."""
    return ejabberd.room_slots(ROOMS)



def play(server, body) -> None:
    async def main():
        async with all_logged_in(server, "alice", "bob", plugins=ARCHIVE_PLUGINS) as clients:
            await body(*clients)
    run(main(), timeout=150)


async def talk(alice, bob, room_jid: str, line: str) -> None:
    alice.send_message(room_jid, line)
    await bob.expect_message(frm=f"{room_jid}/Alice", type="groupchat", body=line)
    await alice.expect_message(frm=f"{room_jid}/Alice", type="groupchat", body=line)


def test_three_processes_hold_the_slots_and_the_fourth_is_a_standby(ejabberd, fleet):
    line = f"Accepted external component handshake authentication for {ejabberd.component_domain}"
    wait_until(lambda: ejabberd.log_text().count(line) >= SLOTS, 10)
    assert ejabberd.log_text().count(line) == SLOTS, ejabberd.log_tail()
    tokens = set()
    for name in ("p1", "p2", "p3"):
        status, body = fleet.processes[name].health()
        assert status == 200 and body["slot"]["state"] == "holding", body
        tokens.add(body["slot"]["token"])
    assert tokens == {1, 2, 3}
    status, body = fleet.processes["p4"].health()
    print("standby /health:", body)
    assert status == 200 and body["slot"]["state"] == "standby", body
    assert body["component"]["state"] == "down" and "token" not in body["slot"]


def test_a_killed_holders_rooms_come_back_on_the_standby_and_the_others_never_stop(
        ejabberd, fleet, slots):
    service = ejabberd.component_domain
    by_slot = {slot: sorted(r for r in ROOMS if slots[r] == slot) for slot in range(1, SLOTS + 1)}
    assert all(by_slot.values()), by_slot
    moved, survivor = by_slot[2][0], by_slot[1][0]
    moved_jid, survivor_jid = f"{moved}@{service}", f"{survivor}@{service}"
    p1, p2, p3, p4 = (fleet.processes[n] for n in ("p1", "p2", "p3", "p4"))

    async def body(alice, bob):
        ids = {}
        for name in ROOMS:
            jid = f"{name}@{service}"
            await create_room(alice, jid, "Alice")
            await alice.request(jid, config_submission({"muc#roomconfig_roomname": f"Room {name}"}),
                                type="set")
            await alice.request(jid, admin_item(jid="bob@localhost", affiliation="member"),
                                type="set")
            ids[name] = occupant_id(await enter(bob, jid, "Bob"))
            await talk(alice, bob, jid, f"hello {name}")
        spread = {name: fleet.rooms_of(p) for name, p in (("p1", p1), ("p2", p2), ("p3", p3))}
        print("rooms by process:", {name: sorted(rooms) for name, rooms in spread.items()})
        assert spread == {f"p{slot}": set(by_slot[slot]) for slot in by_slot}
        status, refusal = p4.http("GET", "/muc_admin/rooms", headers={"Authorization": ADMIN_HEADER})
        assert status == 409 and b"standby" in refusal, (status, refusal)

        hat = {"hats": {TEACHER: {"active": True, "required": False, "title": "Teacher"}}}
        status, answer = p2.http("PUT", f"/muc_hats?user=bob@localhost&muc={moved_jid}",
                                 json_body=hat, headers={"Authorization": HATS_HEADER})
        assert status == 200, answer
        seen = await bob.expect_presence(frm=occupant(moved_jid, "Bob"))
        assert hats_of(seen) == [(TEACHER, "Teacher")], describe(seen)

        said = [f"before the kill {n}" for n in range(BEFORE_KILL)]
        for line in said:
            await talk(alice, bob, moved_jid, line)

        # Who is in the room is written a moment after it changes: wait for it.
        assert wait_until(lambda: listed(fleet.url, moved_jid) == ["Alice", "Bob"], 10)
        p2.kill()
        killed = time.monotonic()
        posted = 0
        answered_after = None
        while answered_after is None:
            posted += 1
            await talk(alice, bob, survivor_jid, f"meanwhile {posted}")  # never interrupted
            try:
                await alice.request(moved_jid, DISCO, timeout=0.5)
            except StanzaTimeout:
                assert time.monotonic() - killed < FAILOVER_BOUND + 5, p4.diagnostics()
                continue
            except StanzaErrorReply as refusal:
                raise AssertionError(describe(refusal.iq)) from None
            answered_after = time.monotonic() - killed
        print(f"failover: {moved} answered again {answered_after:.1f} s after kill -9 "
              f"(bound {FAILOVER_BOUND:.0f} s); {posted} messages in {survivor} meanwhile")
        assert answered_after <= FAILOVER_BOUND
        status, health = p4.health()
        assert status == 200 and health["slot"] == {"state": "holding", "holder":
                                                    health["slot"]["holder"], "token": 2}, health

        # The occupants are unknown to the new process, which tells each
        # session the dead one listed what a clean stop would have (332):
        # clients without a self-ping (Gajim) rejoin on that.
        for client, nick in ((bob, "Bob"), (alice, "Alice")):
            gone = await client.expect_self_presence(occupant(moved_jid, nick), "unavailable",
                                                     timeout=5)
            assert 332 in status_codes(gone), describe(gone)
        told = re.findall(r"told (\d+) sessions of a former holder", p4.log_tail(400))
        assert sum(map(int, told)) == 2 * len(by_slot[2]), p4.log_tail(40)
        assert listed(fleet.url, moved_jid) == []  # told: the dead one's list is gone
        # And a self-ping says the same.
        for client, nick in ((bob, "Bob"), (alice, "Alice")):
            refusal = await client.request_error(occupant(moved_jid, nick), PING)
            assert error_condition(refusal) == "not-acceptable", describe(refusal)
        bob.send_message(moved_jid, "am I still in?")
        error = await bob.expect_message(frm=moved_jid, type="error")
        assert error_condition(error) == "not-acceptable", describe(error)

        assert await room_name(alice, moved_jid) == f"Room {moved}"
        mine = await enter(alice, moved_jid, "Alice")
        assert {"affiliation": "owner"}.items() <= _item(mine).items(), describe(mine)
        again = await enter(bob, moved_jid, "Bob")
        assert occupant_id(again) == ids[moved]
        assert hats_of(again) == [(TEACHER, "Teacher")], describe(again)
        assert _item(again)["affiliation"] == "member"
        lists = await affiliations_of(alice, moved_jid, "owner", "member")
        assert [i["jid"] for i in lists["owner"]] == ["alice@localhost"]
        assert [i["jid"] for i in lists["member"]] == ["bob@localhost"]
        page = await whole_archive(bob, moved_jid)
        assert [b for b in page.bodies if b and b.startswith("before")] == said, page.describe()
        await talk(alice, bob, moved_jid, "after the move")
        for name in by_slot[1] + by_slot[3]:  # the others' rooms, occupants and all
            await talk(alice, bob, f"{name}@{service}", f"still in {name}")

    play(ejabberd, body)


def listed(url: str, room_jid: str) -> list:
    """The nicks the database lists in ``room_jid`` (``muc_occupants``)."""
    import psycopg
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(
            "SELECT nick FROM muc_occupants WHERE room_jid = %s ORDER BY nick", (room_jid,))]


def _item(presence) -> dict:
    item = presence.xml.find("{http://jabber.org/protocol/muc#user}x/"
                             "{http://jabber.org/protocol/muc#user}item")
    assert item is not None, describe(presence)
    return dict(item.attrib)


def test_the_killed_process_restarted_is_a_standby_and_does_not_connect(ejabberd, fleet, slots):
    line = f"Accepted external component handshake authentication for {ejabberd.component_domain}"
    accepted = ejabberd.log_text().count(line)
    p2 = fleet.start("p2", holder=False)
    time.sleep(RENEWAL * 1.5)  # it tries again, and still finds every token held
    status, body = p2.health()
    assert status == 200 and body["slot"]["state"] == "standby" and \
        body["component"]["state"] == "down", body
    assert ejabberd.log_text().count(line) == accepted, "the standby connected"
    service = ejabberd.component_domain
    moved = sorted(r for r in ROOMS if slots[r] == 2)[0]

    async def body_(alice, bob):
        jid = f"{moved}@{service}"
        await enter(alice, jid, "Alice")
        await enter(bob, jid, "Bob")
        await talk(alice, bob, jid, "served once")
        assert bob.unclaimed(lambda s: s.xml.findtext("{jabber:client}body") == "served once") == []

    play(ejabberd, body_)


def test_a_room_api_request_is_answered_only_by_the_process_serving_the_room(ejabberd, fleet,
                                                                            slots):
    """Every holder read every persistent room (p4 when it took over), but
    answers the room APIs only about its own: about another's it sends the
    caller on (421), so no stale copy is written over the database's."""
    by_slot = {slot: sorted(r for r in ROOMS if slots[r] == slot) for slot in range(1, SLOTS + 1)}
    holders = {1: fleet.processes["p1"], 2: fleet.processes["p4"], 3: fleet.processes["p3"]}
    for slot, process in holders.items():
        assert fleet.rooms_of(process) == set(by_slot[slot]), slot
    admin = {"Authorization": ADMIN_HEADER}
    mine, theirs = holders[1], holders[3]
    name = by_slot[1][0]
    rename = {"options": {"name": "Renamed where it is served"}}
    status, body = theirs.http("POST", f"/muc_admin/rooms/{name}/config", json_body=rename,
                               headers=admin)
    assert status == 421 and f"{name}@{ejabberd.component_domain}".encode() in body, body
    status, body = mine.http("POST", f"/muc_admin/rooms/{name}/config", json_body=rename,
                             headers=admin)
    assert status == 200, body
    kick = {"nickname": "Bob", "muc": f"{name}@{ejabberd.component_domain}"}
    status, body = theirs.http("POST", "/muc_kick", json_body=kick,
                               headers={"Authorization": KICK_AUTHORIZATION})
    assert status == 421, body
    # A new room is made where ejabberd will send its stanzas, and nowhere else.
    new = next(f"fresh{n}" for n in range(100)
               if ejabberd.room_slots([f"fresh{n}"])[f"fresh{n}"] == 3)
    creation = {"room": new, "owner": "alice@localhost", "options": {"persistent": True}}
    status, body = mine.http("POST", "/muc_admin/rooms", json_body=creation, headers=admin)
    assert status == 421, body
    status, body = theirs.http("POST", "/muc_admin/rooms", json_body=creation, headers=admin)
    assert status == 201, body
    service = ejabberd.component_domain

    async def body_(alice, bob):
        assert await room_name(bob, f"{name}@{service}") == "Renamed where it is served"
        await enter(alice, f"{new}@{service}", "Alice")  # served by theirs, as created

    play(ejabberd, body_)
    assert new in fleet.rooms_of(theirs) and new not in fleet.rooms_of(mine)


def test_a_paused_holder_on_waking_hands_its_slot_to_the_process_that_took_its_token(
        ejabberd, fleet, slots):
    """SIGSTOP of the holder of slot 2 (p4, since the kill): its TCP
    connection stays open, so ejabberd keeps the slot for it. Its lease
    runs out and the standby p2 takes the token and connects, but that is a
    connection beyond the slots: it gets nothing, and the rooms are silent.
    On SIGCONT p4 finds itself fenced later than the lease: it closes its
    connection and asks the token's holder to connect again; p2 releases
    the token and stops (a supervisor's job to start it again: here, the
    test's). The next start takes the token and the slot, freshly read
    rooms and all."""
    service = ejabberd.component_domain
    moved = sorted(r for r in ROOMS if slots[r] == 2)[0]
    moved_jid = f"{moved}@{service}"
    p2, p4 = fleet.processes["p2"], fleet.processes["p4"]
    os.kill(p4._process.pid, signal.SIGSTOP)
    try:
        def took_over() -> bool:
            status, body = p2.health()
            return body["slot"]["state"] == "holding" and body["component"]["state"] == "up"
        assert wait_until(took_over, LEASE + 2 * RENEWAL + 5), p2.diagnostics()

        async def stranded(alice, bob):
            try:
                reply = await alice.request(moved_jid, DISCO, timeout=2)
            except StanzaTimeout:
                return
            raise AssertionError(f"answered by a connection beyond the slots:\n{describe(reply)}")
        play(ejabberd, stranded)
    finally:
        os.kill(p4._process.pid, signal.SIGCONT)
    woke = time.monotonic()
    assert wait_until(lambda: p4.returncode is not None, 10), p4.diagnostics()
    assert wait_until(lambda: p2.returncode is not None, RENEWAL + 10), p2.diagnostics()
    assert "asking the process that took slot token 2 to connect again" in p4.log_tail(200)
    fleet.start("p2", holder=True)  # the supervisor
    print(f"paused holder: the slot served again {time.monotonic() - woke:.1f} s after SIGCONT")

    async def back(alice, bob):
        await room_name(alice, moved_jid)
        await enter(alice, moved_jid, "Alice")
        await enter(bob, moved_jid, "Bob")
        await talk(alice, bob, moved_jid, "back after the pause")
        page = await whole_archive(bob, moved_jid)
        assert "after the move" in page.bodies and "served once" in page.bodies, page.describe()

    play(ejabberd, back)
    fleet.start("p4", holder=False)


def test_a_clean_stop_hands_its_rooms_over_before_its_occupants_come_back(ejabberd, fleet,
                                                                        slots):
    """SIGTERM of p1 while Alice and Bob are in one of its rooms: they hear
    332 from p1 (clients join again on it: Gajim 2 s later, once), p1
    releases its token once its link is closed, and the standby p4, which
    claims every half second, serves the room before that rejoin. p1 told
    its occupants itself: p4 tells them nothing more."""
    service = ejabberd.component_domain
    name = sorted(r for r in ROOMS if slots[r] == 1)[0]
    room_jid = f"{name}@{service}"
    p1, p4 = fleet.processes["p1"], fleet.processes["p4"]

    async def body(alice, bob):
        await enter(alice, room_jid, "Alice")
        await enter(bob, room_jid, "Bob")
        assert wait_until(lambda: listed(fleet.url, room_jid) == ["Alice", "Bob"], 10)
        os.kill(p1._process.pid, signal.SIGTERM)
        stopped = time.monotonic()
        gone = await bob.expect_self_presence(occupant(room_jid, "Bob"), "unavailable")
        assert 332 in status_codes(gone), describe(gone)
        while True:
            try:
                await alice.request(room_jid, DISCO, timeout=0.25)
                break
            except StanzaTimeout:
                assert time.monotonic() - stopped < 10, p4.diagnostics()
        served = time.monotonic() - stopped
        print(f"clean stop: {name} served by the standby {served:.2f} s after SIGTERM")
        assert served < 2 + 3  # Gajim's one rejoin comes 2 s after the 332
        await enter(bob, room_jid, "Bob")  # as a client does on the 332

    play(ejabberd, body)
    assert wait_until(lambda: p1.returncode is not None, 15), p1.diagnostics()
    told = re.findall(r"told (\d+) sessions of a former holder", p4.log_since(0))
    assert told[-1:] == ["0"] or not told, p4.log_tail(40)
