"""The harness itself: EjabberdServer, before anything of ours runs behind it.

One ejabberd for the module (starting one takes a few seconds); the test
that needs none uses a path where ejabberdctl is not.
"""

import subprocess

import pytest

from tests.integration import ejabberd as ejabberd_module
from tests.integration.ejabberd import EjabberdError, EjabberdServer
from tests.integration.ports import accepts_connections
from tests.integration.stanzas import disco_identities
from tests.integration.xmpp_client import LoginFailed, logged_in, run


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = EjabberdServer(tmp_path_factory.mktemp("ejabberd"))
    server.start()
    yield server
    server.stop()


def test_a_missing_ejabberd_fails_the_test_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(ejabberd_module, "EJABBERDCTL", str(tmp_path / "no-ejabberdctl"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y ejabberd"):
        EjabberdServer(tmp_path / "ejabberd").start()


def test_a_registered_user_logs_in_without_tls_and_sees_the_reference_muc(server):
    server.register("alice", "s3cret")

    async def scenario():
        async with logged_in(server, "alice", "s3cret") as alice:
            assert alice.jid == "alice@localhost/test"
            return await alice.disco_info(server.reference_muc)

    info = run(scenario())
    assert ("conference", "text") in disco_identities(info), server.log_tail()


def test_a_wrong_password_is_refused(server):
    server.register("bob", "right")

    async def scenario():
        async with logged_in(server, "bob", "wrong"):
            pass

    with pytest.raises(LoginFailed, match="authentication failed"):
        run(scenario())


def test_registering_a_user_twice_says_why(server):
    server.register("carol", "once")
    with pytest.raises(EjabberdError, match="already registered"):
        server.register("carol", "twice")


def test_the_node_is_reached_on_its_own_port(server):
    """ejabberdctl talks to the node on ``ERL_DIST_PORT``, the one port the
    node listens on for Erlang distribution; a node name of its own keeps
    it apart from any other node on the machine (where an epmd runs, the
    node shows there under that name and that port, and nowhere else)."""
    status = server.ctl("status")
    assert status.returncode == 0 and "is started" in status.stdout, status.stdout + status.stderr
    assert accepts_connections(server.dist_port)
    names = subprocess.run(["epmd", "-names"], capture_output=True, text=True, timeout=10)
    listed = [line for line in names.stdout.splitlines() if server.node.split("@")[0] in line]
    assert listed in ([], [f"name {server.node.split('@')[0]} at port {server.dist_port}"]), names.stdout


def test_stopping_ends_the_whole_session_and_frees_the_ports(tmp_path):
    server = EjabberdServer(tmp_path / "ejabberd")
    server.start()
    leader = server.pid
    server.stop()
    assert not accepts_connections(server.c2s_port)
    assert not accepts_connections(server.dist_port)
    alive = subprocess.run(["pgrep", "-s", str(leader)], capture_output=True, text=True)
    assert alive.stdout == "", f"processes of the session still run: {alive.stdout}"
    names = subprocess.run(["epmd", "-names"], capture_output=True, text=True, timeout=10)
    assert server.node.split("@")[0] not in names.stdout


def test_a_port_taken_before_the_first_start_is_given_up_for_new_ones(tmp_path):
    import socket
    server = EjabberdServer(tmp_path / "ejabberd")
    taken = server.c2s_port
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", taken))
    squatter.listen()
    try:
        server.start()
        assert server.c2s_port != taken and server.running
        assert accepts_connections(server.c2s_port) and accepts_connections(server.component_port)
    finally:
        server.stop()
        squatter.close()
