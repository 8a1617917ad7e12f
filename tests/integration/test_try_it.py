"""``scripts/try_it.py`` run the way a user runs it, in a temporary folder.

Two runs in a row: the second finds the first one's persistent lobby, with
its history, on the same ports (even when told to prefer others), and the
accounts still log in; every curl line it prints works as printed; and
``--fresh`` starts over.

The first run is told to prefer free ports rather than the standard ones,
so that the test never competes with a real try-it (or another server) on
5222, 5347 or 5280.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import types
from xml.etree import ElementTree as ET

from tests.integration.muc_scenarios import enter, occupant
from tests.integration.ports import free_ports, wait_until
from tests.integration.xmpp_client import logged_in, run

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "try_it.py"
LOBBY = "lobby@muc.localhost"
RUNNING = "The service runs until you press Ctrl-C."


def environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items()
            if key not in ("MUCSVC_CONFIG", "MUCSVC_COMPONENT_SECRET")}


def try_it(workdir: pathlib.Path, *args: str) -> str:
    """One run to completion (``--once``); its output."""
    result = subprocess.run([sys.executable, str(SCRIPT), "--dir", str(workdir), "--once", *args],
                            cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"try-it exited with {result.returncode}:\n{output}\n{logs(workdir)}"
    return output


def logs(workdir: pathlib.Path) -> str:
    parts = []
    for path in (workdir / "twistd.log", workdir / "prosody" / "prosody.log"):
        if path.exists():
            parts.append(f"--- {path} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-40:]))
    return "\n".join(parts)


def client_port(output: str) -> int:
    found = re.search(r"server   127\.0\.0\.1, port (\d+)", output)
    assert found, output
    return int(found.group(1))


def http_base(output: str) -> str:
    found = re.search(r"HTTP API at (http://127\.0\.0\.1:\d+):", output)
    assert found, output
    return found.group(1)


def curl_lines(output: str) -> list[str]:
    """The printed curl commands, continuation lines joined as a shell does."""
    text = output.replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("curl ")]


def test_try_it_keeps_the_room_and_the_ports_across_runs(tmp_path):
    workdir = tmp_path / "try-it"
    first_ports = free_ports(3)
    first = try_it(workdir, "--prefer-ports", ",".join(map(str, first_ports)))
    assert f"alice created {LOBBY}" in first, first
    assert client_port(first) == first_ports[0] and http_base(first).endswith(f":{first_ports[2]}")
    assert json.loads((workdir / "ports.json").read_text()) == dict(
        zip(("c2s", "component", "http"), first_ports))

    # Told to prefer other ports, the second run still takes the first one's.
    second = try_it(workdir, "--prefer-ports", ",".join(map(str, free_ports(3))))
    assert f"alice joined {LOBBY} as Alice: the room was kept from the last run" in second, second
    assert "the room's history holds 2 earlier lines" in second, second
    assert client_port(second) == first_ports[0] and http_base(second) == http_base(first)
    assert "in use by another program" not in second, second

    # A third run, left running as a user would: the printed curl lines
    # work exactly as printed, and Bob can be kicked while he is in.
    output_path = tmp_path / "running.out"
    with open(output_path, "w") as output:
        process = subprocess.Popen([sys.executable, str(SCRIPT), "--dir", str(workdir)],
                                   cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert wait_until(lambda: RUNNING in output_path.read_text() or process.poll() is not None, 90)
        running = output_path.read_text()
        assert process.poll() is None, f"{running}\n{logs(workdir)}"
        assert client_port(running) == first_ports[0]
        answers = check_curl_lines(running, workdir)
        assert set(answers) == {"health", "kick", "hats add", "hats get", "avatar"}, running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
    assert process.returncode == 0, output_path.read_text()
    assert "Stopped the service and the private Prosody." in output_path.read_text()

    fresh = try_it(workdir, "--fresh", "--prefer-ports", ",".join(map(str, free_ports(3))))
    assert f"alice created {LOBBY}" in fresh, fresh
    assert "the room's history holds 0 earlier lines" in fresh, fresh


def check_curl_lines(output: str, workdir: pathlib.Path) -> dict[str, dict]:
    """Run each printed curl line in a shell, as printed; check its answer."""
    prosody = types.SimpleNamespace(host="localhost", c2s_port=client_port(output))
    answers: dict[str, dict] = {}

    def curl(line: str) -> dict:
        result = subprocess.run(["bash", "-c", line + " --silent"], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        return json.loads(result.stdout)

    async def main():
        # Bob in the lobby, so that the kick line has someone to kick.
        async with logged_in(prosody, "bob", "demo") as bob:
            await enter(bob, LOBBY, "Bob")
            for line in curl_lines(output):
                answer = curl(line)
                if line.endswith("/health"):
                    assert answer["component"]["state"] == "up", answer
                    answers["health"] = answer
                elif "/muc_kick" in line:
                    assert answer == {"kicked": "Bob", "muc": LOBBY}, answer
                    await bob.expect_presence(frm=occupant(LOBBY, "Bob"), type="unavailable")
                    answers["kick"] = answer
                elif "/muc_hats/add" in line:
                    assert answer["hats"]["urn:example:hats:host"]["title"] == "Host", answer
                    answers["hats add"] = answer
                elif "/muc_hats?" in line:
                    assert "urn:example:hats:host" in answer["hats"], answer
                    answers["hats get"] = answer
                elif line.endswith("/muc_admin/rooms/lobby/avatar"):
                    image = base64.b64decode(re.search(r'"data":"([^"]+)"', line).group(1))
                    assert answer == {"jid": LOBBY, "type": "image/png", "bytes": len(image),
                                      "hash": hashlib.sha1(image).hexdigest()}, answer
                    # What a client that shows room avatars fetches: the room's vCard.
                    reply = await bob.request(LOBBY, ET.Element("{vcard-temp}vCard"))
                    binval = reply.xml.findtext("{vcard-temp}vCard/{vcard-temp}PHOTO/{vcard-temp}BINVAL")
                    assert base64.b64decode(binval) == image, reply
                    answers["avatar"] = answer
                else:
                    raise AssertionError(f"a curl line this test does not know: {line}")

    started = time.monotonic()
    run(main())
    assert time.monotonic() - started < 60
    return answers
