"""The service under test, started exactly the way users start it.

``twistd -n muc --config FILE`` runs as a subprocess with a generated TOML
config pointing at a host server: a :class:`ProsodyServer`, or an
:class:`~tests.integration.ejabberd.EjabberdServer` (anything with the
``component_domain``, ``component_secret``, ``component_port``, ``admins``
and ``log_tail`` those have). The repository root goes first
on ``PYTHONPATH``, which makes twistd find ``twisted/plugins`` there and
import this checkout's ``mucsvc`` rather than any installed copy.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from tests.integration import reaper
from tests.integration.ports import free_ports, wait_until

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
KICK_AUTHORIZATION = "Bearer test-kick"
HEALTH_POLL_LINE = '"GET /health HTTP/1.1"'

# Settings the service may also take from the environment; the test runner's
# own values must never leak into a config under test.
SERVICE_ENVIRONMENT = ("MUCSVC_COMPONENT_SECRET", "MUCSVC_CONFIG")


class MucProcessError(RuntimeError):
    """The service did not do what a test needs; the message carries the logs."""


def twistd_command() -> list[str]:
    """The ``twistd`` of the Python running the tests."""
    beside = pathlib.Path(sys.executable).with_name("twistd")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()"]


def service_environment() -> dict[str, str]:
    """The runner's environment with this checkout first on ``PYTHONPATH``."""
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_ENVIRONMENT}
    paths = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # 0.5, 1e-05, inf and nan are TOML floats too
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def toml_document(settings: dict[str, Any]) -> str:
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in settings.items())


class HostServer(Protocol):
    """What the service needs to know of the XMPP server it connects to."""

    component_domain: str
    component_secret: str
    component_port: int
    admins: tuple[str, ...]

    def log_tail(self, lines: int = 60) -> str: ...


