"""What every throwaway XMPP server of the tests does the same way.

A server (Prosody, ejabberd) is one child process in a session of its own,
writing a log file and a console file into its work directory. Starting it
means: write its configuration, run it, and wait until its log says it
listens on the ports we picked and those ports accept; if another program
took one of them before the server's first start, pick new ones and try
once more (later starts keep their ports: clients and the component
already know them). What differs from server to server is small: the
command, how it says it listens, which log lines mean a port was taken,
how it is stopped. That is what a subclass gives.
"""

from __future__ import annotations

import pathlib
import subprocess

from tests.integration import reaper
from tests.integration.ports import wait_until


class ThrowawayServer(reaper.Supervised):
    """The lifecycle and the diagnostics of a throwaway server.

    A subclass sets ``label`` (its name in messages), ``error`` (the
    exception it raises), ``port_taken_markers`` (log lines meaning a port
    we picked was taken), ``log_path``, ``console_path`` and ``workdir``,
    and defines `_check_installed`, `_pick_ports`, `_prepare`, `_command`
    and `_listening`; `_terminate` may stop it otherwise than SIGTERM then
    SIGKILL.
    """

    label = "server"
    error: type[Exception] = RuntimeError
    port_taken_markers: tuple[str, ...] = ()
    start_timeout = 20.0
    stop_timeout = 10.0
    poll_interval = 0.05

    workdir: pathlib.Path
    log_path: pathlib.Path
    console_path: pathlib.Path
    _has_started = False
    _log_offset = 0

    # -- what a subclass gives ------------------------------------------------

    def _check_installed(self) -> None:
        """Fail the test (never skip it) when the server cannot run here."""

    def _pick_ports(self) -> None:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Directories and configuration, before each start."""
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _listening(self) -> bool:
        """The log says the server listens on our ports, and they accept
        (a port that accepts could belong to a program that took it)."""
        raise NotImplementedError

    def _ports_text(self) -> str:
        """The ports, for error messages."""
        return ""

    # -- lifecycle ---------------------------------------------------------------

    def start(self, timeout: float | None = None) -> None:
        """Start the server; return once it listens on its ports."""
        timeout = self.start_timeout if timeout is None else timeout
        self._check_installed()
        if self.running:
            raise self.error(f"{self.label} is already running")
        try:
            self._start_once(timeout)
        except self.error:
            if self._has_started or not self._port_was_taken():
                raise
            self._pick_ports()
            self._start_once(timeout)
        self._has_started = True

    def _start_once(self, timeout: float) -> None:
        self._prepare()
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.console_path, "ab") as console:
            process = subprocess.Popen(
                self._command(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = reaper.adopt(process)

        def settled() -> bool:
            return not self.running or self._port_was_taken() or self._listening()

        wait_until(settled, timeout, interval=self.poll_interval)
        ports = self._ports_text()
        if not self.running:
            code = process.returncode
            self._terminate()
            raise self.error(f"{self.label} exited with status {code} while starting\n"
                             f"{self.log_tail()}")
        if self._port_was_taken():
            self._terminate()
            raise self.error(f"{self.label} could not bind one of its ports {ports}\n"
                             f"{self.log_tail()}")
        if not self._listening():
            self._terminate()
            raise self.error(f"{self.label} did not open its ports {ports} within {timeout}s\n"
                             f"{self.log_tail()}")

    def _log_since_start(self) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _port_was_taken(self) -> bool:
        started = self._log_since_start()
        return any(marker in started for marker in self.port_taken_markers)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the server; idempotent."""
        self._terminate(self.stop_timeout if timeout is None else timeout)

    def _terminate(self, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        process, self._process = self._process, None
        if process is None:
            return
        reaper.terminate(process, self.stop_timeout if timeout is None else timeout)

    def restart(self, timeout: float | None = None) -> None:
        """Stop, then start again on the same ports with the same data."""
        self.stop()
        self.start(timeout)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- diagnostics ---------------------------------------------------------------

    def log_text(self) -> str:
        """Everything the server logged in this work directory, across restarts."""
        return self._read(self.log_path)

    def log_tail(self, lines: int = 60) -> str:
        """The last ``lines`` of the server's log and console, for failure messages."""
        name = self.label.lower()
        parts = []
        for label, path in ((f"{name} log", self.log_path), (f"{name} console", self.console_path)):
            text = self._read(path)
            if text.strip():
                tail = "\n".join(text.splitlines()[-lines:])
                parts.append(f"--- {label} ({path}) ---\n{tail}")
        return "\n".join(parts) or f"--- {name} wrote no log in {self.workdir} ---"

    @staticmethod
    def _read(path: pathlib.Path) -> str:
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
