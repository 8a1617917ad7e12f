"""A real XMPP client for integration tests: slixmpp logged in to a ProsodyServer.

Tests read like a conversation::

    async def scenario():
        async with all_logged_in(prosody, "alice", "bob") as (alice, bob):
            alice.join("room@muc.localhost/Alice")
            await alice.expect_self_presence("room@muc.localhost/Alice")
            bob.join("room@muc.localhost/Bob")
            await alice.expect_presence(frm="room@muc.localhost/Bob")
    run(scenario())

Every message, presence and IQ the client receives is recorded in arrival
order. ``expect*`` take the oldest recorded stanza that matches and has not
been taken yet, waiting for it within a bound; so a test need not ask in
the order of arrival, and a failure lists what did arrive instead.

asyncio is driven plainly with :func:`run` (one event loop per scenario),
so no pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.stanza import Iq
from slixmpp.xmlstream import StanzaBase

from tests.integration.stanzas import (
    ANY,
    CLIENT_NS,
    DISCO_INFO_NS,
    MUC_NS,
    Predicate,
    as_element,
    criteria,
    describe,
    error_condition,
    stanza_matches,
    status_codes,
)

DEFAULT_TIMEOUT = 10.0
SCENARIO_TIMEOUT = 60.0
DEFAULT_PASSWORD = "correct horse battery staple"
RECORDED = frozenset(f"{{{CLIENT_NS}}}{kind}" for kind in ("message", "presence", "iq"))

Payload = Iterable[ET.Element | str] | ET.Element | str


def run(coroutine, timeout: float = SCENARIO_TIMEOUT):
    """Run an async test scenario on a fresh event loop, bounded as a whole."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


class LoginFailed(AssertionError):
    """The client could not connect, authenticate or bind a session."""


class StanzaTimeout(AssertionError):
    """An awaited stanza did not arrive in time."""


class StanzaErrorReply(AssertionError):
    """An IQ was answered with an error where a result was expected."""

    def __init__(self, iq: StanzaBase):
        self.iq = iq
        self.condition = error_condition(iq)
        super().__init__(f"IQ answered with error {self.condition!r}:\n{describe(iq)}")


class _PlainClient(slixmpp.ClientXMPP):
    """slixmpp over plain TCP with PLAIN auth, as a loopback test server wants."""

    def __init__(self, jid: str, password: str, plugins: Iterable[str] = ()):
        super().__init__(jid, password)
        self.enable_plaintext = True
        self.enable_starttls = False
        self.enable_direct_tls = False
        self.plugin["feature_mechanisms"].unencrypted_plain = True
        for plugin in ("xep_0030", "xep_0092", "xep_0199", *plugins):
            self.register_plugin(plugin)


