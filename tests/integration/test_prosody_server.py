"""The harness itself: ProsodyServer and the XMPP client, before anything of ours.

If these fail, every other integration test would fail for reasons that
have nothing to do with the service, so they pin the harness down first.
Each test has its own Prosody: several stop or restart it.
"""

import os

import pytest

from tests.integration import prosody as prosody_module
from tests.integration.ports import accepts_connections
from tests.integration.prosody import ProsodyServer
from tests.integration.stanzas import disco_features, disco_identities, muc_item, status_codes
from tests.integration.xmpp_client import (
    DEFAULT_PASSWORD,
    LoginFailed,
    StanzaTimeout,
    all_logged_in,
    logged_in,
    run,
)

MUC_FEATURE = "http://jabber.org/protocol/muc"
# XEP-0045 §10.1.2: the owner accepts the default configuration.
INSTANT_ROOM = (
    "<query xmlns='http://jabber.org/protocol/muc#owner'>"
    "<x xmlns='jabber:x:data' type='submit'/></query>"
)


@pytest.fixture
def server(tmp_path):
    server = ProsodyServer(tmp_path / "prosody")
    server.start()
    yield server
    server.stop()


def test_a_registered_user_sees_the_reference_muc(server):
    server.register("alice", "s3cret")

    async def scenario():
        async with logged_in(server, "alice", "s3cret") as alice:
            assert alice.jid == "alice@localhost/test"
            return await alice.disco_info(server.reference_muc)

    info = run(scenario())
    assert ("conference", "text") in disco_identities(info), server.log_tail()
    assert MUC_FEATURE in disco_features(info)


def test_a_wrong_password_is_refused(server):
    server.register("alice", "s3cret")

    async def scenario():
        async with logged_in(server, "alice", "not-it"):
            pass

    with pytest.raises(LoginFailed, match="not-authorized"):
        run(scenario())


def test_insecure_authentication_accepts_any_password(tmp_path):
    with ProsodyServer(tmp_path / "prosody", authentication="insecure") as server:

        async def scenario():
            async with logged_in(server, "nobody", "anything") as client:
                return client.jid

        assert run(scenario()) == "nobody@localhost/test"


def test_own_presence_comes_back_with_the_vcard_update_element(server):
    """vcard_legacy is loaded: the conformance scripts expect its element."""
    server.register("alice", "s3cret")

    async def scenario():
        async with logged_in(server, "alice", "s3cret") as alice:
            alice.send_presence()
            return await alice.expect_presence(frm=alice.jid, type=None)

    presence = run(scenario())
    assert presence.xml.find("{vcard-temp:x:update}x/{vcard-temp:x:update}photo") is not None


def test_an_awaited_stanza_that_never_comes_fails_with_what_did_arrive(server):
    server.register("alice", "s3cret")

    async def scenario():
        async with logged_in(server, "alice", "s3cret") as alice:
            alice.send_presence()
            await alice.expect_presence(frm="someone@localhost/else", timeout=0.5)

    with pytest.raises(StanzaTimeout) as failure:
        run(scenario())
    message = str(failure.value)
    assert "someone@localhost/else" in message
    assert "vcard-temp:x:update" in message  # the own presence, shown as unclaimed


def test_restart_keeps_ports_and_accounts(server):
    server.register("alice", "s3cret")
    ports, first_pid = (server.c2s_port, server.component_port), server.pid

    server.restart()

    assert (server.c2s_port, server.component_port) == ports
    assert server.pid != first_pid
    assert accepts_connections(server.component_port)

    async def scenario():
        async with logged_in(server, "alice", "s3cret") as alice:
            return await alice.disco_info(server.reference_muc)

    assert ("conference", "text") in disco_identities(run(scenario()))


def test_stop_leaves_no_process_and_no_open_port(server):
    pid = server.pid
    server.stop()

    assert not server.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not accepts_connections(server.c2s_port)
    assert not accepts_connections(server.component_port)
    server.stop()  # idempotent


def test_a_missing_prosody_fails_loudly_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(prosody_module, "PROSODY", str(tmp_path / "no-such-prosody"))
    with pytest.raises(pytest.fail.Exception, match="sudo apt-get install -y prosody"):
        ProsodyServer(tmp_path / "prosody").start()


def test_two_users_meet_in_a_room_of_the_reference_muc(server):
    """The group-chat helpers, checked against Prosody's own MUC."""
    for user in ("alice", "bob"):
        server.register(user, DEFAULT_PASSWORD)
    room = f"lobby@{server.reference_muc}"

    async def scenario():
        async with all_logged_in(server, "alice", "bob") as (alice, bob):
            alice.join(f"{room}/Alice")
            created = await alice.expect_self_presence(f"{room}/Alice")
            assert {110, 201} <= status_codes(created)
            assert muc_item(created)["affiliation"] == "owner"
            await alice.request(room, INSTANT_ROOM, type="set")

            bob.join(f"{room}/Bob")
            await bob.expect_self_presence(f"{room}/Bob")
            seen = await alice.expect_presence(frm=f"{room}/Bob", type=None)
            assert muc_item(seen)["role"] == "participant"

            bob.send_message(room, "hello")
            await alice.expect_message(frm=f"{room}/Bob", type="groupchat", body="hello")

            bob.leave(f"{room}/Bob")
            await alice.expect_presence(frm=f"{room}/Bob", type="unavailable")
            await alice.sync(room)
            assert not alice.unclaimed(lambda s: s.xml.get("from", "").endswith("/Bob"))

    run(scenario())


def _squat(port: int):
    """A listening socket on ``port``: another program that took it."""
    import socket
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    return squatter


def test_a_port_taken_before_the_first_start_is_given_up_for_new_ones(tmp_path):
    server = ProsodyServer(tmp_path / "prosody")
    taken = server.component_port
    squatter = _squat(taken)
    try:
        server.start()
        assert server.component_port != taken and server.running
        assert any(marker in server.log_text() for marker in prosody_module.PORT_TAKEN_MARKERS)
        assert accepts_connections(server.c2s_port) and accepts_connections(server.component_port)
    finally:
        server.stop()
        squatter.close()


def test_a_port_taken_before_a_restart_is_an_error_that_shows_the_log(tmp_path):
    server = ProsodyServer(tmp_path / "prosody")
    server.start()
    server.stop()
    squatter = _squat(server.c2s_port)  # clients know the old ports: no new ones now
    try:
        with pytest.raises(prosody_module.ProsodyError, match="could not bind") as refused:
            server.start()
        assert "--- prosody log" in str(refused.value)
        assert not server.running
    finally:
        squatter.close()
