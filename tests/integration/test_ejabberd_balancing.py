"""Several ``twistd muc`` processes serving one MUC domain behind ejabberd.

ejabberd 23.01 accepts several XEP-0114 connections for one component
domain; with ``domain_balancing: {muc.localhost: {type: bare_destination,
component_number: 3}}`` it keeps three connection slots and sends every
stanza for one bare JID (one room, and its occupants) to the slot
``phash2({room, domain, ""}, 3) + 1``. The hash is modulo the configured
``component_number``, never the number of live connections: rooms do not
move when a connection goes, and the stanzas for a dead slot are dropped
without an error until a new connection takes the slot. These tests pin
that behaviour, with three processes that share the service secret file
(so occupant ids agree) but each keep their own SQLite file (rooms made in
one are unknown to another: that takes the shared database).

The module has its own ejabberd and processes; its tests run in order and
build on one another's state (the second kills a process of the first).
"""

from __future__ import annotations

import re

import pytest

from tests.integration.ejabberd import EjabberdServer
from tests.integration.fleet import Fleet
from tests.integration.muc_process import MucProcess
from tests.integration.muc_scenarios import PING_NS, body_of, create_room, enter, occupant
from tests.integration.ports import wait_until
from tests.integration.stanzas import describe, error_condition, occupant_id
from tests.integration.xmpp_client import (
    DEFAULT_PASSWORD,
    StanzaErrorReply,
    StanzaTimeout,
    all_logged_in,
    run,
)

SLOTS = 3
ROOMS = [f"room{index}" for index in range(12)]
ADMIN_HEADER = "Bearer balancing-admin"
# How long a test waits for an answer that must not come: the stanzas go
# through one loopback ejabberd, where an answer takes milliseconds.
SILENCE = 2.0
PING = f"<ping xmlns='{PING_NS}'/>"


@pytest.fixture(scope="module")
def ejabberd(tmp_path_factory):
    server = EjabberdServer(tmp_path_factory.mktemp("ejabberd"), component_number=SLOTS)
    server.start()
    for user in ("alice", "bob"):
        server.register(user, DEFAULT_PASSWORD)
    yield server
    server.stop()


class Balanced(Fleet):
    """The processes of this module: one secret file for all, a storage
    file each."""

    def __init__(self, server: EjabberdServer, workdir):
        super().__init__(server, workdir, ADMIN_HEADER)
        self.secret_file = workdir / "service.secret"

    def start(self, name: str) -> MucProcess:
        """Start one more process; return once ejabberd accepted its link.

        Processes start one at a time: the slot a connection takes is
        decided when it authenticates, and the secret file is made by the
        first one."""
        process = MucProcess(
            self.workdir / name,
            self.server,
            service_secret_file=str(self.secret_file),
            http_muc_admin_authorization_header=ADMIN_HEADER,
        )
        self.processes[name] = process
        process.start()
        return process


@pytest.fixture(scope="module")
def fleet(ejabberd, tmp_path_factory):
    fleet = Balanced(ejabberd, tmp_path_factory.mktemp("fleet"))
    try:
        for name in ("p1", "p2", "p3"):
            fleet.start(name)
        yield fleet
    finally:
        fleet.stop_all()


@pytest.fixture(scope="module")
def slots(ejabberd, fleet):
    """Room local part -> the slot ejabberd's hash gives it (1..3)."""
    return ejabberd.room_slots(ROOMS)


def room(service: str, name: str) -> str:
    return f"{name}@{service}"



def received_total(process: MucProcess) -> int:
    """``mucsvc_stanzas_received_total`` over every kind, from /metrics."""
    status, text = process.http("GET", "/metrics")
    assert status == 200, text
    counts = re.findall(rb'^mucsvc_stanzas_received_total\{kind="\w+"\} (\d+)', text, re.M)
    return sum(int(count) for count in counts)


async def silent(client, to: str, payload: str = PING) -> None:
    """An IQ to ``to`` gets no answer at all, neither result nor error."""
    try:
        reply = await client.request(to, payload, timeout=SILENCE)
    except StanzaTimeout:
        return
    except StanzaErrorReply as refusal:
        raise AssertionError(f"expected silence, got an error:\n{describe(refusal.iq)}") from None
    raise AssertionError(f"expected silence, got a result:\n{describe(reply)}")


def play(server, body) -> None:
    """``await body(alice, bob)`` with both logged in to ``server``."""

    async def main():
        async with all_logged_in(server, "alice", "bob") as clients:
            await body(*clients)

    run(main(), timeout=120)


async def talk(alice, bob, room_jid: str, line: str) -> None:
    """Alice says ``line`` in the room; Bob, an occupant, receives it."""
    alice.send_message(room_jid, line)
    await bob.expect_message(frm=f"{room_jid}/Alice", type="groupchat", body=line)


