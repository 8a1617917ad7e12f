"""See mucsvc work: a private Prosody on loopback, the service attached, two
demo users chatting in a persistent room, then the service in the foreground.

Run through ``scripts/try-it`` (which installs what this needs first).  All
state lives in ``.try-it/`` and is kept from one run to the next: Prosody's
accounts, the rooms' SQLite file, and the ports (``ports.json``), so that a
persistent room survives a restart and a client set up once keeps working.
``--fresh`` starts over.  The standard ports (5222 for clients, 5347 for the
component link, 5280 for HTTP) are taken when they are free, because some
clients (Dino) cannot be told another port; a port that is busy is replaced
by a free one, and that choice is kept too.  Ctrl-C stops the service and
the Prosody.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import shutil
import signal
import socket
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
USERS = ("alice", "bob", "admin")
ROOM = "lobby@muc.localhost"
KICK_AUTHORIZATION = "Bearer try-it-kick"
HATS_AUTHORIZATION = "Bearer try-it-hats"
ADMIN_AUTHORIZATION = "Bearer try-it-admin"
#: A 16x16 orange PNG, small enough for a curl line: the lobby's avatar.
LOBBY_AVATAR_PNG = ("iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAFklEQVR42mP438NAEmIY1TCqYfhqAAD9g4sQ"
                    "Ph6xkwAAAABJRU5ErkJggg==")
COMPONENT_SECRET = "try-it-secret"
#: Where each listener goes when nothing else holds that port.
STANDARD_PORTS = {"c2s": 5222, "component": 5347, "http": 5280}
PORTS_FILE = "ports.json"


# ---- ports ----------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port`` now (as Prosody
    and Twisted do, with SO_REUSEADDR: a port in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_ports(saved: dict | None, preferred: dict[str, int] = STANDARD_PORTS,
                 is_free=port_is_free, spare=lambda: free_ports(1)[0]):
    """``(ports, notes)``: for each listener the port of the last run
    (``saved``), else the preferred one, when it is free; otherwise a free
    port, with a note saying why."""
    ports: dict[str, int] = {}
    notes: list[str] = []
    for name, default in preferred.items():
        wanted = int((saved or {}).get(name, default))
        port = wanted
        while port in ports.values() or not is_free(port):
            port = spare()
        if port != wanted:
            why = "the last run's" if saved and name in saved else "the standard"
            notes.append(f"{name} port {wanted} ({why}) is in use by another program; "
                         f"using {port} instead")
        ports[name] = port
    return ports, notes


def read_ports(workdir: pathlib.Path) -> dict | None:
    try:
        saved = json.loads((workdir / PORTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) else None


def write_ports(workdir: pathlib.Path, ports: dict[str, int]) -> None:
    (workdir / PORTS_FILE).write_text(json.dumps(ports, indent=2) + "\n")


# ---- the service ----------------------------------------------------------------------


def write_config(workdir: pathlib.Path, prosody: ProsodyServer, http_port: int) -> pathlib.Path:
    config = workdir / "muc.toml"
    config.write_text(
        '# Written by scripts/try-it for the private Prosody in this folder.\n'
        'jid = "muc.localhost"\n'
        f'component_secret = "{prosody.component_secret}"\n'
        'component_host = "127.0.0.1"\n'
        f'component_port = {prosody.component_port}\n'
        f'http_endpoint = "tcp:{http_port}:interface=127.0.0.1"\n'
        f'http_muc_kick_authorization_header = "{KICK_AUTHORIZATION}"\n'
        f'http_muc_hats_authorization_header = "{HATS_AUTHORIZATION}"\n'
        f'http_muc_admin_authorization_header = "{ADMIN_AUTHORIZATION}"\n'
        f'storage = "{workdir / "rooms.sqlite"}"\n'
        'admins = ["admin@localhost"]\n')
    return config


def has_account(prosody: ProsodyServer, user: str) -> bool:
    """Whether Prosody's internal storage already holds ``user``'s account."""
    return (prosody.data_path / prosody.host / "accounts" / f"{user}.dat").exists()


def wait_healthy(http_port: int, service: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise SystemExit("try-it: the service exited; see its log (twistd.log)")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("try-it: the service did not connect to Prosody in time")


# ---- the demo -------------------------------------------------------------------------


async def demo(prosody: ProsodyServer) -> None:
    """Alice opens the lobby (a persistent room, made on the first run and
    found again on the next), Bob joins and sees what earlier runs said,
    and they exchange a line each."""
    from tests.integration.muc_scenarios import (
        config_submission, delay_of, is_subject_message, join_and_read, occupant)
    from tests.integration.stanzas import status_codes

    stamp = time.strftime("%H:%M:%S")
    async with all_logged_in(prosody, "alice", "bob", password=PASSWORD) as (alice, bob):
        me = occupant(ROOM, "Alice")
        alice.join(me)
        presence = await alice.expect_self_presence(me, None)
        await alice.expect_message(frm=ROOM, type="groupchat", where=is_subject_message)
        if 201 in status_codes(presence):
            await alice.request(ROOM, config_submission({
                "muc#roomconfig_roomname": "Lobby",
                "muc#roomconfig_persistentroom": "1",
            }), type="set")
            print(f"  alice created {ROOM} (persistent: it is kept in rooms.sqlite) and joined as Alice")
        else:
            print(f"  alice joined {ROOM} as Alice: the room was kept from the last run")
        _, traffic = await join_and_read(bob, ROOM, "Bob")
        earlier = [s for s in traffic if delay_of(s) is not None and s.xml.find("{jabber:client}body") is not None]
        print(f"  bob joined {ROOM} as Bob; the room's history holds {len(earlier)} earlier lines")
        for sender, receiver, nick, text in ((bob, alice, "Bob", f"Hello, Alice! ({stamp})"),
                                             (alice, bob, "Alice", f"Welcome, Bob. ({stamp})")):
            sender.send_message(ROOM, text)
            message = await receiver.expect_message(frm=occupant(ROOM, nick), body=text)
            print(f"  {receiver.jid.split('@')[0]} received from {message['from']}: {message['body']}")


def instructions(workdir: pathlib.Path, prosody: ProsodyServer, http_port: int,
                 config: pathlib.Path) -> str:
    base = f"http://127.0.0.1:{http_port}"
    query = f"user=alice@localhost&muc={ROOM}"
    return f"""
