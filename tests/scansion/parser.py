"""Read scansion scripts (``.scs``) into plain data.

A script is a title, a cast of ``[Client]`` characters with a JID and a
password, a line of dashes, then one statement after another::

    Romeo connects
    Romeo sends:
        <presence to="room@conference.localhost/Romeo"/>
    Romeo receives:
        <presence from="room@conference.localhost/Romeo"/>
    Romeo receives: nothing
    Romeo disconnects

The XML of ``sends:``/``receives:`` is the indented block below the
statement and may hold several stanzas. It is kept as text here: it can
only be parsed once ``${Romeo's full JID}`` is known, which is after Romeo
has connected (see ``substitute_variables``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

CLIENT_HEADER = re.compile(r"^\[Client\]\s+(?P<name>\S.*?)\s*$")
CLIENT_PROPERTY = re.compile(r"^\s+(?P<key>[A-Za-z_][\w-]*):\s*(?P<value>.*?)\s*$")
SEPARATOR = re.compile(r"^-{3,}\s*$")
# ${Romeo's full JID}, ${Juliet's phone's JID}: the last "'s " ends the name.
VARIABLE = re.compile(r"\$\{(?P<name>[^}]+)'s (?P<kind>full JID|JID)\}")

FULL_JID = "full JID"
BARE_JID = "JID"


class ScriptSyntaxError(ValueError):
    """The script does not follow the format; names the file and line."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line


class Action(enum.Enum):
    CONNECT = "connects"
    DISCONNECT = "disconnects"
    SEND = "sends:"
    RECEIVE = "receives:"
    RECEIVE_NOTHING = "receives: nothing"


@dataclass(frozen=True)
class ClientSpec:
    """A ``[Client]`` character: who logs in, and with which password."""

    name: str
    jid: str
    password: str

    @property
    def bare_jid(self) -> str:
        return self.jid.split("/", 1)[0]

    @property
    def username(self) -> str:
        return self.bare_jid.split("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.bare_jid.split("@", 1)[-1]

    @property
    def resource(self) -> str | None:
        """The resource to ask for at bind, if the script names one."""
        _, slash, resource = self.jid.partition("/")
        return resource if slash else None


@dataclass(frozen=True)
class Step:
    """One statement of the script body; ``xml`` is empty unless it sends or receives."""

    line: int
    client: str
    action: Action
    xml: str = ""

    def describe(self) -> str:
        return f"line {self.line}: {self.client} {self.action.value}"


@dataclass(frozen=True)
class Script:
    name: str
    title: str
    clients: Mapping[str, ClientSpec]
    steps: tuple[Step, ...]


def load_script(path: Path | str) -> Script:
    path = Path(path)
    return parse_script(path.read_text(encoding="utf-8"), source=path.name)


def parse_script(text: str, source: str = "<script>") -> Script:
    lines = text.splitlines()
    title, clients, body_start = _parse_header(lines, source)
    steps = tuple(_parse_body(lines, body_start, clients, source))
    for step in steps:
        _check_variables(step, clients, source)
    return Script(name=source, title=title, clients=clients, steps=steps)


def substitute_variables(xml: str, resolve: Callable[[str, str], str]) -> str:
    """Replace ``${Name's full JID}``/``${Name's JID}`` with ``resolve(name, kind)``.

    ``kind`` is ``FULL_JID`` or ``BARE_JID``. The value is escaped for use
    inside an XML attribute or text, where the scripts put it.
    """

    def replace(match: re.Match) -> str:
        return _escape_xml(resolve(match["name"], match["kind"]))

    return VARIABLE.sub(replace, xml)


def _escape_xml(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _is_comment(line: str) -> bool:
    return line.startswith("#")


def _parse_header(lines: list[str], source: str) -> tuple[str, dict[str, ClientSpec], int]:
    """Title and cast; returns the index of the first line after the dashes."""
    title = ""
    clients: dict[str, ClientSpec] = {}
    current: str | None = None
    properties: dict[str, str] = {}
    header_line = 0

    def finish_client() -> None:
        if current is None:
            return
        missing = [key for key in ("jid", "password") if key not in properties]
        if missing:
            raise ScriptSyntaxError(
                source, header_line, f"[Client] {current} lacks {', '.join(missing)}"
            )
        clients[current] = ClientSpec(current, properties["jid"], properties["password"])

    for index, line in enumerate(lines):
        number = index + 1
        if SEPARATOR.match(line):
            finish_client()
            if not clients:
                raise ScriptSyntaxError(source, number, "no [Client] before the dashes")
            return title, clients, index + 1
        if _is_comment(line):
            if not title and not clients and current is None:
                title = line.lstrip("#").strip()
            continue
        if not line.strip():
            continue
        header = CLIENT_HEADER.match(line)
        if header:
            finish_client()
            current, properties, header_line = header["name"], {}, number
            if current in clients:
                raise ScriptSyntaxError(source, number, f"[Client] {current} defined twice")
            continue
        prop = CLIENT_PROPERTY.match(line)
        if prop and current is not None:
            properties[prop["key"]] = prop["value"]
            continue
        raise ScriptSyntaxError(source, number, f"unexpected line in the header: {line!r}")
    raise ScriptSyntaxError(source, len(lines), "no line of dashes ends the header")


def _parse_body(lines: list[str], start: int, clients: Mapping[str, ClientSpec], source: str):
    # Longest names first, so "Juliet's phone" is not read as "Juliet".
    names = sorted(clients, key=len, reverse=True)
    index = start
    while index < len(lines):
        line = lines[index]
        number = index + 1
        index += 1
        if not line.strip() or _is_comment(line):
            continue
        if line[0].isspace():
            raise ScriptSyntaxError(source, number, "indented line outside a sends:/receives: block")
        name, action = _split_statement(line, names, source, number)
        if action in (Action.SEND, Action.RECEIVE):
            block, index = _read_block(lines, index)
            if not block.strip():
                raise ScriptSyntaxError(source, number, f"{name} {action.value} has no XML below it")
            yield Step(number, name, action, block)
        else:
            yield Step(number, name, action)


def _split_statement(line: str, names: list[str], source: str, number: int) -> tuple[str, Action]:
    for name in names:
        if line.startswith(name + " "):
            verb = " ".join(line[len(name) + 1 :].split())
            for action in Action:
                if verb == action.value:
                    return name, action
            raise ScriptSyntaxError(source, number, f"unknown action for {name}: {verb!r}")
    raise ScriptSyntaxError(source, number, f"statement names no [Client] of the script: {line!r}")


def _read_block(lines: list[str], index: int) -> tuple[str, int]:
    """The indented lines from ``index`` on (blank lines included), dedented."""
    block: list[str] = []
    while index < len(lines):
        line = lines[index]
        if line.strip() and not line[0].isspace():
            break
        block.append(line.strip())
        index += 1
    return "\n".join(block).strip(), index


def _check_variables(step: Step, clients: Mapping[str, ClientSpec], source: str) -> None:
    for match in VARIABLE.finditer(step.xml):
        if match["name"] not in clients:
            raise ScriptSyntaxError(
                source, step.line, f"{match[0]} names no [Client] of the script"
            )
    leftover = re.sub(VARIABLE, "", step.xml)
    if "${" in leftover:
        raise ScriptSyntaxError(source, step.line, "unknown ${...} variable in the XML")
