"""Stanza counts kept as plain integers, because counting sits on the hot path.

Every stanza the service receives passes ``StanzaRouter.onStanza`` and every
stanza it sends passes the component's ``send``; a room message to N
occupants is N stanzas.  A ``prometheus_client.Counter`` takes a lock on each
``inc()``, so the counts are kept here in ordinary dicts (the reactor thread
is the only writer) and handed to Prometheus when ``/metrics`` is scraped
(``mucsvc.web.metrics``).
"""

from __future__ import annotations

#: The stanza kinds of XMPP (RFC 6120 §8); anything else is not counted.
KINDS = ("message", "presence", "iq")

# Raw outgoing text comes from ``mucsvc.protocol.fanout.Outgoing``: every
# copy starts with ``<kind to="``, and a broadcast is one text holding every
# copy (one write to the link).  Two characters tell the kind; counting the
# copy head gives the number of stanzas in one pass of ``str.count`` (no
# parsing).  Text written otherwise counts as one stanza.
_KIND_OF_TEXT = {
    "<m": ("message", '<message to="'),
    "<p": ("presence", '<presence to="'),
    "<i": ("iq", '<iq to="'),
}


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
        """``send`` wrapped to count what passes through it into ``outbound``.

        ``send`` takes raw XML text (the broadcast path, possibly many
        stanzas in one string) or a domish element (replies built by wokkel
        handlers); both are counted by kind, one per stanza.
        """
        outbound = self.outbound
        kind_of_text = _KIND_OF_TEXT

        def counted_send(stanza):
            if isinstance(stanza, str):
                known = kind_of_text.get(stanza[:2])
                if known is not None:
                    kind, head = known
                    outbound[kind] += stanza.count(head) or 1
            elif stanza.name in outbound:
                outbound[stanza.name] += 1
            send(stanza)

        return counted_send