class MucProcess(reaper.Supervised):
    """`twistd -n muc --config FILE` as a subprocess, the way users start it,
    running the source tree (PYTHONPATH = repo root).

    ``config_overrides`` replace or add config keys; a value of ``None``
    leaves that key out (to test a missing setting), and unknown keys are
    written as given (to test a typo).
    """

    def __init__(self, workdir: pathlib.Path, server: HostServer, **config_overrides: Any):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.server = server
        (self.http_port,) = free_ports(1)
        self.config_path = self.workdir / "muc.toml"
        self.log_path = self.workdir / "twistd.log"
        self.config_overrides = dict(config_overrides)
        self._process: subprocess.Popen | None = None
        self.write_config()

    @property
    def prosody(self) -> HostServer:
        """The host server (the name older tests know it by)."""
        return self.server

    @property
    def settings(self) -> dict[str, Any]:
        """The config keys as written: defaults for the host server, then the overrides."""
        server = self.server
        settings: dict[str, Any] = {
            "jid": server.component_domain,
            "component_secret": server.component_secret,
            "component_host": "127.0.0.1",
            "component_port": server.component_port,
            "http_endpoint": f"tcp:{self.http_port}:interface=127.0.0.1",
            "http_muc_kick_authorization_header": KICK_AUTHORIZATION,
            "storage": str(self.workdir / "muc.sqlite"),
            "admins": list(server.admins),
            "log_traffic": True,
        }
        settings.update(self.config_overrides)
        return {key: value for key, value in settings.items() if value is not None}

    def write_config(self) -> None:
        """(Re)write the config file; starting does it too, as the server's ports may have moved."""
        self.config_path.write_text(toml_document(self.settings))

    @property
    def jid(self) -> str:
        """The service's domain as configured (rooms are ROOM@jid)."""
        return self.settings.get("jid", self.server.component_domain)

    @property
    def command(self) -> list[str]:
        return twistd_command() + ["-n", "--pidfile=", "muc", "--config", str(self.config_path)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: float = 20.0) -> None:
        """Start twistd; return once ``GET /health`` answers 200 (the link is up)."""
        self.start_unchecked()
        try:
            self.wait_for_health(200, timeout=timeout)
        except BaseException:
            self.stop()
            raise

    def start_unchecked(self) -> None:
        """Start twistd and return at once (the link may never come up)."""
        if self.running:
            raise MucProcessError("the service is already running")
        self.write_config()
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                self.command,
                cwd=self.workdir,
                env=service_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = reaper.adopt(process)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; return the exit status."""
        process = self._process
        if process is None:
            return None
        return reaper.terminate(process, timeout)

    def stop_cleanly(self) -> None:
        """SIGTERM, and the service shut down in order rather than being killed
        after the grace period of :meth:`stop` (twistd then ends by re-raising
        the signal: status -SIGTERM, or 0)."""
        offset = self.log_offset()
        status = self.stop()
        assert status in (0, -signal.SIGTERM), f"exit status {status}\n{self.log_tail()}"
        assert "Server Shut Down." in self.log_since(offset), self.log_tail()

    def kill(self) -> None:
        """SIGKILL, as a crash would end it."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)
        if process is not None:
            reaper.release(process)

    def run_until_exit(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        """Run the command to completion and capture its output.

        For invocations that must refuse to start; ``args`` replace the
        usual ``-n --pidfile= muc --config FILE`` when given.
        """
        self.write_config()
        command = twistd_command() + list(args) if args else self.command
        return subprocess.run(
            command,
            cwd=self.workdir,
            env=service_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def __enter__(self) -> MucProcess:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- HTTP --------------------------------------------------------------

    def health(self) -> tuple[int, dict]:
        """``GET /health``: status code and JSON body.

        Raises ``OSError`` when nothing answers on the HTTP port.
        """
        try:
            with urllib.request.urlopen(f"{self.base_url}/health", timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            with error:
                body = error.read()
            try:
                return error.code, json.loads(body or b"{}")
            except ValueError:
                return error.code, {"unparsed": body.decode("utf-8", "replace")}

    def http(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One HTTP request to the service; status and body, errors included.

        ``json_body`` or ``form`` (url-encoded) become the request body.
        """
        data = None
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        elif form is not None:
            data = urllib.parse.urlencode(form).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read()

    def wait_for_health(self, status: int, timeout: float = 20.0) -> dict:
        """Poll ``/health`` until it answers ``status``; return its body.

        Gives up at once, with the logs, if the process exits meanwhile.
        """
        last: list[Any] = ["no answer yet"]

        def answered() -> bool:
            if not self.running:
                return True
            try:
                last[0] = self.health()
            except OSError as error:
                last[0] = error
                return False
            return last[0][0] == status

        wait_until(answered, timeout, interval=0.1)
        if not self.running:
            raise MucProcessError(
                f"twistd exited with status {self.returncode} while waiting for /health {status}\n"
                f"{self.diagnostics()}"
            )
        if not (isinstance(last[0], tuple) and last[0][0] == status):
            raise MucProcessError(
                f"/health did not answer {status} within {timeout:g}s; last answer: {last[0]!r}\n"
                f"{self.diagnostics()}"
            )
        return last[0][1]

    # -- diagnostics -----------------------------------------------------------

    def log_offset(self) -> int:
        """Where twistd's log ends now; pass it to :meth:`log_since` later."""
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int = 0) -> str:
        """What twistd logged after ``offset``: what one action caused."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` of twistd's output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return f"--- twistd wrote no log at {self.log_path} ---"
        # The harness polls /health; its access-log lines would bury the rest.
        kept = [line for line in text.splitlines() if HEALTH_POLL_LINE not in line]
        tail = kept[-lines:]
        return f"--- twistd log ({self.log_path}, /health requests left out) ---\n" + "\n".join(tail)

    def diagnostics(self, lines: int = 60) -> str:
        """twistd's and the host server's log tails together."""
        return f"{self.log_tail(lines)}\n{self.server.log_tail(lines)}"
