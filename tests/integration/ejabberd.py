"""A throwaway ejabberd, started with Debian's ``ejabberdctl`` as users do.

Everything it owns (config, Mnesia spool, logs) lives in one work
directory; it listens on free loopback ports only and runs in the
foreground (``ejabberdctl foreground``) as our child, in a session of its
own, so that stopping it is stopping that session and never depends on a
pidfile or on a node name. ejabberd's Erlang distribution listens on a
free port of its own (``ERL_DIST_PORT``), where ejabberdctl reaches it:
no epmd is started for it (where one already runs, the node is listed
there while it runs, under a name of its own), no epmd is ever stopped,
and no other Erlang node on the machine is seen or touched; the node name
and the cookie are ours alone.

The component domain accepts several connections (XEP-0114) and balances
stanzas over them by the bare JID they are addressed to
(``domain_balancing: bare_destination``); ejabberd's own MUC serves
``conference.localhost`` as the reference behaviour.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import time
from collections.abc import Sequence

import pytest

from tests.integration import reaper
from tests.integration.ports import accepts_connections, free_ports
from tests.integration.throwaway_server import ThrowawayServer

EJABBERDCTL = "/usr/sbin/ejabberdctl"
ERL = "/usr/bin/erl"  # Debian's ejabberd depends on it
NOT_INSTALLED = "ejabberd is not installed: sudo apt-get install -y ejabberd"
NOT_PERMITTED = (
    "Debian's ejabberdctl runs only as root or as the user ejabberd; run the "
    "ejabberd tests as root (CI does)"
)

# What ejabberd logs once it serves, and when a port we picked was taken.
STARTED_MARKER = "is started in the node"
PORT_TAKEN_MARKERS = ("eaddrinuse", "Failed to open socket")


def yaml_string(value: str) -> str:
    """Quote a string for YAML (a JSON string is a YAML flow scalar)."""
    return json.dumps(value)


class EjabberdError(RuntimeError):
    """ejabberd did not do what a test needs; the message carries its log."""


class EjabberdServer(ThrowawayServer):
    """A throwaway ejabberd on free loopback ports with a generated config.

    Users are ``NAME@localhost`` (plain passwords, no TLS, as loopback test
    clients log in); ``component_domain`` (``muc.localhost``) accepts up to
    ``component_number`` connections with ``component_secret``, balanced by
    bare destination JID (``None`` leaves ``component_number`` out, which
    ejabberd 23.01 does not survive); ``conference.localhost`` is
    ejabberd's mod_muc.
    The attributes a :class:`~tests.integration.muc_process.MucProcess` and
    the XMPP client helpers read are those of ``ProsodyServer``: ``host``,
    ``c2s_port``, ``component_domain``, ``component_secret``,
    ``component_port``, ``admins``, ``log_tail``.
    """

    host = "localhost"
    reference_muc = "conference.localhost"
    label = "ejabberd"
    error = EjabberdError
    port_taken_markers = PORT_TAKEN_MARKERS
    start_timeout = 40.0
    stop_timeout = 15.0
    poll_interval = 0.1

    def __init__(
        self,
        workdir: pathlib.Path,
        *,
        component_domain: str = "muc.localhost",
        component_secret: str = "test-secret",
        component_number: int | None = 3,
        admins: Sequence[str] = ("admin@localhost",),
    ):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.component_domain = component_domain
        self.component_secret = component_secret
        self.component_number = component_number
        self.admins = tuple(admins)
        self.config_path = self.workdir / "ejabberd.yml"
        self.ctl_config_path = self.workdir / "ejabberdctl.cfg"
        self.spool_path = self.workdir / "spool"
        self.logs_path = self.workdir / "logs"
        self.log_path = self.logs_path / "ejabberd.log"
        self.console_path = self.workdir / "ejabberd.console.log"
        # Unique per instance: a node name already known to the machine's
        # epmd would make ejabberdctl refuse to start (or kill that epmd).
        self.node = f"mucsvc{os.getpid()}x{os.urandom(3).hex()}@localhost"
        self.cookie = os.urandom(16).hex()
        self._pick_ports()

    def _pick_ports(self) -> None:
        self.c2s_port, self.component_port, self.http_port, self.dist_port = free_ports(4)

    # -- configuration ---------------------------------------------------

    def config_text(self) -> str:
        """The YAML config for the current ports and options."""
        domain = yaml_string(self.component_domain)
        lines = [
            "# Generated for integration tests; every path and port is private.",
            f"hosts: [{yaml_string(self.host)}]",
            "loglevel: info",
            "hide_sensitive_log_data: false",
            "certfiles: []",
            "s2s_access: none",
            "auth_method: internal",
            "auth_password_format: plain",
            "listen:",
            f"  - port: {self.c2s_port}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_c2s",
            "    starttls: false",
            f"  - port: {self.component_port}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_service",
            "    hosts:",
            f"      {domain}:",
            f"        password: {yaml_string(self.component_secret)}",
            f"  - port: {self.http_port}",
            '    ip: "127.0.0.1"',
            "    module: ejabberd_http",
            "    request_handlers:",
            '      "/api": mod_http_api',
            # ejabberd 23.01 requires component_number with domain_balancing:
            # without it every connection of the domain crashes right after
            # its handshake ({badkey, component_number}); None writes that.
            "domain_balancing:",
            f"  {domain}:",
            "    type: bare_destination",
            *([f"    component_number: {self.component_number}"] if self.component_number else []),
            "acl:",
            "  admin:",
            "    user: [" + ", ".join(yaml_string(jid) for jid in self.admins) + "]",
            "access_rules:",
            "  local:",
            "    allow: all",
            "modules:",
            "  mod_disco: {}",
            "  mod_ping: {}",
            "  mod_roster: {}",
            "  mod_muc:",
            f"    host: {yaml_string(self.reference_muc)}",
            "    access_create: all",
            "    access_persistent: all",
            "    access_admin: admin",
            "    max_users_presence: 10000",
            "",
        ]
        return "\n".join(lines)

    def ctl_config_text(self) -> str:
        """ejabberdctl's own settings (a shell file it sources).

        ``EXEC_CMD=as_current_user``: Debian's ejabberdctl, run by root,
        would switch to the user ejabberd, who cannot enter a private
        temporary directory; the test's ejabberd runs as the test runner.
        """
        return "\n".join(
            [
                "# Generated for integration tests.",
                "EXEC_CMD=as_current_user",
                f"ERLANG_NODE={self.node}",
                f"ERL_DIST_PORT={self.dist_port}",
                "INET_DIST_INTERFACE=127.0.0.1",
                f'ERL_OPTIONS="-setcookie {self.cookie}"',
                "",
            ]
        )

    def write_config(self) -> None:
        self.config_path.write_text(self.config_text())
        self.ctl_config_path.write_text(self.ctl_config_text())

    def ctl_command(self, *args: str) -> list[str]:
        return [
            EJABBERDCTL,
            "--config", str(self.config_path),
            "--ctl-config", str(self.ctl_config_path),
            "--spool", str(self.spool_path),
            "--logs", str(self.logs_path),
            *args,
        ]  # fmt: skip

    # -- lifecycle ---------------------------------------------------------

    @staticmethod
    def _check_installed() -> None:
        if not os.path.exists(EJABBERDCTL):
            pytest.fail(NOT_INSTALLED, pytrace=False)
        if os.geteuid() != 0:
            pytest.fail(NOT_PERMITTED, pytrace=False)

    def _prepare(self) -> None:
        self.spool_path.mkdir(exist_ok=True)
        self.logs_path.mkdir(exist_ok=True)
        self.write_config()

    def _command(self) -> list[str]:
        return self.ctl_command("foreground")

    def _ports_text(self) -> str:
        return f"(c2s {self.c2s_port}, component {self.component_port})"

    def _listening(self) -> bool:
        started = self._log_since_start()
        return (
            STARTED_MARKER in started
            and f"127.0.0.1:{self.component_port} for ejabberd_service" in started
            and accepts_connections(self.c2s_port)
            and accepts_connections(self.component_port)
        )

    def _terminate(self, timeout: float | None = None) -> None:
        """SIGTERM to its session (ejabberdctl's shell and the Erlang VM
        under it; the VM shuts down in order on SIGTERM), then SIGKILL
        after ``timeout``."""
        timeout = self.stop_timeout if timeout is None else timeout
        process, self._process = self._process, None
        if process is None:
            return
        _signal_session(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _session_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _session_alive(process):
            _signal_session(process, signal.SIGKILL)
        reaper.terminate(process, timeout)

    # -- users -------------------------------------------------------------

    def register(self, user: str, password: str) -> None:
        """Create ``user@localhost`` with ``password`` (``ejabberdctl register``)."""
        self._check_installed()
        result = self.ctl("register", user, self.host, password)
        if result.returncode != 0:
            raise EjabberdError(
                f"ejabberdctl register {user} failed with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        """One ``ejabberdctl`` command against this node."""
        return subprocess.run(
            self.ctl_command(*args),
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # -- balancing -----------------------------------------------------------

    def room_slots(self, names: Sequence[str]) -> dict[str, int]:
        """Room local part -> the slot (1..``component_number``) ejabberd's
        hash gives ``name@component_domain``."""
        by_jid = self.balancing_slots([f"{name}@{self.component_domain}" for name in names])
        return {jid.split("@", 1)[0]: slot for jid, slot in by_jid.items()}

    def balancing_slots(self, bare_jids: Sequence[str]) -> dict[str, int]:
        """The connection slot (1..``component_number``) ejabberd 23.01 picks
        for stanzas to each of ``bare_jids`` with ``bare_destination``:
        ``erlang:phash2({User, Server, <<>>}, component_number) + 1``, over
        the lowercased JID (``ejabberd_router:balancing_route``). Slots go
        to connections in the order they authenticated. Computed by the
        Erlang VM ejabberd runs on, as the hash is Erlang's own."""
        pairs = []
        for jid in bare_jids:
            user, _, server = jid.lower().partition("@")
            pairs.append(f'{{<<"{user}">>, <<"{server}">>, <<>>}}')
        expression = (
            "[io:format(\"~b~n\", [erlang:phash2(K, %d) + 1]) || K <- [%s]], halt()."
            % (self.component_number, ", ".join(pairs))
        )
        result = subprocess.run(
            [ERL, "-noshell", "-eval", expression],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise EjabberdError(f"erl could not compute the slots:\n{result.stdout}{result.stderr}")
        return dict(zip(bare_jids, (int(line) for line in result.stdout.split())))


def _signal_session(process: subprocess.Popen, signum: int) -> None:
    """``signum`` to every process of the session ``process`` leads (it was
    started with ``start_new_session``, so its pid is the group's id)."""
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


def _session_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader if it exited
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True
