"""The processes a benchmark run starts: a throwaway Prosody, ``twistd muc``
and the ceiling's echo component (ejabberd: ``bench/ejabberd.py``); their
CPU time and memory from ``/proc``.

Every child is started in its own session, registered here, and stopped
with that session (SIGTERM, then SIGKILL) when the run ends, on errors
and at exit.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PROSODY = "/usr/bin/prosody"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

_children: list["Child"] = []


class StartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class Child:
    """A subprocess we own: stopped by pid, measured through /proc."""

    def __init__(self, name: str, argv, cwd, log_path, env=None, stdout=None):
        self.name = name
        self.log_path = pathlib.Path(log_path)
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else self._log,
            stderr=self._log, start_new_session=True)
        self.pid = self.process.pid
        # The process whose CPU time and memory are measured: the child
        # itself, or the server a wrapper script runs (see descendant()).
        self.measure_pid = self.pid
        _children.append(self)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (0 once it has exited)."""
        try:
            with open(f"/proc/{self.measure_pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kb(self) -> int:
        with open(f"/proc/{self.measure_pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise StartError(f"no VmRSS for {self.name} ({self.pid})")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the child's session (the child and whatever it started),
        then SIGKILL to what is left after ``timeout``."""
        _signal_session(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _session_alive(self) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _session_alive(self):
            _signal_session(self.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
        if self in _children:
            _children.remove(self)


def _signal_session(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)  # started with start_new_session: pid is the group's id
    except ProcessLookupError:
        pass


def _session_alive(child: Child) -> bool:
    child.process.poll()
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def descendant(pid: int, name: str, timeout: float = 10.0) -> int:
    """The pid of the first process called ``name`` under ``pid`` (e.g. the
    Erlang VM that ``ejabberdctl`` runs as its child)."""
    deadline = time.monotonic() + timeout
    while True:
        pending = [pid]
        while pending:
            current = pending.pop()
            try:
                with open(f"/proc/{current}/comm") as f:
                    if f.read().strip() == name:
                        return current
                with open(f"/proc/{current}/task/{current}/children") as f:
                    pending += [int(c) for c in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        if time.monotonic() > deadline:
            raise StartError(f"no process {name} under {pid}")
        time.sleep(0.05)


class Together:
    """Several children measured as one (the processes serving one domain):
    memory is their sum; ``pid`` is the first one's, for a profiler."""

    def __init__(self, children):
        self.children = list(children)
        self.pid = self.children[0].pid
        self.name = "+".join(child.name for child in self.children)

    def rss_kb(self) -> int:
        return sum(child.rss_kb() for child in self.children)


def stop_all() -> None:
    for child in list(reversed(_children)):
        try:
            child.stop()
        except Exception:  # never leave the others running
            pass


atexit.register(stop_all)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks and atexit stop the children."""
    def _terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _terminate)


def wait_until(condition, timeout: float, what: str, child: Child | None = None):
    deadline = time.monotonic() + timeout
    while not condition():
        if child is not None and not child.running:
            raise StartError(f"{child.name} exited while {what}:\n{child.log_tail()}")
        if time.monotonic() > deadline:
            tail = f":\n{child.log_tail()}" if child is not None else ""
            raise StartError(f"timed out {what}{tail}")
        time.sleep(0.05)


# -- Prosody -------------------------------------------------------------------


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def prosody_config(workdir: pathlib.Path, c2s_port: int, component_port: int,
                   secret: str, components, extra_settings=()) -> str:
    """A loopback-only Prosody with external ``components`` and its own MUC
    at ``conference.localhost``; logging at warn so it costs nothing.
    ``extra_settings`` are global Lua lines (e.g. ``network_settings = {…}``)."""
    lines = [
        "-- Generated by the mucsvc benchmark; every path and port is private.",
        "run_as_root = true",
        "daemonize = false",
        f"pidfile = {lua_string(str(workdir / 'prosody.pid'))}",
        f"data_path = {lua_string(str(workdir / 'data'))}",
        f"log = {{ warn = {lua_string(str(workdir / 'prosody.log'))} }}",
        'interfaces = { "127.0.0.1" }',
        'local_interfaces = { "127.0.0.1" }',
        f"c2s_ports = {{ {c2s_port} }}",
        "c2s_direct_tls_ports = { }",
        "legacy_ssl_ports = { }",
        "s2s_ports = { }",
        f"component_ports = {{ {component_port} }}",
        'component_interfaces = { "127.0.0.1" }',
        "http_ports = { }",
        "https_ports = { }",
        'modules_disabled = { "s2s"; "tls" }',
        "modules_enabled = { }",
        f"certificates = {lua_string(str(workdir))}",
        'storage = "internal"',
        *extra_settings,
        "",
        'VirtualHost "localhost"',
        "",
    ]
    for domain in components:
        lines += [f"Component {lua_string(domain)}",
                  f"\tcomponent_secret = {lua_string(secret)}", ""]
    # Prosody keeps only 100 rooms in memory by default and swaps the others
    # to disk, occupants and all; the benchmark wants every room in memory.
    lines += ['Component "conference.localhost" "muc"', "\tmuc_room_cache_size = 1000000", ""]
    return "\n".join(lines)


def start_prosody(workdir: pathlib.Path, secret: str, components, extra_settings=(),
                  timeout: float = 20.0):
    """Returns ``(child, component_port)`` once the component port accepts."""
    if not os.path.exists(PROSODY):
        raise StartError("Prosody is not installed (apt-get install prosody)")
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    c2s_port, component_port = free_port(), free_port()
    config = workdir / "prosody.cfg.lua"
    config.write_text(prosody_config(workdir, c2s_port, component_port, secret, components,
                                     extra_settings))
    child = Child("prosody", [PROSODY, "--config", str(config)], workdir,
                  workdir / "prosody.console.log")
    wait_until(lambda: accepts(component_port), timeout, "waiting for Prosody's component port",
               child)
    return child, component_port


# -- twistd muc ---------------------------------------------------------------------


def toml_document(settings: dict) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())


#: Settings of the benchmark's service beyond the connection: Prosody 0.12's
#: MUC has no rate limit of its own (mod_muc_limits is a community module),
#: so ours is off too; a load driver talks much faster than people.
MUC_SETTINGS = {"muc_event_rate": 0}


def start_twistd(workdir: pathlib.Path, jid: str, secret: str, component_port: int,
                 cprofile: str | None = None, settings: dict | None = None):
    """``twistd -n muc --config FILE`` on this checkout; returns ``(child, http_port)``.
    ``settings`` are more config keys (they win over :data:`MUC_SETTINGS`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    http_port = free_port()
    config = workdir / "muc.toml"
    config.write_text(toml_document({
        "jid": jid,
        "component_secret": secret,
        "component_host": "127.0.0.1",
        "component_port": component_port,
        "http_endpoint": f"tcp:{http_port}:interface=127.0.0.1",
        "http_muc_kick_authorization_header": "Bearer bench-" + os.urandom(8).hex(),
        "storage": str(workdir / "muc.sqlite"),
        **MUC_SETTINGS,
        **(settings or {}),
    }))
    env = {k: v for k, v in os.environ.items()
           if k not in ("MUCSVC_COMPONENT_SECRET", "MUCSVC_CONFIG")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    argv = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
            "-n", "--pidfile="]
    if cprofile:
        argv += [f"--profile={cprofile}", "--profiler=cprofile", "--savestats"]
    argv += ["muc", "--config", str(config)]
    child = Child("twistd", argv, workdir, workdir / "twistd.log", env=env)
    return child, http_port


def link_up(http_port: int) -> bool:
    """The component link is up (a standby's ``/health`` is 200 with it down)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=2) as answer:
            return answer.status == 200 and json.load(answer)["component"]["state"] == "up"
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return False


def health_up(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


# -- the ceiling's echo component ------------------------------------------------------


def start_echo(workdir: pathlib.Path, domain: str, secret: str, component_port: int,
               timeout: float = 20.0) -> Child:
    ready = workdir / "echo.ready"
    argv = [sys.executable, "-m", "bench.echo", "--port", str(component_port),
            "--domain", domain, "--secret", secret, "--ready-file", str(ready)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    child = Child("echo", argv, REPO_ROOT, workdir / "echo.log", env=env)
    wait_until(ready.exists, timeout, "waiting for the echo component's handshake", child)
    return child
