"""A throwaway PostgreSQL cluster for the tests: ``initdb`` in a temporary
directory, the server on a free loopback port with its socket in that
directory, stopped (and the directory removed) at the end.

It never touches a system cluster Debian's package may have started: its
own data directory, port and socket directory.  As root (initdb refuses
root) the server runs as the ``postgres`` user, or ``nobody``, with the
directory given to that user.  Clients connect over TCP with a password
(scram-sha-256), the way a deployment's ``postgresql://`` URL does.

Missing server binaries fail the test with the command that installs
them: a CI machine without PostgreSQL must not pass by skipping.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import pytest

USER = "mucsvc"
PASSWORD = "test-password"
INSTALL = "apt-get install -y postgresql   (or run scripts/setup)"


def server_binaries() -> str | None:
    """The newest ``/usr/lib/postgresql/*/bin`` with ``initdb``, else one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    on_path = shutil.which("initdb")
    return os.path.dirname(on_path) if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user():
    """``(name, uid, gid)`` to run the server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, entry.pw_uid, entry.pw_gid
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


class PostgresCluster:
    """One cluster; `database()` makes a fresh database and returns its URL.
    ``durable``: the server's own defaults (every commit waits for the disk),
    as a deployment has them; otherwise (tests) fsync is off."""

    def __init__(self, durable: bool = False):
        self.durable = durable
        bindir = server_binaries()
        if bindir is None:
            pytest.fail("PostgreSQL server binaries (initdb) not found; install them: " + INSTALL,
                        pytrace=False)
        self.bindir = bindir
        self.workdir = tempfile.mkdtemp(prefix="mucsvc-pg-")
        self.data = os.path.join(self.workdir, "data")
        self.port = _free_port()
        self.user = _server_user()
        if self.user is not None:
            os.chmod(self.workdir, 0o755)
            os.chown(self.workdir, self.user[1], self.user[2])
        pwfile = os.path.join(self.workdir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.user is not None:
            os.chown(pwfile, self.user[1], self.user[2])
        try:
            self._run("initdb", "-D", self.data, "-U", USER, "--pwfile", pwfile, "-E", "UTF8",
                      "--locale=C.UTF-8", "--auth=scram-sha-256", "--no-sync")
            self.start()
        except BaseException:
            self.destroy()
            raise

    def _run(self, tool, *args, check=True):
        command = [os.path.join(self.bindir, tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user[0], "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.workdir)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}):\n{result.stdout}"
                               f"\n{result.stderr}")
        return result

    @property
    def log_path(self) -> str:
        return os.path.join(self.workdir, "server.log")

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def start(self) -> None:
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", self.data, "-l", self.log_path, "-o", options, "-w",
                  "-t", "30", "start")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", self.data, "status", check=False).returncode == 0

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def destroy(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.stop("immediate")
        shutil.rmtree(self.workdir, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{dbname}"

    def keywords(self, dbname: str = "postgres") -> str:
        return (f"host=127.0.0.1 port={self.port} user={USER} password={PASSWORD}"
                f" dbname={dbname}")

    def admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def database(self) -> str:
        """The URL of a new, empty database."""
        name = "t_" + uuid.uuid4().hex[:12]
        self.admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def wait_until_ready(self, timeout: float = 20.0) -> None:
        import psycopg
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