# ---- 1. the spread -------------------------------------------------------------------


def test_ejabberd_accepts_one_connection_per_slot_for_one_domain(ejabberd, fleet):
    line = f"Accepted external component handshake authentication for {ejabberd.component_domain}"

    def accepted() -> int:
        return ejabberd.log_text().count(line)

    wait_until(lambda: accepted() >= SLOTS, 10)  # ejabberd writes its log a little later
    assert accepted() == SLOTS, ejabberd.log_tail()
    for process in fleet.processes.values():
        assert process.health()[0] == 200, process.diagnostics()


def test_rooms_spread_over_the_processes_by_a_hash_of_the_room_jid(ejabberd, fleet, slots):
    """Twelve rooms, each created by Alice and joined by Bob, each carrying
    a message both ways. Every process serves some; which one is exactly
    the slot ``phash2(bare room JID, component_number) + 1``, slots taken
    by the processes in the order they connected. ejabberd's own MUC on
    the same server does the same conversation as the reference."""
    service = ejabberd.component_domain

    async def body(alice, bob):
        for name in ROOMS + ["reference"]:
            where = service if name != "reference" else ejabberd.reference_muc
            jid = room(where, name)
            await create_room(alice, jid, "Alice")
            await enter(bob, jid, "Bob")
            await talk(alice, bob, jid, f"hello {name}")
            bob.send_message(jid, f"back in {name}")
            await alice.expect_message(frm=f"{jid}/Bob", type="groupchat", body=f"back in {name}")

        served = {name: fleet.rooms_of(process) for name, process in fleet.processes.items()}
        expected = {f"p{slot}": {r for r in ROOMS if slots[r] == slot} for slot in range(1, SLOTS + 1)}
        print("rooms by process:", {name: sorted(rooms) for name, rooms in served.items()})
        assert served == expected, (served, slots)
        assert all(served.values()), f"a process serves no room: {served}"

    play(ejabberd, body)


@pytest.mark.parametrize("where", ["ours", "ejabberd"])
def test_a_self_ping_from_outside_a_room_says_whether_the_room_exists(ejabberd, fleet, slots, where):
    """XEP-0410 answers to a client that is not (or no longer) an occupant,
    as a room that moved to another process answers it: ``not-acceptable``
    where the room exists (the client rejoins), ``item-not-found`` where
    it does not. ejabberd's mod_muc answers the same."""
    service = ejabberd.component_domain if where == "ours" else ejabberd.reference_muc
    name = sorted(r for r in ROOMS if slots[r] == 3)[0]
    existing, missing = room(service, name), room(service, "nowhere")

    async def body(alice, bob):
        await create_room(alice, existing, "Alice")
        outside = await bob.request_error(occupant(existing, "Bob"), PING)
        assert error_condition(outside) == "not-acceptable", describe(outside)
        nowhere = await bob.request_error(occupant(missing, "Bob"), PING)
        assert error_condition(nowhere) == "item-not-found", describe(nowhere)

    play(ejabberd, body)


# ---- 2. a process dies --------------------------------------------------------------------


def test_a_killed_process_leaves_its_rooms_silent_and_a_new_one_takes_its_slot(ejabberd, fleet, slots):
    """``kill -9`` of the process in slot 2, as ejabberd 23.01 handles it:

    - the stanzas for its rooms are dropped by ejabberd: an IQ to the room,
      a XEP-0410 self-ping and a message get no answer and no error, and
      no other process receives them (ejabberd keeps the slot, without a
      connection, and routes to it); its occupants are told nothing;
    - the other processes keep their rooms, occupants and all, and serve
      them as before: nothing is remapped;
    - a process started next takes the free slot and receives exactly the
      dead one's rooms. It cannot know them before a stanza comes (here
      it has its own storage, so they are new to it: a returning occupant
      re-creates the room). Bob's self-ping now gets ``item-not-found``
      (the room does not exist there), which XEP-0410 reads as "still
      joined, under another nick": a self-pinging client does not rejoin
      by itself. Bob rejoins and keeps his occupant id, as every process
      derives it from the one secret.
    """
    service = ejabberd.component_domain
    by_slot = {slot: sorted(r for r in ROOMS if slots[r] == slot) for slot in range(1, SLOTS + 1)}
    moved, kept = by_slot[2][0], [by_slot[1][0], by_slot[3][0]]
    moved_jid = room(service, moved)
    p1, p2, p3 = (fleet.processes[name] for name in ("p1", "p2", "p3"))

    async def body(alice, bob):
        ids = {}
        for name in [moved, *kept]:
            jid = room(service, name)
            await create_room(alice, jid, "Alice")
            ids[name] = occupant_id(await enter(bob, jid, "Bob"))
            await talk(alice, bob, jid, f"before, in {name}")
        assert ids[moved], "the room stamps no occupant id"

        p2.kill()
        survivors_before = {name: received_total(p) for name, p in (("p1", p1), ("p3", p3))}
        await silent(bob, occupant(moved_jid, "Bob"))
        await silent(bob, moved_jid, f"<query xmlns='http://jabber.org/protocol/disco#info'/>")
        alice.send_message(moved_jid, "into the void")
        await silent(alice, occupant(moved_jid, "Alice"))
        assert bob.unclaimed(lambda s: body_of(s) == "into the void") == []
        assert {name: received_total(p) for name, p in (("p1", p1), ("p3", p3))} == survivors_before, (
            "a stanza for the dead process's room reached another process"
        )
        left = bob.unclaimed(lambda s: str(s["from"]).startswith(moved_jid) and s["type"] == "unavailable")
        assert left == [], "occupants were told something when the process died"

        for name in kept:
            await talk(alice, bob, room(service, name), f"after, in {name}")
        assert fleet.rooms_of(p1) == {kept[0]} and fleet.rooms_of(p3) == {kept[1]}

        p4 = fleet.start("p4")
        assert fleet.rooms_of(p4) == set()
        refusal = await bob.request_error(occupant(moved_jid, "Bob"), PING)
        assert error_condition(refusal) == "item-not-found", describe(refusal)
        again = await create_room(bob, moved_jid, "Bob")
        assert occupant_id(again) == ids[moved]
        assert fleet.rooms_of(p4) == {moved}
        for name in kept:
            await talk(alice, bob, room(service, name), f"still, in {name}")
        assert fleet.rooms_of(p1) == {kept[0]} and fleet.rooms_of(p3) == {kept[1]}

    play(ejabberd, body)


