"""A throwaway Prosody to run the component against, the way users deploy it.

Everything Prosody owns (config, data, pidfile, logs) lives in one work
directory, it listens on free loopback ports only, and it runs in the
foreground as our child so that stopping it never depends on a pidfile.
Prosody's own MUC is configured beside our component as the reference
behaviour.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
from collections.abc import Sequence

import pytest

from tests.integration.ports import accepts_connections, free_ports
from tests.integration.throwaway_server import ThrowawayServer

PROSODY = "/usr/bin/prosody"
PROSODYCTL = "/usr/bin/prosodyctl"
NOT_INSTALLED = "Prosody is not installed: sudo apt-get install -y prosody"

# Where Debian's prosody keeps its modules, and where Debian's
# prosody-modules puts the community ones (mod_NAME/mod_NAME.lua), so
# Prosody finds both without plugin_paths.
MODULES_DIR = pathlib.Path("/usr/lib/prosody/modules")
COMMUNITY_NOT_INSTALLED = (
    "Prosody module mod_{name} is not installed (community modules come with "
    "Debian's prosody-modules): sudo apt-get install -y prosody-modules"
)

# Modules of the VirtualHost. vcard_legacy makes Prosody add
# <x xmlns='vcard-temp:x:update'/> to presence, which the conformance
# scripts expect to see forwarded through a room.
HOST_MODULES = ("roster", "saslauth", "disco", "ping", "pep", "vcard4", "vcard_legacy")

INSECURE_AUTH_CONSENT = "Yes please, I know what I'm doing!"

# Log lines that mean a port we picked was taken before Prosody bound it
# (Prosody then keeps running without that port).
PORT_TAKEN_MARKERS = ("Failed to open server port", "Address already in use")


def lua_string(value: str) -> str:
    """Quote a Python string as a Lua string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def lua_list(values: Sequence[str]) -> str:
    if not values:
        return "{ }"
    return "{ " + "; ".join(lua_string(value) for value in values) + " }"


def module_installed(name: str) -> bool:
    """Whether Prosody can load ``mod_<name>`` from its module directory."""
    return (MODULES_DIR / f"mod_{name}.lua").is_file() or (
        MODULES_DIR / f"mod_{name}" / f"mod_{name}.lua"
    ).is_file()


class ProsodyError(RuntimeError):
    """Prosody did not do what a test needs; the message carries its log."""


