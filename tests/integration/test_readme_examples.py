"""Every curl example of README.md, run as written and in order, against the
setup the README describes: the service with the README's configuration
block, behind a real Prosody serving ``example.org``, with Alice, Bob and
Eve where the README's story puts them.

How examples are found (keep to it when adding one, in any section):

- an example is a command in a code block (indented by four spaces or
  more, or fenced with three backticks) whose first line starts with
  ``curl ``; it goes on over lines ending in a backslash, and over line
  breaks inside quotes (a JSON body written on two lines);
- the line after it may say ``# answers NNN``: the HTTP status it must get;
  without one, any 2xx will do;
- it runs with ``bash -c``, exactly as written but for the port: the
  service listens on a free port and ``127.0.0.1:5280`` becomes
  ``127.0.0.1:PORT``. It runs in the repository's root (a file it sends,
  with ``--data-binary @FILE`` say, is named from there). ``$ID`` is the stanza id of Alice's message in the snuggery, as the
  README says. Only curl's own defaults are set (a ``.curlrc`` in
  ``$CURL_HOME``: ``--fail-with-body``, ``--silent --show-error``, and a
  ``--write-out`` of the status), which change no request;
- the configuration block is the code block that starts with the line
  ``# The configuration the examples assume``; the service runs with
  exactly those keys (and the component link, storage and secret this
  Prosody needs, which the README leaves to the reader).

So a new section's curl lines are picked up by themselves, and must fit
the story: the rooms and users it names, and what the examples before
them did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import pathlib
import re
import shlex
import subprocess
import tomllib

import pytest

from tests.integration.archive_scenarios import say
from tests.integration.muc_process import REPO_ROOT, MucProcess
from tests.integration.muc_scenarios import create_room, drain, enter, occupant, status_code_list
from tests.integration.prosody import ProsodyServer
from tests.integration.stanzas import describe
from tests.integration.xmpp_client import all_logged_in, run

README = REPO_ROOT / "README.md"
CONFIG_MARKER = "# The configuration the examples assume"
ANSWER = re.compile(r"#\s*answers\s+(\d{3})\s*$")
README_ADDRESS = "127.0.0.1:5280"
README_PORT = 5280
#: The endpoints whose sections must each have an example.
EXAMPLED = ("/health", "/openapi.json", "/metrics", "/muc_kick", "/muc_moderate", "/muc_admin/",
            "/muc_hats")

USERS = ("alice", "bob", "eve")
RETRACT = "urn:xmpp:message-retract:1"
CONFERENCE = "jabber:x:conference"


@dataclasses.dataclass(frozen=True)
class Example:
    line: int  # in README.md, from 1
    command: str
    status: int | None  # None: any 2xx

    def __str__(self) -> str:
        return f"README.md line {self.line}:\n{self.command}"


# ---- reading the README -------------------------------------------------------------


def code_lines(text: str) -> list[tuple[int, str, bool]]:
    """``(line number, line, in code)`` for every line of ``text``."""
    lines = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append((number, line, False))
            continue
        lines.append((number, line, fenced or line.startswith("    ")))
    return lines


def complete(command: str) -> bool:
    """Whether ``command`` is a whole shell command: no trailing backslash,
    no open quote."""
    if command.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


def examples(text: str) -> list[Example]:
    lines = code_lines(text)
    found = []
    index = 0
    while index < len(lines):
        number, line, in_code = lines[index]
        index += 1
        if not (in_code and line.lstrip().startswith("curl ")):
            continue
        indent = len(line) - len(line.lstrip())
        command = [line[indent:]]
        while not complete("\n".join(command)) and index < len(lines):
            command.append(lines[index][1][indent:] if lines[index][1][:indent].isspace()
                           else lines[index][1].lstrip())
            index += 1
        status = None
        if index < len(lines):
            answer = ANSWER.fullmatch(lines[index][1].strip())
            if answer:
                status = int(answer.group(1))
        found.append(Example(number, "\n".join(command), status))
    return found


def example_config(text: str) -> dict:
    """The keys of the README's configuration block."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == CONFIG_MARKER]
    assert len(starts) == 1, f"README.md needs exactly one block starting {CONFIG_MARKER!r}"
    block = []
    for line in lines[starts[0] + 1:]:
        if not line.strip() or not line.startswith("    "):
            break
        block.append(line.strip())
    return tomllib.loads("\n".join(block))


README_TEXT = README.read_text(encoding="utf-8")
EXAMPLES = examples(README_TEXT)
CONFIG = example_config(README_TEXT)
ROOMS = {name: f"{name}@{CONFIG['jid']}" for name in ("snuggery", "classroom")}
HOST = CONFIG["jid"].split(".", 1)[1]  # muc.example.org -> example.org


