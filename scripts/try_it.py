"""See mucsvc work: a throwaway Prosody on loopback, the service attached,
two demo users chatting in a room, then the service in the foreground.

Run through ``scripts/try-it`` (which installs what this needs first).  All
state lives in ``.try-it/``; Ctrl-C stops the service and the Prosody.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.ports import free_ports  # noqa: E402
from tests.integration.prosody import ProsodyServer  # noqa: E402
from tests.integration.xmpp_client import all_logged_in  # noqa: E402

PASSWORD = "demo"
ROOM = "lobby@muc.localhost"


def write_config(workdir: pathlib.Path, prosody: ProsodyServer, http_port: int) -> pathlib.Path:
    config = workdir / "muc.toml"
    config.write_text(
        '# Written by scripts/try-it for the throwaway Prosody in this folder.\n'
        'jid = "muc.localhost"\n'
        f'component_secret = "{prosody.component_secret}"\n'
        'component_host = "127.0.0.1"\n'
        f'component_port = {prosody.component_port}\n'
        f'http_endpoint = "tcp:{http_port}:interface=127.0.0.1"\n'
        'http_muc_kick_authorization_header = "Bearer try-it"\n'
        f'storage = "{workdir / "rooms.sqlite"}"\n'
        'admins = ["admin@localhost"]\n')
    return config


def wait_healthy(http_port: int, service: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise SystemExit("try-it: the service exited; see its output above")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("try-it: the service did not connect to Prosody in time")


async def demo(prosody: ProsodyServer) -> None:
    """Alice opens a room, Bob joins, they exchange a line each."""
    async with all_logged_in(prosody, "alice", "bob", password=PASSWORD) as (alice, bob):
        from tests.integration.muc_scenarios import create_room, enter

        await create_room(alice, ROOM, "Alice")
        print(f"  alice created {ROOM} and joined as Alice")
        await enter(bob, ROOM, "Bob")
        print(f"  bob joined {ROOM} as Bob")
        bob.send_message(ROOM, "Hello, Alice!")
        message = await alice.expect_message(frm=f"{ROOM}/Bob")
        print(f"  alice received from {message['from']}: {message['body']}")
        alice.send_message(ROOM, "Welcome, Bob.")
        message = await bob.expect_message(frm=f"{ROOM}/Alice")
        print(f"  bob received from {message['from']}: {message['body']}")


def main() -> int:
    workdir = ROOT / ".try-it"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    prosody = ProsodyServer(workdir / "prosody")
    prosody.start()
    service = None
    try:
        for user in ("alice", "bob", "admin"):
            prosody.register(user, PASSWORD)
        (http_port,) = free_ports(1)
        config = write_config(workdir, prosody, http_port)
        twistd = shutil.which("twistd", path=str(pathlib.Path(sys.executable).parent)) or "twistd"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        service = subprocess.Popen([twistd, "-n", "--pidfile=", "muc", "--config", str(config)],
                                   cwd=workdir, env=env,
                                   stdout=open(workdir / "twistd.log", "w"), stderr=subprocess.STDOUT)
        wait_healthy(http_port, service)
        print("\nThe service is connected to a throwaway Prosody. A short demo:")
        asyncio.run(asyncio.wait_for(demo(prosody), 60))
        print(f"""
Try it with any XMPP client (no TLS, plain password):
  server 127.0.0.1 port {prosody.c2s_port}
  users  alice@localhost, bob@localhost, admin@localhost (service admin); password "{PASSWORD}"
  rooms  ROOM@muc.localhost, e.g. {ROOM}
Health: http://127.0.0.1:{http_port}/health
Service log: {workdir / "twistd.log"}   Config: {config}
The service runs until you press Ctrl-C.""")
        signal.signal(signal.SIGTERM, lambda *_: service.terminate())
        try:
            service.wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        if service is not None and service.poll() is None:
            service.terminate()
            try:
                service.wait(10)
            except subprocess.TimeoutExpired:
                service.kill()
        prosody.stop()
        print("\nStopped the service and the throwaway Prosody.")


if __name__ == "__main__":
    sys.exit(main())