Connect any XMPP client that allows a plain password without TLS (poezio:
see the README):
  server   127.0.0.1, port {prosody.c2s_port} (no TLS)
  accounts alice@localhost, bob@localhost, admin@localhost (a service admin);
           password "{PASSWORD}" for each
  rooms    {ROOM} (persistent: it is here after a restart of try-it),
           or any ROOM@muc.localhost you create
HTTP API at {base}:
  health   no header needed
    curl {base}/health
  kick     Authorization: {KICK_AUTHORIZATION}   (kicks Bob while he is in the lobby)
    curl -H 'Authorization: {KICK_AUTHORIZATION}' -H 'Content-Type: application/json' \\
      --data '{{"nickname":"Bob","muc":"{ROOM}"}}' {base}/muc_kick
  hats     Authorization: {HATS_AUTHORIZATION}   (alice owns the lobby, so she may wear hats there)
    curl -H 'Authorization: {HATS_AUTHORIZATION}' -H 'Content-Type: application/json' \\
      --data '{{"user":"alice@localhost","muc":"{ROOM}","hat":"urn:example:hats:host","attachment":{{"active":true,"title":"Host"}}}}' \\
      {base}/muc_hats/add
    curl -H 'Authorization: {HATS_AUTHORIZATION}' '{base}/muc_hats?{query}'
  avatar   Authorization: {ADMIN_AUTHORIZATION}   (room administration: gives the lobby an avatar)
    curl -X PUT -H 'Authorization: {ADMIN_AUTHORIZATION}' -H 'Content-Type: application/json' \\
      --data '{{"type":"image/png","data":"{LOBBY_AVATAR_PNG}"}}' \\
      {base}/muc_admin/rooms/lobby/avatar
Service log: {workdir / "twistd.log"}   Config: {config}
State (accounts, rooms, ports) is kept in {workdir}; scripts/try-it --fresh starts over."""


# ---- the run --------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="scripts/try-it", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true",
                        help="forget the accounts, rooms and ports of earlier runs")
    parser.add_argument("--dir", type=pathlib.Path, default=ROOT / ".try-it",
                        help="where the state lives (default: .try-it/ in the repository)")
    parser.add_argument("--once", action="store_true",
                        help="stop after the demo instead of running until Ctrl-C")
    parser.add_argument("--prefer-ports", metavar="C2S,COMPONENT,HTTP",
                        help="ports to use when there are none from an earlier run "
                             "(default: 5222,5347,5280)")
    return parser.parse_args(argv)


def preferred_ports(text: str | None) -> dict[str, int]:
    if not text:
        return dict(STANDARD_PORTS)
    values = [int(part) for part in text.split(",")]
    if len(values) != len(STANDARD_PORTS):
        raise SystemExit("try-it: --prefer-ports takes three ports: C2S,COMPONENT,HTTP")
    return dict(zip(STANDARD_PORTS, values))


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    workdir = args.dir.resolve()
    if args.fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    saved = read_ports(workdir)
    ports, notes = choose_ports(saved, preferred_ports(args.prefer_ports))
    for note in notes:
        print(f"try-it: {note}")

    prosody = ProsodyServer(workdir / "prosody", component_secret=COMPONENT_SECRET)
    prosody.c2s_port, prosody.component_port = ports["c2s"], ports["component"]
    prosody.start()
    # Prosody moves to other ports if one was taken just before it bound it.
    ports.update(c2s=prosody.c2s_port, component=prosody.component_port)
    write_ports(workdir, ports)
    service = None
    try:
        for user in USERS:
            if not has_account(prosody, user):
                prosody.register(user, PASSWORD)
        config = write_config(workdir, prosody, ports["http"])
        twistd = shutil.which("twistd", path=str(pathlib.Path(sys.executable).parent)) or "twistd"
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("MUCSVC_CONFIG", None)
        env.pop("MUCSVC_COMPONENT_SECRET", None)
        with open(workdir / "twistd.log", "a") as log:
            service = subprocess.Popen([twistd, "-n", "--pidfile=", "muc", "--config", str(config)],
                                       cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=subprocess.STDOUT)
        wait_healthy(ports["http"], service)
        print("\nThe service is connected to a private Prosody on loopback. A short demo:")
        asyncio.run(asyncio.wait_for(demo(prosody), 60))
        print(instructions(workdir, prosody, ports["http"], config))
        if args.once:
            return 0
        print("The service runs until you press Ctrl-C.", flush=True)
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
        print("\nStopped the service and the private Prosody.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
