"""Shared test helpers for driving protocol handlers without a socket."""

import mucsvc  # noqa: F401  (wokkel compatibility first)
from wokkel.generic import parseXml
from wokkel.test.helpers import TestableStreamManager

from mucsvc.protocol.router import StanzaRouter
from mucsvc.protocol.service_iq import ServiceHandler

SERVICE = "muc.example.org"


def stanza(xml: str):
    """A domish element from XML text, with jabber:client as default namespace."""
    return parseXml(xml.encode("utf-8"))


class Wire:
    """A stream manager with the router attached; ``receive`` plays inbound XML."""

    def __init__(self, rooms=None, service_jid=SERVICE, served=None):
        self.manager = TestableStreamManager()
        self.service = ServiceHandler(self.manager.send, name="mucsvc", version="1.2.3")
        self.router = StanzaRouter(service_jid, self.service, rooms, served=served)
        self.router.setHandlerParent(self.manager)
        self.output = self.manager.stub.output

    def receive(self, xml: str):
        element = stanza(xml)
        self.manager.stub.send(element)
        return element

    def take(self):
        """The stanzas sent since the last call, as elements."""
        sent = stanzas_in(self.output)
        del self.output[:]
        return sent


def stanzas_in(sent) -> list:
    """Every stanza in what the service sent: elements, and texts that may
    hold several stanzas back to back (a broadcast is written at once)."""
    out = []
    for item in sent:
        if isinstance(item, str):
            out.extend(parseXml(f"<batch>{item}</batch>".encode("utf-8")).elements())
        else:
            out.append(item)
    return out