class XmppClient:
    """One logged-in user, with bounded waits for what it receives.

    Get one from :func:`logged_in`; ``client.xmpp`` is the slixmpp client
    underneath, for anything not covered here, with the slixmpp ``plugins``
    named (e.g. ``"xep_0313"``) registered beside disco, version and ping.
    """

    def __init__(
        self,
        jid: str,
        password: str,
        *,
        host: str = "127.0.0.1",
        port: int = 5222,
        plugins: Iterable[str] = (),
    ):
        self.xmpp = _PlainClient(jid, password, plugins)
        self.address = (host, port)
        self.received: list[StanzaBase] = []
        self._unclaimed: list[StanzaBase] = []
        self._arrived = asyncio.Event()
        self.xmpp.add_filter("in", self._record)

    @property
    def jid(self) -> str:
        """The full JID of the session, once logged in."""
        return str(self.xmpp.boundjid.full)

    @property
    def bare_jid(self) -> str:
        return str(self.xmpp.boundjid.bare)

    # -- connection ----------------------------------------------------------

    async def login(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Connect, authenticate and bind, or raise :class:`LoginFailed` saying why."""
        outcome = asyncio.get_running_loop().create_future()
        problems: list[str] = []

        def settle(succeeded: bool) -> None:
            if not outcome.done():
                outcome.set_result(succeeded)

        def refused(failure) -> None:
            problems.append(f"authentication failed: {failure}")
            settle(False)

        self.xmpp.add_event_handler("session_start", lambda _: settle(True))
        self.xmpp.add_event_handler("failed_auth", refused)
        self.xmpp.add_event_handler("failed_all_auth", lambda _: settle(False))
        self.xmpp.add_event_handler("disconnected", lambda _: settle(False))
        self.xmpp.add_event_handler(
            "connection_failed", lambda error: problems.append(f"connection failed: {error}")
        )

        self.xmpp.connect(*self.address)
        try:
            succeeded = await asyncio.wait_for(outcome, timeout)
        except asyncio.TimeoutError:
            succeeded = False
            problems.append(f"no session after {timeout:g}s")
        if not succeeded:
            await self.abort()
            host, port = self.address
            reason = "; ".join(problems) or "stream closed before a session was bound"
            raise LoginFailed(f"{self.xmpp.requested_jid} could not log in to {host}:{port}: {reason}")

    async def logout(self, timeout: float = 5.0) -> None:
        """Close the stream politely, and forcibly if the server does not answer."""
        if self.xmpp.transport is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.xmpp.disconnect(wait=timeout), timeout + 1)
        await self.abort()

    async def abort(self) -> None:
        """Drop the connection at once, and end slixmpp's task that sends
        stanzas: left pending, asyncio would report it destroyed when the
        client is collected."""
        self.xmpp.cancel_connection_attempt()
        self.xmpp.abort()
        sender = self.xmpp._run_out_filters
        if sender is not None and not sender.done():
            sender.cancel()
            await asyncio.wait([sender])

    # -- sending -------------------------------------------------------------

    def send_presence(
        self,
        to: str | None = None,
        *,
        type: str | None = None,  # noqa: A002  (the XMPP attribute's name)
        payload: Payload = (),
        status: str | None = None,
        show: str | None = None,
    ) -> StanzaBase:
        """Send a presence stanza and return it (``type=None``: available)."""
        presence = self.xmpp.make_presence(pto=to, ptype=type, pstatus=status, pshow=show)
        _append(presence, payload)
        presence.send()
        return presence

    def send_message(
        self,
        to: str,
        body: str | None = None,
        *,
        type: str = "groupchat",  # noqa: A002
        payload: Payload = (),
        subject: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> StanzaBase:
        """Send a message (``groupchat`` unless told otherwise) and return it."""
        message = self.xmpp.make_message(mto=to, mbody=body, mtype=type, msubject=subject)
        if id is not None:
            message["id"] = id
        _append(message, payload)
        message.send()
        return message

    def send_raw(self, xml: str) -> None:
        """Send XML as is, for stanzas the helpers above cannot express."""
        self.xmpp.send_raw(xml)

    async def request(
        self,
        to: str,
        payload: ET.Element | str,
        *,
        type: str = "get",  # noqa: A002
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Iq:
        """Send an IQ and return its result; an error reply raises :class:`StanzaErrorReply`."""
        iq = self.xmpp.make_iq(ito=to, itype=type)
        iq.xml.append(as_element(payload))
        try:
            return await iq.send(timeout=timeout)
        except IqError as error:
            raise StanzaErrorReply(error.iq) from None
        except IqTimeout:
            raise StanzaTimeout(
                f"{self.jid}: no answer within {timeout:g}s to\n{describe(iq)}\n{self._recent()}"
            ) from None

    async def request_error(
        self,
        to: str,
        payload: ET.Element | str,
        *,
        type: str = "get",  # noqa: A002
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Iq:
        """Send an IQ that must be refused, and return the error reply.

        ``stanzas.error_condition(reply)`` gives its condition.
        """
        try:
            result = await self.request(to, payload, type=type, timeout=timeout)
        except StanzaErrorReply as refusal:
            return refusal.iq
        raise AssertionError(f"expected an error reply, got a result:\n{describe(result)}")

    async def disco_info(self, to: str, node: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Iq:
        """disco#info of ``to``; an error reply raises :class:`StanzaErrorReply`."""
        query = ET.Element(f"{{{DISCO_INFO_NS}}}query")
        if node is not None:
            query.set("node", node)
        return await self.request(to, query, timeout=timeout)

    async def sync(self, to: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Round-trip a disco#info query through ``to`` (a room or the service).

        Whatever ``to`` sent us before answering has arrived once this
        returns, so a test can then check that something did *not* happen
        (see :meth:`unclaimed`) without sleeping. disco#info rather than
        ping because every MUC service and room must answer it.
        """
        await self.disco_info(to, timeout=timeout)

    # -- group chat ------------------------------------------------------------

    def join(
        self,
        occupant_jid: str,
        *,
        password: str | None = None,
        max_history: int | None = None,
        payload: Iterable[ET.Element | str] = (),
    ) -> StanzaBase:
        """Send the presence that enters ``room@service/nick`` (XEP-0045 §7.2).

        Await the outcome with :meth:`expect_self_presence`, or a refusal
        with ``expect_presence(frm=occupant_jid, type="error")``.
        """
        x = ET.Element(f"{{{MUC_NS}}}x")
        if password is not None:
            ET.SubElement(x, f"{{{MUC_NS}}}password").text = password
        if max_history is not None:
            ET.SubElement(x, f"{{{MUC_NS}}}history", maxstanzas=str(max_history))
        return self.send_presence(occupant_jid, payload=[x, *payload])

    def leave(self, occupant_jid: str, status: str | None = None) -> StanzaBase:
        return self.send_presence(occupant_jid, type="unavailable", status=status)

    # -- receiving -------------------------------------------------------------

    async def expect(
        self,
        predicate: Predicate,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        what: str = "matching stanza",
    ) -> StanzaBase:
        """Take the oldest unclaimed stanza satisfying ``predicate``, waiting at most ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, stanza in enumerate(self._unclaimed):
                if predicate(stanza):
                    del self._unclaimed[index]
                    return stanza
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise StanzaTimeout(f"{self.jid}: no {what} within {timeout:g}s\n{self._recent()}")
            self._arrived.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def expect_presence(
        self,
        frm=ANY,
        type=ANY,  # noqa: A002
        *,
        where: Predicate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> StanzaBase:
        """The next presence from ``frm`` with ``type`` (``None``/"available": no type)."""
        return await self.expect(
            lambda s: stanza_matches(s, "presence", frm=frm, type=type, where=where),
            timeout=timeout,
            what=criteria("presence", frm=frm, type=type),
        )

    async def expect_self_presence(
        self,
        occupant_jid: str,
        type=ANY,  # noqa: A002
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> StanzaBase:
        """Our own occupant presence: from ``occupant_jid``, with status code 110."""
        return await self.expect_presence(
            occupant_jid, type, where=lambda s: 110 in status_codes(s), timeout=timeout
        )

    async def expect_message(
        self,
        frm=ANY,
        type=ANY,  # noqa: A002
        body=ANY,
        *,
        where: Predicate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> StanzaBase:
        """The next message from ``frm`` with ``type`` and ``body`` if given."""

        def matches(stanza: StanzaBase) -> bool:
            return stanza_matches(stanza, "message", frm=frm, type=type, where=where) and (
                body is ANY or stanza.xml.findtext(f"{{{CLIENT_NS}}}body") == body
            )

        return await self.expect(
            matches, timeout=timeout, what=criteria("message", frm=frm, type=type, body=body)
        )

    async def expect_iq(
        self,
        frm=ANY,
        type=ANY,  # noqa: A002
        *,
        where: Predicate | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> StanzaBase:
        """The next IQ from ``frm``: requests to us, and answers to ours."""
        return await self.expect(
            lambda s: stanza_matches(s, "iq", frm=frm, type=type, where=where),
            timeout=timeout,
            what=criteria("iq", frm=frm, type=type),
        )

    def unclaimed(self, predicate: Predicate = lambda stanza: True) -> list[StanzaBase]:
        """Received stanzas that no ``expect*`` took yet, matching ``predicate``."""
        return [stanza for stanza in self._unclaimed if predicate(stanza)]

    def take(self, predicate: Predicate) -> list[StanzaBase]:
        """Claim every received stanza satisfying ``predicate`` now, in
        arrival order, without waiting (e.g. the results of an archive query
        once its final answer came)."""
        taken: list[StanzaBase] = []
        kept: list[StanzaBase] = []
        for stanza in self._unclaimed:
            (taken if predicate(stanza) else kept).append(stanza)
        self._unclaimed = kept
        return taken

    def forget_unclaimed(self) -> None:
        """Drop what arrived so far, e.g. the presence burst after joining."""
        self._unclaimed.clear()

    # -- internals -------------------------------------------------------------

    def _record(self, stanza: StanzaBase) -> StanzaBase:
        if stanza.xml.tag in RECORDED:
            self.received.append(stanza)
            self._unclaimed.append(stanza)
            self._arrived.set()
        return stanza

    def _recent(self, count: int = 10) -> str:
        if not self._unclaimed:
            return f"(nothing unclaimed; {len(self.received)} stanzas received in all)"
        shown = self._unclaimed[-count:]
        lines = [f"unclaimed stanzas ({len(self._unclaimed)}, the last {len(shown)}):"]
        lines += [f"  {describe(stanza)}" for stanza in shown]
        return "\n".join(lines)


def _append(stanza: StanzaBase, payload: Payload) -> None:
    if isinstance(payload, (str, ET.Element)):
        payload = [payload]
    for element in payload:
        stanza.xml.append(as_element(element))


@contextlib.asynccontextmanager
async def logged_in(
    prosody,
    user: str,
    password: str = DEFAULT_PASSWORD,
    *,
    resource: str = "test",
    timeout: float = DEFAULT_TIMEOUT,
    plugins: Iterable[str] = (),
):
    """An :class:`XmppClient` for ``user@prosody.host/resource``, logged out after.

    With ``internal_hashed`` authentication the account must exist (the
    ``account`` fixture registers it with ``DEFAULT_PASSWORD``); with
    ``insecure`` any password is accepted.
    """
    client = XmppClient(
        f"{user}@{prosody.host}/{resource}",
        password,
        host="127.0.0.1",
        port=prosody.c2s_port,
        plugins=plugins,
    )
    await client.login(timeout)
    try:
        yield client
    finally:
        await client.logout()


@contextlib.asynccontextmanager
async def all_logged_in(
    prosody,
    *users: str,
    password: str = DEFAULT_PASSWORD,
    timeout: float = DEFAULT_TIMEOUT,
    plugins: Iterable[str] = (),
):
    """Several clients: ``async with all_logged_in(p, "alice", "bob") as (alice, bob)``."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                logged_in(prosody, user, password, timeout=timeout, plugins=plugins)
            )
            for user in users
        ]
        yield tuple(clients)
