"""Play a parsed script against a running XMPP server, as scansion does.

Statements run one after another. ``sends`` sends at once. ``receives``
takes the client's received stanzas in arrival order until one matches the
expected stanza; stanzas that do not match are passed over (servers send
things a script does not mention), so expected stanzas must still arrive
in the script's order. Each expected stanza has ``receive_timeout`` seconds
to arrive. ``receives: nothing`` holds if no stanza arrives within
``quiet_period`` seconds.

The scripts talk to ``conference.localhost``; ``Target.muc_domain`` rewrites
that domain in every sent and expected stanza, which turns Prosody's MUC
tests into tests of any MUC service on the same server.

The first failure raises ``ScriptFailure`` (an ``AssertionError``) whose
message shows the statement, the expected stanza, what arrived meanwhile
and why each did not match, and the statements before, so that a failure
in CI explains itself. Problems of the setup rather than of the server's
behaviour (cannot log in, script names an unknown JID) raise other errors.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn
from xml.etree.ElementTree import Element

from tests.scansion.client import StreamClosed, XmppClient
from tests.scansion.matcher import mismatch
from tests.scansion.parser import (
    BARE_JID,
    FULL_JID,
    Action,
    Script,
    Step,
    substitute_variables,
)
from tests.scansion.stanzas import parse_stanzas, to_xml

REFERENCE_MUC_DOMAIN = "conference.localhost"
# Prosody answers a loopback client in milliseconds; seconds leave room for
# a loaded machine while keeping a failing script short. A slow CI machine
# may raise it with SCANSION_RECEIVE_TIMEOUT (seconds).
DEFAULT_RECEIVE_TIMEOUT = float(os.environ.get("SCANSION_RECEIVE_TIMEOUT", "3"))
DEFAULT_QUIET_PERIOD = 0.75
# After a send, give the server time to read it before the next statement:
# stanzas of different clients travel on different sockets, and a server
# that reads both in one go may handle them in either order, while the
# script means them in its order.
SEND_SETTLE_TIME = 0.05
LOGIN_TIMEOUT = 10.0
DISCONNECT_TIMEOUT = 3.0
CONTEXT_STEPS = 6  # statements shown before a failure
SHOWN_PASSED_OVER = 8  # received-but-not-matching stanzas shown in a failure


class ScriptFailure(AssertionError):
    """The server did not behave as the script says."""

    def __init__(self, message: str, *, script: str, step: Step, expected: Element | None):
        super().__init__(message)
        self.script = script
        self.step = step
        self.expected = expected


class ScriptError(Exception):
    """The script cannot be played as written (not the server's fault)."""


@dataclass(frozen=True)
class Target:
    """Where to play: a server's c2s port, and the MUC domain under test."""

    c2s_port: int
    address: str = "127.0.0.1"
    muc_domain: str = REFERENCE_MUC_DOMAIN


@dataclass
class _Character:
    client: XmppClient | None = None
    full_jid: str | None = None


def rewrite_muc_domain(xml: str, muc_domain: str) -> str:
    """``conference.localhost`` -> ``muc_domain`` wherever a JID names it."""
    if muc_domain == REFERENCE_MUC_DOMAIN:
        return xml
    return re.sub(r"(?<![\w.-])conference\.localhost(?![\w.-])", muc_domain, xml)


def run_script(
    script: Script,
    target: Target,
    *,
    receive_timeout: float = DEFAULT_RECEIVE_TIMEOUT,
    quiet_period: float = DEFAULT_QUIET_PERIOD,
    connect: Callable[..., XmppClient] = XmppClient.connect,
) -> list[str]:
    """Play ``script``; return the transcript, or raise ``ScriptFailure``.

    ``connect`` logs a character in (``XmppClient.connect``'s keywords); the
    player's own tests pass a stand-in that needs no server.
    """
    player = _Player(script, target, receive_timeout, quiet_period, connect)
    try:
        for step in script.steps:
            player.play(step)
    finally:
        player.disconnect_everyone()
    return player.transcript


@dataclass
class _Player:
    script: Script
    target: Target
    receive_timeout: float
    quiet_period: float
    connect: Callable[..., XmppClient]
    transcript: list[str] = field(default_factory=list)
    characters: dict[str, _Character] = field(default_factory=dict)

    def play(self, step: Step) -> None:
        handler = {
            Action.CONNECT: self._connect,
            Action.DISCONNECT: self._disconnect,
            Action.SEND: self._send,
            Action.RECEIVE: self._receive,
            Action.RECEIVE_NOTHING: self._receive_nothing,
        }[step.action]
        handler(step)

    # -- statements -------------------------------------------------------------

    def _connect(self, step: Step) -> None:
        character = self.characters.setdefault(step.client, _Character())
        if character.client is not None:
            raise ScriptError(f"{self._where(step)}: {step.client} is already connected")
        spec = self.script.clients[step.client]
        client = self.connect(
            port=self.target.c2s_port,
            address=self.target.address,
            username=spec.username,
            password=spec.password,
            domain=spec.domain,
            resource=spec.resource,
            name=spec.name,
            timeout=LOGIN_TIMEOUT,
        )
        character.client, character.full_jid = client, client.full_jid
        self._log(step, f"as {client.full_jid}")

    def _disconnect(self, step: Step) -> None:
        client = self._client(step)
        client.disconnect(DISCONNECT_TIMEOUT)
        self.characters[step.client].client = None
        self._log(step, "")

    def _send(self, step: Step) -> None:
        client = self._client(step)
        for stanza in self._stanzas(step):
            try:
                client.send(stanza)
            except StreamClosed as closed:
                self._fail(step, f"could not send {to_xml(stanza)}: {closed}", None, [])
            self._log(step, to_xml(stanza))
        time.sleep(SEND_SETTLE_TIME)

    def _receive(self, step: Step) -> None:
        client = self._client(step)
        for expected in self._stanzas(step):
            self._await_match(step, client, expected)

    def _await_match(self, step: Step, client: XmppClient, expected: Element) -> None:
        passed_over: list[tuple[Element, str]] = []
        deadline = time.monotonic() + self.receive_timeout
        while True:
            try:
                received = client.next_stanza(deadline - time.monotonic())
            except StreamClosed as closed:
                self._fail(step, f"stream closed before a match: {closed}", expected, passed_over)
            if received is None:
                self._fail(
                    step,
                    f"no matching stanza within {self.receive_timeout:g}s",
                    expected,
                    passed_over,
                )
            reason = mismatch(expected, received)
            if reason is None:
                self._log(step, to_xml(received))
                return
            passed_over.append((received, reason))

    def _receive_nothing(self, step: Step) -> None:
        client = self._client(step)
        try:
            received = client.next_stanza(self.quiet_period)
        except StreamClosed:
            received = None  # a closed stream delivers nothing
        if received is not None:
            self._fail(
                step,
                f"expected nothing within {self.quiet_period:g}s, got:\n"
                f"{_indent(to_xml(received, pretty=True))}",
                None,
                [],
            )
        self._log(step, "nothing, as expected")

    # -- helpers ------------------------------------------------------------------

    def _client(self, step: Step) -> XmppClient:
        character = self.characters.get(step.client)
        if character is None or character.client is None:
            raise ScriptError(f"{self._where(step)}: {step.client} is not connected")
        return character.client

    def _stanzas(self, step: Step) -> list[Element]:
        xml = rewrite_muc_domain(step.xml, self.target.muc_domain)
        xml = substitute_variables(xml, lambda name, kind: self._jid(step, name, kind))
        return parse_stanzas(xml)

    def _jid(self, step: Step, name: str, kind: str) -> str:
        spec = self.script.clients[name]
        full_jid = self.characters.get(name, _Character()).full_jid
        if kind == BARE_JID:
            return full_jid.split("/", 1)[0] if full_jid else spec.bare_jid
        assert kind == FULL_JID
        if full_jid is None:
            raise ScriptError(f"{self._where(step)}: {name}'s full JID is unknown before {name} connects")
        return full_jid

    def disconnect_everyone(self) -> None:
        """Leave cleanly, so that the server tidies up rooms before the next script."""
        for character in self.characters.values():
            if character.client is not None:
                character.client.disconnect(DISCONNECT_TIMEOUT)
                character.client = None

    def _log(self, step: Step, what: str) -> None:
        self.transcript.append(f"{step.describe()} {what}".rstrip())

    def _where(self, step: Step) -> str:
        return f"{self.script.name} line {step.line} ({step.client} {step.action.value.rstrip(':')})"

    def _fail(
        self,
        step: Step,
        summary: str,
        expected: Element | None,
        passed_over: list[tuple[Element, str]],
    ) -> NoReturn:
        parts = [f"{self._where(step)}: {summary}"]
        if expected is not None:
            parts.append("expected:\n" + _indent(to_xml(expected, pretty=True)))
        if passed_over:
            parts.append(f"received meanwhile, not matching ({len(passed_over)}):")
            for received, reason in passed_over[-SHOWN_PASSED_OVER:]:
                parts.append(_indent(to_xml(received, pretty=True)) + f"\n    -> {reason}")
        elif expected is not None:
            parts.append("received meanwhile: nothing")
        if self.transcript:
            parts.append("before that:\n" + _indent("\n".join(self.transcript[-CONTEXT_STEPS:])))
        raise ScriptFailure("\n".join(parts), script=self.script.name, step=step, expected=expected)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())

