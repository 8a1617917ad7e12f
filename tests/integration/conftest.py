"""Fixtures for tests against a real Prosody and a real ``twistd muc``.

Each test module gets its own throwaway Prosody (``prosody``) and its own
service connected to it (``muc``), on free loopback ports under the
module's temporary directory; a module that restarts Prosody disturbs no
other, and one that overrides ``muc_settings`` configures its service. ``account`` registers users on that Prosody, ``users`` those a
module names in ``USERS``, and ``scenario`` runs a conversation between
them. ``service`` is the MUC domain a test talks to, ours and then
Prosody's own; a module whose tests need a service process of their own
overrides it with one from ``own_service``.

The modules about several service processes behind one domain
(``test_ejabberd_*``) run an ejabberd instead (``ejabberd.py``), with
fixtures of their own.

Every test here is marked ``integration`` (``pytest -m "not integration"``
runs the rest). When Prosody is not installed they fail with the install
command; they are never skipped. When one fails, the tails of the Prosody
and twistd logs it used are added to its report.
"""

from __future__ import annotations

import dataclasses
import pathlib

import pytest

from tests.integration.muc_process import MucProcess
from tests.integration.prosody import ProsodyServer
from tests.integration.xmpp_client import DEFAULT_PASSWORD, all_logged_in, run

HERE = pathlib.Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in pathlib.Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@dataclasses.dataclass(frozen=True)
class Account:
    user: str
    jid: str
    password: str


@pytest.fixture(scope="module")
def prosody(tmp_path_factory):
    """A started Prosody for this module, stopped after its last test."""
    server = ProsodyServer(tmp_path_factory.mktemp("prosody"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def muc_settings():
    """Config keys the module's ``muc`` gets beside the defaults; a module
    that needs a setting on (an HTTP API, say) overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def muc(prosody, muc_settings, tmp_path_factory):
    """``twistd -n muc`` linked to ``prosody``, configured with
    ``muc_settings``; ``/health`` already said 200."""
    service = MucProcess(tmp_path_factory.mktemp("muc"), prosody, **muc_settings)
    service.start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def account(prosody):
    """``account("alice")``: register alice@localhost once per module.

    The password is the client helper's default, so tests may simply write
    ``logged_in(prosody, "alice")``.
    """
    registered: dict[str, Account] = {}

    def make(user: str) -> Account:
        if user not in registered:
            prosody.register(user, DEFAULT_PASSWORD)
            registered[user] = Account(user, f"{user}@{prosody.host}", DEFAULT_PASSWORD)
        return registered[user]

    return make


@pytest.fixture(scope="module")
def users(account, request):
    """The accounts named in the module's ``USERS``, registered on its Prosody."""
    return [account(name) for name in request.module.USERS]


@pytest.fixture
def scenario(prosody, users):
    """``scenario(body, "alice", "bob")`` runs ``await body(alice, bob)`` with
    those users logged in."""

    def play(body, *names):
        async def main():
            async with all_logged_in(prosody, *names) as clients:
                await body(*clients)

        run(main())

    return play


@pytest.fixture(params=["mucsvc", "prosody"])
def service(request, prosody, muc):
    """The MUC domain a test talks to: ours, then Prosody's own MUC on the
    same server, which shows that each expectation is the reference
    behaviour."""
    return muc.jid if request.param == "mucsvc" else prosody.reference_muc


@pytest.fixture
def own_service(prosody, tmp_path):
    """``own_service(**overrides)``: a started ``twistd muc`` of this test
    alone, with its own storage file and these config overrides, beside the
    module's Prosody; stopped after the test whatever happened."""
    started: list[MucProcess] = []

    def start(**overrides) -> MucProcess:
        workdir = tmp_path / ("muc" if not started else f"muc-{len(started) + 1}")
        process = MucProcess(workdir, prosody, **overrides)
        started.append(process)
        process.start()
        return process

    yield start
    for process in reversed(started):
        process.stop()
