"""The broadcast hot path: serialize a stanza once, address it per recipient.

A room message to N occupants is one :class:`Outgoing` built once, then N
string concatenations.  Every broadcast of the service (messages, presence,
history, subject) goes through here, so speeding it up is done in one place.
"""

from __future__ import annotations

from mucsvc.protocol.xmltext import attrs, escape_attr


class Outgoing:
    """A stanza as text with a hole for its ``to`` address."""

    __slots__ = ("_head", "_tail")

    def __init__(self, name: str, attributes=(), content: str = ""):
        self._head = f'<{name} to="'
        opened = f'"{attrs(attributes)}'
        if content:
            self._tail = f"{opened}>{content}</{name}>"
        else:
            self._tail = f"{opened}/>"

    def to(self, jid: str) -> str:
        """The stanza addressed to ``jid``."""
        return self._head + escape_attr(jid) + self._tail

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
        outgoing._head = text[:split + 5]
        outgoing._tail = text[split + 5:]
        return outgoing


class Fanout:
    """Sends :class:`Outgoing` stanzas through ``send`` (raw text to the link).

    A broadcast is written as one string holding every copy: the component
    stream carries stanzas back to back, and one write of N stanzas costs far
    less than N writes.
    """

    __slots__ = ("send",)

    def __init__(self, send):
        self.send = send

    def to_jids(self, stanza: Outgoing, jids) -> None:
        to = stanza.to
        text = "".join([to(jid) for jid in jids])
        if text:
            self.send(text)

    def to_occupants(self, stanza: Outgoing, occupants) -> None:
        """Every session of every occupant in ``occupants``."""
        to = stanza.to
        text = "".join([to(jid) for occupant in occupants for jid in occupant.sessions])
        if text:
            self.send(text)
