"""Stanza counts kept as plain integers, because counting sits on the hot path.

Every stanza the service receives passes ``StanzaRouter.onStanza`` and every
stanza it sends passes the component's ``send``; a room message to N
occupants is N stanzas.  A ``prometheus_client.Counter`` takes a lock on each
``inc()``, so the counts are kept here in ordinary dicts (the reactor thread
is the only writer) and handed to Prometheus when ``/metrics`` is scraped
(``mucsvc.web.metrics``).
"""

from __future__ import annotations

import collections

#: The stanza kinds of XMPP (RFC 6120 §8); anything else is not counted.
KINDS = ("message", "presence", "iq")

# Raw outgoing text starts with the stanza's name: two characters tell it.
_KIND_OF_TEXT = {"<m": "message", "<p": "presence", "<i": "iq"}


class TrafficStats:
    """Stanzas received (``inbound``) and sent (``outbound``) by kind."""

    __slots__ = ("inbound", "outbound")

    def __init__(self):
        self.inbound = dict.fromkeys(KINDS, 0)
        self.outbound = dict.fromkeys(KINDS, 0)

    def received(self, kind: str) -> None:
        """Count one inbound stanza named ``kind``."""
        try:
            self.inbound[kind] += 1
        except KeyError:
            pass

    def counting(self, send):
        """``send`` wrapped to count one stanza per call into ``outbound``.

        ``send`` takes one stanza, as raw XML text or a domish element.
        Broadcasts, which write many stanzas in one text, go through
        :meth:`counting_batches` instead, which is told the number.
        """
        outbound = self.outbound
        kind_of_text = _KIND_OF_TEXT

        def counted_send(stanza):
            if isinstance(stanza, str):
                kind = kind_of_text.get(stanza[:2])
                if kind is not None:
                    outbound[kind] += 1
            elif stanza.name in outbound:
                outbound[stanza.name] += 1
            send(stanza)

        return counted_send

    def counting_batches(self, send):
        """``batch_send(kind, count, text)`` for ``Fanout``: ``count`` stanzas
        of ``kind`` written as one ``text``, counted without scanning it."""
        outbound = self.outbound

        def counted_batch(kind, count, text):
            outbound[kind] += count
            send(text)

        return counted_batch


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


class EventCounts:
    """A listener of the application: how many of each event happened.
    Counted by event class on the hot path (one dict update), named when
    read (`counts`: snake_case event name -> count) by ``/metrics``."""

    __slots__ = ("_by_type",)

    def __init__(self):
        self._by_type = collections.Counter()

    def __call__(self, event) -> None:
        self._by_type[event.__class__] += 1

    @property
    def counts(self) -> dict:
        return {_snake(kind.__name__): count for kind, count in self._by_type.items()}
