"""Faults around the service: the host server restarting again and again
under load, ``twistd muc`` killed (SIGKILL) in the middle of a burst of
acknowledged changes, and stopped (SIGTERM) with occupants in its rooms.

What must hold each time is what a user or an operator sees: the component
comes back by itself in the same process (``/health``, ``/metrics``), the
service answers through Prosody, a persistent room keeps its configuration,
affiliations, subject, hats and history, nothing acknowledged is lost, and
the storage file stays sound (``SQLiteRoomStore.check_integrity``).

This module restarts its Prosody, so it has one of its own (the fixtures
are per module); each test runs its own service with its own storage file.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time

import pytest

from mucsvc.storage.sqlite import SQLiteRoomStore
from tests.integration.muc_process import MucProcess
from tests.integration.muc_scenarios import (
    admin_item,
    affiliation_list,
    affiliations_of,
    body_of,
    config_submission,
    create_room,
    delay_of,
    error_text,
    hats_api,
    hats_of,
    join_and_read,
    occupant,
    owner_form,
    owner_query,
    room_name,
    status_code_list,
    subject_of,
    summary,
)
from tests.integration.ports import wait_until
from tests.integration.stanzas import MUC_USER_NS, describe, error_condition
from tests.integration.xmpp_client import (
    DEFAULT_PASSWORD,
    LoginFailed,
    StanzaErrorReply,
    XmppClient,
    all_logged_in,
    logged_in,
    run,
)

USERS = ("alice", "bob", "carol", "dave", "erin")
HATS_AUTHORIZATION = "Bearer faults-hats"
TEACHER = "http://example.org/hats/teacher"

#: How soon after Prosody is back the link must be up again: the backoff's
#: cap (5 s) plus slack for this shared machine.
RECONNECT_TIMEOUT = 12.0


@pytest.fixture
def service(own_service):
    """A ``twistd muc`` of this test alone (own storage), hats API on, and a
    generous event rate so that the load of test 1 is not throttled."""
    return own_service(http_muc_hats_authorization_header=HATS_AUTHORIZATION, muc_event_rate=50)


@pytest.fixture
def plain_service(own_service):
    """A ``twistd muc`` of this test alone with the default settings."""
    return own_service()


# ---- requests and readers -------------------------------------------------------------


async def health_when(service: MucProcess, reconnects: int, timeout: float) -> tuple[dict, float]:
    """Poll ``/health`` (off the event loop) until it answers 200 with this
    reconnect count; return its body and how long that took."""
    started = time.monotonic()
    last: list = ["no answer"]

    def up_again() -> bool:
        try:
            last[0] = service.health()
        except OSError as error:
            last[0] = error
            return False
        code, body = last[0]
        return code == 200 and body.get("component", {}).get("reconnects") == reconnects

    ok = await asyncio.to_thread(wait_until, up_again, timeout, 0.05)
    assert ok, (f"/health not 200 with {reconnects} reconnects within {timeout:g}s; last: {last[0]!r}\n"
                f"{service.diagnostics()}")
    return last[0][1], time.monotonic() - started


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert match, f"no {name} in /metrics:\n{text}"
    return float(match.group(1))


def integrity_of(path) -> str:
    store = SQLiteRoomStore(path)
    try:
        return store.check_integrity()
    finally:
        store.close()


# ---- 1. ten host restarts under load ------------------------------------------------------

RESTARTS = 10
LOAD_INTERVAL = 0.1  # seconds between two messages of the load client
LOAD_LIMIT = 800  # messages at most, whatever happens
ECHOES_PER_LINK = 3  # the load flows on each connection before Prosody goes
#: Prosody's answer to a stanza for a component whose link is down: the
#: load may race Prosody's shutdown (which closes the component first).
COMPONENT_GONE = ("remote-server-timeout", "Component unavailable")


class Load:
    """A client talking in ``room`` at a steady pace, logging in again (with a
    new resource) whenever Prosody drops it, until stopped or out of messages.

    ``echoed`` are the numbers of its messages the room reflected back, in
    order of arrival; ``links`` counts its connections; ``refusals`` are the
    error stanzas it got (none are expected).
    """

    def __init__(self, prosody, user: str, room: str, nick: str):
        self.prosody = prosody
        self.user = user
        self.room = room
        self.nick = nick
        self.sent = 0
        self.echoed: list[int] = []
        self.links = 0
        self.link_echoes = 0  # echoes on the current connection
        self.refusals: list[str] = []
        self.bounced = 0
        self.stopping = asyncio.Event()
        self.progress = asyncio.Event()

    async def wait_for_echoes(self, count: int, *, after: int, timeout: float = 20.0) -> None:
        """Until a connection later than the ``after``-th has had ``count`` echoes."""
        deadline = time.monotonic() + timeout
        while self.links <= after or self.link_echoes < count:
            remaining = deadline - time.monotonic()
            assert remaining > 0, (f"the load got {self.link_echoes} echoes on connection {self.links} "
                                   f"within {timeout:g}s (sent {self.sent}, refusals {self.refusals})")
            self.progress.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.progress.wait(), remaining)

    async def run(self, deadline: float) -> None:
        while not self.stopping.is_set() and self.sent < LOAD_LIMIT:
            assert time.monotonic() < deadline, f"the load could not get back in (sent {self.sent})"
            client = XmppClient(f"{self.user}@{self.prosody.host}/load{self.links + 1}", DEFAULT_PASSWORD,
                                port=self.prosody.c2s_port)
            try:
                await client.login(timeout=5)
            except LoginFailed:
                # Prosody is restarting: poll again shortly.
                await asyncio.sleep(0.1)
                continue
            self.links += 1
            self.link_echoes = 0
            try:
                await self._talk(client)
            finally:
                await client.abort()

    async def _talk(self, client: XmppClient) -> None:
        lost = asyncio.Event()
        mine = occupant(self.room, self.nick)

        def arrived(stanza):
            if stanza.xml.get("type") == "error":
                if (error_condition(stanza), error_text(stanza)) == COMPONENT_GONE:
                    self.bounced += 1  # sent as Prosody was shutting down
                else:
                    self.refusals.append(describe(stanza))
            elif (stanza.xml.get("from") == mine and (body_of(stanza) or "").startswith("load-")
                  and delay_of(stanza) is None):  # not the history replayed on joining
                self.echoed.append(int(body_of(stanza)[5:]))
                self.link_echoes += 1
                self.progress.set()
            return stanza

        client.xmpp.add_event_handler("disconnected", lambda _: lost.set())
        # Prosody may be back before the component is: poll the room first.
        while True:
            try:
                await client.disco_info(self.room, timeout=5)
                break
            except StanzaErrorReply:
                if lost.is_set():
                    return
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(lost.wait(), 0.1)
        client.xmpp.add_filter("in", arrived)
        client.join(mine)
        try:
            await client.expect_self_presence(mine, None, timeout=5)
        except AssertionError:
            if lost.is_set():
                return  # Prosody went away while we were joining
            raise
        while not lost.is_set() and not self.stopping.is_set() and self.sent < LOAD_LIMIT:
            self.sent += 1
            client.send_message(self.room, f"load-{self.sent}")
            # The pace of the load; returns early when the link drops.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(lost.wait(), LOAD_INTERVAL)
        if not lost.is_set():
            await client.logout()


def test_ten_host_restarts_under_load_leave_the_room_intact(prosody, users, service):
    room = f"steady@{service.jid}"
    options = {
        "muc#roomconfig_roomname": "Steady Room",
        "muc#roomconfig_roomdesc": "Through thick and thin",
        "muc#roomconfig_persistentroom": "1",
        "muc#roomconfig_publicroom": "1",
        "muc#roomconfig_changesubject": "0",
        "muc#roomconfig_historylength": "30",
        "muc#roomconfig_whois": "anyone",
        "muc#roomconfig_maxusers": "40",
    }
    hat = {TEACHER: {"active": True, "required": True, "title": "Teacher"}}
    timings: list[float] = []

    async def furnish():
        async with all_logged_in(prosody, "alice", "bob") as (alice, bob):
            await create_room(alice, room, "Alice", instant=False)
            await alice.request(room, config_submission(options), type="set")
            await alice.request(room, admin_item(jid=bob.bare_jid, affiliation="member", nick="Bob"),
                                type="set")
            await alice.request(room, admin_item(jid="carol@localhost", affiliation="outcast",
                                                 reason="Spam"), type="set")
            alice.send_message(room, subject="Steady subject")
            await alice.expect_message(frm=occupant(room, "Alice"), where=lambda s: subject_of(s) == "Steady subject")
            code, answer = await hats_api(service, "PUT", f"/muc_hats?user={bob.bare_jid}&muc={room}",
                                          {"hats": hat})
            assert (code, answer) == (200, {"hats": hat}), answer
            return owner_form(await alice.request(room, owner_query()))

    async def restarts(load: Load):
        pid = service.pid
        for restart in range(1, RESTARTS + 1):
            await load.wait_for_echoes(ECHOES_PER_LINK, after=restart - 1)
            prosody_pid = prosody.pid
            await asyncio.to_thread(prosody.restart)
            assert prosody.pid != prosody_pid
            body, took = await health_when(service, restart, RECONNECT_TIMEOUT)
            timings.append(took)
            assert body["component"]["state"] == "up", body
            assert service.pid == pid, "the service restarted instead of reconnecting\n" + service.diagnostics()
            # A client that logs in now is served by the room.
            async with logged_in(prosody, "erin", resource=f"check{restart}") as erin:
                assert await room_name(erin, room) == "Steady Room"
        await load.wait_for_echoes(ECHOES_PER_LINK, after=RESTARTS)

    async def check(form):
        async with all_logged_in(prosody, "alice", "bob", "carol") as (alice, bob, carol):
            assert await room_name(carol, room) == "Steady Room"
            _, traffic = await join_and_read(alice, room, "Alice")
            assert owner_form(await alice.request(room, owner_query())) == form
            assert await affiliations_of(alice, room, "member", "outcast", "owner") == {
                "member": [{"affiliation": "member", "jid": bob.bare_jid, "nick": "Bob"}],
                "outcast": [{"affiliation": "outcast", "jid": carol.bare_jid}],
                "owner": [{"affiliation": "owner", "jid": alice.bare_jid}],
            }
            subject = traffic[-1]
            assert (subject.xml.get("from"), subject_of(subject)) == (
                occupant(room, "Alice"), "Steady subject"), summary(traffic)
            # The history is the load's last messages, in order, up to the last
            # one the room reflected.
            history = [int(body_of(s)[5:]) for s in traffic if (body_of(s) or "").startswith("load-")]
            assert history and history == sorted(set(history)), history
            assert load.echoed[-1] in history, (load.echoed[-1], history)

            assert await hats_api(service, "GET", f"/muc_hats?user={bob.bare_jid}&muc={room}") == (
                200, {"hats": hat})
            _, _ = await join_and_read(bob, room, "Bob")
            seen = await alice.expect_presence(frm=occupant(room, "Bob"), type=None)
            assert hats_of(seen) == [(TEACHER, "Teacher")], describe(seen)

            carol.join(occupant(room, "Carol"))
            refused = await carol.expect_presence(frm=occupant(room, "Carol"), type="error")
            assert error_condition(refused) == "forbidden", describe(refused)

    load = Load(prosody, "dave", room, "Load")

    async def main():
        form = await furnish()
        loading = asyncio.create_task(load.run(time.monotonic() + 120))
        try:
            await restarts(load)
        finally:
            load.stopping.set()
            await asyncio.wait_for(loading, 10)
        await check(form)

    run(main(), timeout=150)

    assert load.refusals == [], load.refusals
    assert load.links == RESTARTS + 1, load.links
    code, text = service.http("GET", "/metrics")
    assert code == 200
    assert metric(text.decode(), "mucsvc_component_reconnects_total") == RESTARTS
    assert metric(text.decode(), "mucsvc_component_link_up") == 1
    print(f"\nreconnected after a Prosody restart in: median {statistics.median(timings):.2f} s, "
          f"max {max(timings):.2f} s; load sent {load.sent}, echoed {len(load.echoed)}, "
          f"bounced by Prosody {load.bounced}")


# ---- 2. SIGKILL in a burst of changes -----------------------------------------------------

CHANGES = 40  # config submissions, each followed by an affiliation change
WINDOW = 8  # requests in flight at once
KILL_AFTER = 20  # results


def test_sigkill_during_a_burst_of_changes_loses_nothing_acknowledged(prosody, users, plain_service):
    service = plain_service
    room = f"burst@{service.jid}"
    storage = service.settings["storage"]

    def requests():
        """``(kind, n, payload)``: name-n, then member user-n, for n = 1..CHANGES."""
        for n in range(1, CHANGES + 1):
            yield "name", n, config_submission({"muc#roomconfig_roomname": f"name-{n}"})
            yield "member", n, admin_item(jid=f"user-{n}@localhost", affiliation="member")

    async def main():
        async with all_logged_in(prosody, "alice") as (alice,):
            await create_room(alice, room, "Alice", instant=False)
            await alice.request(room, config_submission({
                "muc#roomconfig_persistentroom": "1", "muc#roomconfig_roomname": "name-0"}), type="set")

            acknowledged: list[tuple[str, int]] = []
            refused: list[str] = []
            pending: set[asyncio.Task] = set()
            killed = asyncio.Event()
            queue = iter(requests())
            state = {"sent": 0, "in_flight_at_kill": 0}

            async def one(kind, n, payload):
                try:
                    await alice.request(room, payload, type="set", timeout=10)
                except (StanzaErrorReply, AssertionError) as failure:
                    if not killed.is_set():
                        refused.append(str(failure))
                    return
                # Results the service sent just before it died count too.
                acknowledged.append((kind, n))
                if killed.is_set():
                    return
                if len(acknowledged) == KILL_AFTER:
                    state["in_flight_at_kill"] = state["sent"] - len(acknowledged) - len(refused)
                    service.kill()
                    killed.set()
                    return
                send_next()

            def send_next():
                for kind, n, payload in queue:
                    state["sent"] += 1
                    task = asyncio.create_task(one(kind, n, payload))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
                    return

            for _ in range(WINDOW):
                send_next()
            await asyncio.wait_for(killed.wait(), 30)
            assert refused == [], refused
            # What was in flight is either answered (sent before the kill) or
            # bounced by Prosody, the component being gone.
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 15)
            assert state["in_flight_at_kill"] > 0, "nothing was in flight when the service was killed"

            assert await asyncio.to_thread(integrity_of, storage) == "ok"
            await asyncio.to_thread(service.start)

            named = max(n for kind, n in acknowledged if kind == "name")
            members = {f"user-{n}@localhost" for kind, n in acknowledged if kind == "member"}
            name = await room_name(alice, room)
            assert name is not None and name.startswith("name-"), name
            stored_name = int(name[5:])
            assert stored_name >= named, f"the room is called {name}, but name-{named} was acknowledged"

            listed = await affiliation_list(alice, room, "member")
            stored_members = {item["jid"] for item in listed}
            assert members <= stored_members, f"acknowledged members lost: {sorted(members - stored_members)}"
            # Changes are kept in the order they were made: what survived is
            # a prefix of the sequence (name-1, user-1, name-2, user-2, ...).
            count = len(stored_members)
            assert stored_members == {f"user-{n}@localhost" for n in range(1, count + 1)}, sorted(stored_members)
            assert stored_name in (count, count + 1), (stored_name, count)
            form = owner_form(await alice.request(room, owner_query()))
            assert form["muc#roomconfig_persistentroom"] == ["1"], form
            assert form["muc#roomconfig_roomname"] == [name], form
            return len(acknowledged), state["in_flight_at_kill"], stored_name, count

    acked, in_flight, stored_name, count = run(main())
    print(f"\nkilled after {acked} results with {in_flight} requests in flight; "
          f"restored name-{stored_name} and {count} members")


# ---- 3. SIGTERM -----------------------------------------------------------------------------


def test_sigterm_tells_every_occupant_and_leaves_sound_storage(prosody, users, plain_service):
    service = plain_service
    kept = f"kept@{service.jid}"
    brief = f"brief@{service.jid}"
    storage = service.settings["storage"]

    async def main():
        async with contextlib.AsyncExitStack() as stack:
            alice = await stack.enter_async_context(logged_in(prosody, "alice", resource="one"))
            alice2 = await stack.enter_async_context(logged_in(prosody, "alice", resource="two"))
            bob = await stack.enter_async_context(logged_in(prosody, "bob"))

            await create_room(alice, kept, "Alice", instant=False)
            await alice.request(kept, config_submission({
                "muc#roomconfig_persistentroom": "1", "muc#roomconfig_roomname": "Kept"}), type="set")
            await alice.request(kept, admin_item(jid=bob.bare_jid, affiliation="member"), type="set")
            alice.send_message(kept, subject="Before the stop")
            await alice.expect_message(frm=occupant(kept, "Alice"), where=lambda s: subject_of(s) == "Before the stop")
            # Alice's second session shares her nick; Bob is in both rooms.
            await join_and_read(alice2, kept, "Alice")
            await join_and_read(bob, kept, "Bob")
            await create_room(bob, brief, "Bob")
            bob.send_message(kept, "last words")
            for client in (alice, alice2, bob):
                await client.expect_message(frm=occupant(kept, "Bob"), body="last words")
                await client.sync(service.jid)
                client.forget_unclaimed()

            await asyncio.to_thread(service.stop_cleanly)

            told = [(alice, kept, "Alice"), (alice2, kept, "Alice"), (bob, kept, "Bob"), (bob, brief, "Bob")]
            for client, room, nick in told:
                gone = await client.expect_presence(
                    frm=occupant(room, nick), type="unavailable",
                    where=lambda s: 110 in status_code_list(s))
                assert sorted(status_code_list(gone)) == [110, 332], describe(gone)
                item = gone.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")
                assert item is not None and item.get("role") == "none", describe(gone)

            assert await asyncio.to_thread(integrity_of, storage) == "ok"
            await asyncio.to_thread(service.start)

            assert await room_name(bob, kept) == "Kept"
            with pytest.raises(StanzaErrorReply) as refusal:
                await bob.disco_info(brief)
            assert refusal.value.condition == "item-not-found"
            _, traffic = await join_and_read(alice, kept, "Alice")
            assert [body_of(s) for s in traffic if body_of(s)] == ["last words"], summary(traffic)
            assert subject_of(traffic[-1]) == "Before the stop", summary(traffic)
            assert await affiliation_list(alice, kept, "member") == [
                {"affiliation": "member", "jid": bob.bare_jid}]

    run(main())