# ---- the setup the README describes --------------------------------------------------


@pytest.fixture(scope="module")
def prosody(tmp_path_factory):
    """Prosody serving the README's host, with the README's service domain."""
    server = ProsodyServer(tmp_path_factory.mktemp("prosody"), host=HOST,
                           component_domain=CONFIG["jid"], admins=())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def muc(prosody, tmp_path_factory):
    """The service with the README's configuration, on a free port."""
    settings = dict(CONFIG)
    service = MucProcess(tmp_path_factory.mktemp("muc"), prosody, **settings)
    endpoint = settings["http_endpoint"]
    assert f"tcp:{README_PORT}:" in endpoint, endpoint
    service.config_overrides["http_endpoint"] = endpoint.replace(
        f"tcp:{README_PORT}:", f"tcp:{service.http_port}:")
    service.start()
    yield service
    service.stop()


@pytest.fixture
def curl_home(tmp_path):
    """A ``$CURL_HOME`` whose ``.curlrc`` makes curl fail on an error status
    and print the status last; the commands stay as written."""
    (tmp_path / ".curlrc").write_text(
        'fail-with-body\nsilent\nshow-error\nwrite-out = "\\n%{http_code}"\n')
    return tmp_path


def run_example(example: Example, port: int, curl_home: pathlib.Path, stanza_id: str):
    command = example.command.replace(README_ADDRESS, f"127.0.0.1:{port}")
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CURL_HOME": str(curl_home),
                   "HOME": str(curl_home), "ID": stanza_id}
    return subprocess.run(["bash", "-c", command], env=environment, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=30)


# ---- the tests ------------------------------------------------------------------------


def test_the_examples_are_found_in_every_http_section():
    commands = "\n".join(example.command for example in EXAMPLES)
    for path in EXAMPLED:
        assert f"{README_ADDRESS}{path}" in commands, f"no curl example of {path} in README.md"
    for example in EXAMPLES:
        assert README_ADDRESS in example.command, example
        assert complete(example.command), example


def test_every_curl_example_works_as_written_in_order(prosody, muc, users, curl_home):
    async def story(alice, bob, eve):
        # Bob is online (initial presence), as a client is: the invitation
        # to him is a message to his bare JID.
        bob.send_presence()
        await bob.expect_presence(frm=bob.jid, type=None)
        for name in ("snuggery", "classroom"):
            await create_room(alice, ROOMS[name], "Alice")
        await enter(bob, ROOMS["snuggery"], "Bob")
        await enter(eve, ROOMS["snuggery"], "Eve")
        await drain(ROOMS["snuggery"], alice, bob, eve)
        stanza_id = await say(alice, ROOMS["snuggery"], "Alice", "Who took the last biscuit?",
                              bob, eve)

        for example in EXAMPLES:
            done = await asyncio.to_thread(run_example, example, muc.http_port, curl_home,
                                           stanza_id)
            output, _, status = done.stdout.rpartition("\n")
            shown = f"{example}\nexit {done.returncode}, status {status}\n{output}\n{done.stderr}"
            if example.status is None:
                assert done.returncode == 0 and status.startswith("2"), shown
            else:
                assert status == str(example.status), shown
                assert done.returncode == (0 if example.status < 400 else 22), shown

        # What the story did reached the clients: Bob kicked, Eve banned,
        # Alice's message retracted, the room's message to those still in,
        # the invitation to Bob.
        snuggery = ROOMS["snuggery"]
        kicked = await bob.expect_presence(frm=occupant(snuggery, "Bob"), type="unavailable")
        assert status_code_list(kicked) == [307, 110], describe(kicked)
        banned = await eve.expect_presence(frm=occupant(snuggery, "Eve"), type="unavailable")
        assert status_code_list(banned) == [301, 110], describe(banned)
        retraction = await alice.expect_message(
            frm=snuggery, where=lambda s: s.xml.find(f"{{{RETRACT}}}retract") is not None)
        assert retraction.xml.find(f"{{{RETRACT}}}retract").get("id") == stanza_id, \
            describe(retraction)
        await alice.expect_message(frm=snuggery, type="groupchat",
                                   body="The room closes in five minutes")
        invitation = await bob.expect_message(
            frm=f"garden@{CONFIG['jid']}",
            where=lambda s: s.xml.find(f"{{{CONFERENCE}}}x") is not None)
        assert invitation.xml.find(f"{{{CONFERENCE}}}x").get("reason") == "Tea at five"

    async def main():
        async with all_logged_in(prosody, *USERS) as clients:
            await story(*clients)

    run(main(), timeout=120)