class ProsodyServer(ThrowawayServer):
    """A throwaway Prosody on free loopback ports with a generated config.

    Users are ``NAME@localhost`` (``host`` names another domain, such as
    the README's ``example.org``); the component domain (``muc.localhost``)
    accepts our service on ``component_port``, and ``conference.localhost``
    is Prosody's own MUC (``conference_modules`` adds modules to it, e.g.
    ``("muc_mam", "muc_moderation")``; one that is not installed fails the
    test with the command that installs it, where Prosody would only log an
    error and run without it). Data survives :meth:`restart`.
    """

    reference_muc = "conference.localhost"
    label = "Prosody"
    error = ProsodyError
    port_taken_markers = PORT_TAKEN_MARKERS

    def __init__(
        self,
        workdir: pathlib.Path,
        *,
        host: str = "localhost",
        component_domain: str = "muc.localhost",
        component_secret: str = "test-secret",
        authentication: str = "internal_hashed",
        admins: Sequence[str] = ("admin@localhost",),
        conference_modules: Sequence[str] = (),
    ):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.component_domain = component_domain
        self.component_secret = component_secret
        self.authentication = authentication
        self.admins = tuple(admins)
        self.conference_modules = tuple(conference_modules)
        self.config_path = self.workdir / "prosody.cfg.lua"
        self.data_path = self.workdir / "data"
        self.pidfile = self.workdir / "prosody.pid"
        self.log_path = self.workdir / "prosody.log"
        self.console_path = self.workdir / "prosody.console.log"
        self._pick_ports()

    # -- configuration ---------------------------------------------------

    def config_text(self) -> str:
        """The Lua config for the current ports and options."""
        lines = [
            "-- Generated for integration tests; every path and port is private.",
            "run_as_root = true",
            "daemonize = false",
            f"pidfile = {lua_string(str(self.pidfile))}",
            f"data_path = {lua_string(str(self.data_path))}",
            f"log = {{ debug = {lua_string(str(self.log_path))} }}",
            f"admins = {lua_list(self.admins)}",
            'interfaces = { "127.0.0.1" }',
            'local_interfaces = { "127.0.0.1" }',
            f"c2s_ports = {{ {self.c2s_port} }}",
            'c2s_interfaces = { "127.0.0.1" }',
            "c2s_direct_tls_ports = { }",
            "legacy_ssl_ports = { }",
            "s2s_ports = { }",
            f"component_ports = {{ {self.component_port} }}",
            'component_interfaces = { "127.0.0.1" }',
            "http_ports = { }",
            "https_ports = { }",
            'http_interfaces = { "127.0.0.1" }',
            'https_interfaces = { "127.0.0.1" }',
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            'modules_disabled = { "s2s"; "tls" }',
            "modules_enabled = { }",
            # TLS is off; pointing at the work directory keeps the
            # certificate indexer from looking in /etc.
            f"certificates = {lua_string(str(self.workdir))}",
            'storage = "internal"',
            f"authentication = {lua_string(self.authentication)}",
        ]
        if self.authentication == "insecure":
            lines.append(f"insecure_open_authentication = {lua_string(INSECURE_AUTH_CONSENT)}")
        lines += [
            "hide_os_type = true",
            "",
            f"VirtualHost {lua_string(self.host)}",
            f"\tmodules_enabled = {lua_list(HOST_MODULES)}",
            "",
            f"Component {lua_string(self.component_domain)}",
            f"\tcomponent_secret = {lua_string(self.component_secret)}",
            "",
            f"Component {lua_string(self.reference_muc)} \"muc\"",
            f"\tmodules_enabled = {lua_list(self.conference_modules)}",
            "",
        ]
        return "\n".join(lines)

    def write_config(self) -> None:
        self.config_path.write_text(self.config_text())

    # -- lifecycle ---------------------------------------------------------

    def _check_installed(self) -> None:
        if not os.path.exists(PROSODY):
            pytest.fail(NOT_INSTALLED, pytrace=False)
        for name in self.conference_modules:
            if not module_installed(name):
                pytest.fail(COMMUNITY_NOT_INSTALLED.format(name=name), pytrace=False)

    def _pick_ports(self) -> None:
        self.c2s_port, self.component_port = free_ports(2)

    def _prepare(self) -> None:
        self.data_path.mkdir(exist_ok=True)
        self.write_config()

    def _command(self) -> list[str]:
        return [PROSODY, "--config", str(self.config_path)]

    def _ports_text(self) -> str:
        return f"(c2s {self.c2s_port}, component {self.component_port})"

    def _listening(self) -> bool:
        """Prosody says it opened both ports, and they accept connections."""
        started = self._log_since_start()
        return all(
            f"Activated service '{service}' on [127.0.0.1]:{port}" in started
            for service, port in (("c2s", self.c2s_port), ("component", self.component_port))
        ) and accepts_connections(self.c2s_port) and accepts_connections(self.component_port)

    # -- users -------------------------------------------------------------

    def register(self, user: str, password: str) -> None:
        """Create ``user@<host>`` with ``password`` (``prosodyctl register``)."""
        if not os.path.exists(PROSODYCTL):
            pytest.fail(NOT_INSTALLED, pytrace=False)
        self.data_path.mkdir(exist_ok=True)
        self.write_config()
        result = subprocess.run(
            [PROSODYCTL, "--config", str(self.config_path), "register", user, self.host, password],
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise ProsodyError(
                f"prosodyctl register {user} failed with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}"
            )
