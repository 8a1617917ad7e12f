"""One entry point for every stanza the component receives.

wokkel's usual style registers an XPath observer per feature; every stanza is
then matched against all of them.  A MUC gets most of its traffic addressed to
rooms and occupants, so we look at the ``to`` address once and hand the
stanza to the service handler (``to`` is the service JID) or the rooms
handler (``room@service`` or ``room@service/nick``).

It is also the one place where a handler's exception is turned into an
``internal-server-error`` reply and a log line, so a bad stanza never takes
the link down or leaves a client waiting.
"""

from __future__ import annotations

from twisted.logger import Logger
from wokkel.subprotocols import XMPPHandler

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol.replies import error_reply
from mucsvc.protocol.xmltext import escape_attr, escape_text
from mucsvc.protocol.stanzas import wants_reply
from mucsvc.stats import TrafficStats


class StanzaRouter(XMPPHandler):
    """Routes stanzas by recipient to ``service`` or ``rooms``.

    Both are objects with ``handle(stanza, recipient)``; ``rooms`` may be None
    while no room support is wired, in which case stanzas to rooms are
    answered with ``item-not-found`` as for a room that does not exist.
    ``traffic`` counts the stanzas received (for ``/metrics``).
    ``served`` (a `ServedRooms`, with ``component_slots``) learns from every
    stanza for a room that the room is served here, and takes the probes.
    """

    log = Logger()

    def __init__(self, service_jid: str, service, rooms=None, traffic=None, served=None):
        super().__init__()
        self.served = served
        self.service_jid = service_jid
        self.service = service
        self.rooms = rooms
        self.traffic = traffic if traffic is not None else TrafficStats()

    def connectionInitialized(self):
        for name in ("iq", "message", "presence"):
            self.xmlstream.addObserver("/" + name, self.onStanza)

    def onStanza(self, stanza):
        if getattr(stanza, "handled", False):
            return
        self.traffic.received(stanza.name)
        if stanza.name == "iq" and stanza.getAttribute("type") in ("result", "error"):
            # IQ responses to our own requests belong to the StreamManager.
            if self._is_service(stanza.getAttribute("to")):
                return
            if self.served is not None and stanza.getAttribute("from") == self.service_jid \
                    and self.served.is_probe(stanza):
                stanza.handled = True
                return
        stanza.handled = True
        if not _valid_sender(stanza.getAttribute("from")):
            return  # nobody to answer; the host server should not let it through
        try:
            self._route(stanza)
        except RecursionError:
            # Nested deeper than Python's stack lets us serialize: refused
            # before anything changed (payloads are serialized first).
            self.log.warn("refused a stanza nested too deeply: {stanza}", stanza=_excerpt(stanza))
            if wants_reply(stanza):
                self.send(error_reply(stanza, "policy-violation", "modify",
                                      "The stanza is nested too deeply"))
        except Exception:
            self.log.failure("error handling {stanza}", stanza=_excerpt(stanza))
            if wants_reply(stanza):
                self.send(error_reply(stanza, "internal-server-error"))

    def _is_service(self, to) -> bool:
        return to == self.service_jid

    def _route(self, stanza):
        recipient = parse_recipient(stanza.getAttribute("to"))
        if recipient is None or recipient.host != self.service_jid:
            if wants_reply(stanza):
                self.send(error_reply(stanza, "jid-malformed"))
            return
        if recipient.user is None:
            if recipient.resource is None:
                self.service.handle(stanza, recipient)
            elif wants_reply(stanza):
                self.send(error_reply(stanza, "service-unavailable"))
        elif self.rooms is not None:
            if self.served is not None:
                self.served.mark(recipient.userhost())
            self.rooms.handle(stanza, recipient)
        elif wants_reply(stanza):
            self.send(error_reply(stanza, "item-not-found"))


def _valid_sender(frm) -> bool:
    if not frm:
        return False
    try:
        parse_jid(frm)
    except InvalidJID:
        return False
    return True


def _excerpt(stanza, limit: int = 300) -> str:
    """The start of the stanza's XML, at most ``limit`` characters: a log
    line must not carry a huge payload.  Built without recursion and
    without serializing more than it shows, so that any stanza, however
    large or deeply nested, can be logged."""
    parts, size = [], 0
    stack = [stanza]
    while stack and size < limit:
        node = stack.pop()
        if isinstance(node, _Close):
            piece = f"</{node.name}>"
        elif isinstance(node, str):
            piece = escape_text(node)
        else:
            attributes = "".join(
                f' {key if isinstance(key, str) else key[1]}="{escape_attr(value)}"'
                for key, value in node.attributes.items())
            piece = f"<{node.name}{attributes}>"
            stack.append(_Close(node.name))
            stack.extend(reversed(node.children))
        parts.append(piece)
        size += len(piece)
    text = "".join(parts)
    return text[:limit] + "…" if stack or len(text) > limit else text


class _Close:
    """The end tag of an element, on `_excerpt`'s stack."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class RawResourceJID:
    """A recipient whose resource (a nick) fails stringprep.

    The room, not the router, decides what such a nick means: a join with it
    gets the room's own ``jid-malformed`` (Prosody's "Nickname must pass
    strict validation"), so the resource is handed on as it came.
    """

    __slots__ = ("user", "host", "resource")

    def __init__(self, user, host, resource):
        self.user, self.host, self.resource = user, host, resource

    def userhost(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def parse_recipient(to):
    """The stanza's ``to`` as a JID, or None when even its bare part is malformed."""
    if not to:
        return None
    try:
        return parse_jid(to)
    except InvalidJID:
        pass
    bare, slash, resource = to.partition("/")
    try:
        base = parse_jid(bare)
    except InvalidJID:
        return None
    if not slash or base.resource is not None:
        return None
    return RawResourceJID(base.user, base.host, resource)