# ---- 3. a connection more than the slots ----------------------------------------------------


def test_a_connection_beyond_component_number_gets_nothing_even_when_a_slot_frees(ejabberd, fleet, slots):
    """A fourth live connection for three slots (p1, p3 and p4 hold them)
    is accepted, and its link is up, but ejabberd routes nothing to it;
    it does not take a slot that frees later either (a connection's slot
    is chosen once, when it authenticates). A hot standby connected in
    advance is no failover: the replacement must connect after the slot
    is free."""
    service = ejabberd.component_domain
    p5 = fleet.start("p5")
    assert p5.health()[0] == 200
    baseline = received_total(p5)
    slot1 = sorted(r for r in ROOMS if slots[r] == 1)

    async def body(alice, bob):
        for name in ROOMS:
            try:
                await alice.disco_info(room(service, name))
            except StanzaErrorReply:
                pass  # answered (the room does not exist there): not by p5
        assert received_total(p5) == baseline

        fleet.processes["p1"].kill()
        for name in slot1:
            await silent(alice, room(service, name), f"<query xmlns='http://jabber.org/protocol/disco#info'/>")
        assert received_total(p5) == baseline

    play(ejabberd, body)


def test_the_slot_freed_first_is_taken_first(ejabberd, fleet, slots):
    """Slot 1 is free (its process was killed above); now slot 3's process
    dies too. The next process to connect takes slot 1, the one freed
    first, and the one after it slot 3: a returning process does not get
    "its" slot back, it gets the one freed longest ago. With a store per
    process, a process restarted while another is down can so come back
    serving the other's rooms: persistent rooms need the shared store."""
    service = ejabberd.component_domain
    first = {slot: sorted(r for r in ROOMS if slots[r] == slot)[0] for slot in (1, 3)}
    disco = "<query xmlns='http://jabber.org/protocol/disco#info'/>"
    fleet.processes["p3"].kill()
    p6 = fleet.start("p6")

    async def body(alice, bob):
        await silent(alice, room(service, first[3]), disco)
        await create_room(alice, room(service, first[1]), "Alice")
        assert fleet.rooms_of(p6) == {first[1]}
        p7 = fleet.start("p7")
        await create_room(alice, room(service, first[3]), "Alice")
        assert fleet.rooms_of(p7) == {first[3]}
        assert fleet.rooms_of(p6) == {first[1]}

    play(ejabberd, body)


# ---- 4. the configuration it needs ------------------------------------------------------------


def test_balancing_without_component_number_drops_every_connection(tmp_path):
    """``domain_balancing`` with a ``type`` and no ``component_number``:
    ejabberd 23.01 accepts the handshake, then its connection process
    crashes (``{badkey, component_number}``) and the link never stays up."""
    server = EjabberdServer(tmp_path / "ejabberd", component_number=None)
    server.start()
    try:
        process = MucProcess(tmp_path / "muc", server)
        process.start_unchecked()
        try:
            assert wait_until(lambda: "{badkey,component_number}" in server.log_text(), 20), server.log_tail()
            process.wait_for_health(503, timeout=10)
        finally:
            process.stop()
    finally:
        server.stop()
