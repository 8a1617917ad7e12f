"""The broadcast hot path: serialize a stanza once, address it per recipient.

A room message to N occupants is one :class:`Outgoing` built once, then N
string concatenations.  Every broadcast of the service (messages, presence,
history, subject) goes through here, so speeding it up is done in one place.
"""

from __future__ import annotations

import functools

from mucsvc.protocol.xmltext import attrs, escape_attr


class Outgoing:
    """A stanza as text with a hole for its ``to`` address."""

    __slots__ = ("_head", "_tail", "kind")

    def __init__(self, name: str, attributes=(), content: str = ""):
        self.kind = name
        self._head = f'<{name} to="'
        opened = f'"{attrs(attributes)}'
        if content:
            self._tail = f"{opened}>{content}</{name}>"
        else:
            self._tail = f"{opened}/>"

    def to(self, jid: str) -> str:
        """The stanza addressed to ``jid``."""
        return self._head + address(jid) + self._tail

    def to_all(self, jids) -> str:
        """One text holding a copy for each of ``jids``, back to back."""
        head, tail = self._head, self._tail
        return "".join([head + address(jid) + tail for jid in jids])

    def extended(self, content: str) -> "Outgoing":
        """The same stanza with ``content`` (XML) added as its last children."""
        outgoing = Outgoing.__new__(Outgoing)
        outgoing.kind = self.kind
        outgoing._head = self._head
        tail = self._tail
        if tail.endswith("/>"):
            outgoing._tail = f"{tail[:-2]}>{content}</{self.kind}>"
        else:
            closing = f"</{self.kind}>"
            outgoing._tail = tail[:-len(closing)] + content + closing
        return outgoing

    @property
    def text(self) -> str:
        """The stanza with an empty ``to``: how history is stored."""
        return self._head + self._tail

    @classmethod
    def from_text(cls, text: str) -> "Outgoing":
        """Rebuild from :attr:`text` (a stored history message)."""
        split = text.find(' to="')
        if split < 0 or text[split + 5:split + 6] != '"':
            raise ValueError(f"not an addressable stanza: {text[:80]!r}")
        outgoing = cls.__new__(cls)
        outgoing.kind = text[1:split]
        outgoing._head = text[:split + 5]
        outgoing._tail = text[split + 5:]
        return outgoing


#: Escaped recipient addresses: the same few thousand recur all day, and a
#: cache hit costs less than checking a JID for characters to escape.
address = functools.lru_cache(maxsize=4096)(escape_attr)


class Fanout:
    """Sends :class:`Outgoing` stanzas through ``send`` (raw text to the link).

    A broadcast is written as one string holding every copy: the component
    stream carries stanzas back to back, and one write of N stanzas costs far
    less than N writes.  ``batch_send(kind, count, text)``, when given, is
    used instead for those writes, so that whoever counts stanzas (metrics)
    is told how many one text holds without scanning it.
    """

    __slots__ = ("send", "batch_send")

    def __init__(self, send, batch_send=None):
        self.send = send
        self.batch_send = batch_send if batch_send is not None else (
            lambda kind, count, text: send(text))

    def copies(self, kind: str, copies: list) -> None:
        """Texts already addressed, written at once."""
        if copies:
            self.batch_send(kind, len(copies), "".join(copies))

    def to_jids(self, stanza: Outgoing, jids) -> None:
        jids = list(jids)
        if jids:
            self.batch_send(stanza.kind, len(jids), stanza.to_all(jids))

    def to_occupants(self, stanza: Outgoing, occupants) -> None:
        """Every session of every occupant in ``occupants``."""
        jids = [jid for occupant in occupants for jid in occupant.sessions]
        if jids:
            self.batch_send(stanza.kind, len(jids), stanza.to_all(jids))
