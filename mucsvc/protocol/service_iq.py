"""IQs addressed to the service JID itself (``muc.example.org``).

Service discovery (XEP-0030), ping (XEP-0199) and software version
(XEP-0092).  wokkel has handlers for these, but they answer for *every*
address, including ``room@service/nick``, where a MUC must forward the query
to the occupant instead.  So the service answers only what the router sends
it, and advertises only the features it really serves.
"""

from __future__ import annotations

from typing import Callable, Iterable

from twisted.words.xish import domish
from wokkel import disco

from mucsvc.jid import parse_jid
from mucsvc.protocol.replies import error_reply
from mucsvc.protocol.stanzas import result_reply

NS_MUC = "http://jabber.org/protocol/muc"
NS_PING = "urn:xmpp:ping"
NS_VERSION = "jabber:iq:version"

SERVICE_FEATURES = (
    disco.NS_DISCO_INFO,
    disco.NS_DISCO_ITEMS,
    NS_MUC,
    NS_PING,
    NS_VERSION,
)


class ServiceHandler:
    """Answers IQs to the service JID; everything else gets an error.

    ``public_rooms`` returns ``(room_jid, name)`` pairs for disco#items;
    ``extra_features`` lets other parts of the service (ad-hoc commands, …)
    add what they serve; ``iq_handlers`` maps ``(namespace, element name)``
    of an IQ's payload to a callable ``(iq, recipient) -> reply or None``
    for features that live elsewhere.
    """

    def __init__(self, send: Callable[[domish.Element], None], name: str, version: str,
                 public_rooms: Callable[[], Iterable[tuple[str, str]]] = lambda: (),
                 title: str = "Chatrooms"):
        self.send = send
        self.name = name
        self.version = version
        self.title = title
        self.public_rooms = public_rooms
        self.extra_features: list[str] = []
        self.iq_handlers: dict[tuple[str, str], Callable] = {}
        #: disco#items nodes: node -> callable(requester) -> [(jid, node, name)]
        self.item_nodes: dict[str, Callable] = {}

    def handle(self, stanza: domish.Element, recipient) -> None:
        if stanza.name != "iq":
            # Messages and presence to the service itself mean nothing here.
            if stanza.getAttribute("type") != "error" and stanza.name == "message":
                self.send(error_reply(stanza, "service-unavailable"))
            return
        iq_type = stanza.getAttribute("type")
        if iq_type not in ("get", "set"):
            return
        payload = _first_child(stanza)
        key = (payload.uri, payload.name) if payload is not None else None
        reply = None
        if iq_type == "get" and key == (disco.NS_DISCO_INFO, "query"):
            reply = self._disco_info(stanza, payload)
        elif iq_type == "get" and key == (disco.NS_DISCO_ITEMS, "query"):
            reply = self._disco_items(stanza, payload)
        elif iq_type == "get" and key == (NS_PING, "ping"):
            reply = result_reply(stanza)
        elif iq_type == "get" and key == (NS_VERSION, "query"):
            reply = self._version(stanza)
        elif key in self.iq_handlers:
            reply = self.iq_handlers[key](stanza, recipient)
        else:
            reply = error_reply(stanza, "service-unavailable")
        if reply is not None:
            self.send(reply)

    def features(self) -> list[str]:
        return list(SERVICE_FEATURES) + self.extra_features

    def _disco_info(self, iq, query):
        if query.getAttribute("node"):
            return error_reply(iq, "item-not-found")
        info = disco.DiscoInfo()
        info.append(disco.DiscoIdentity("conference", "text", self.title))
        for feature in self.features():
            info.append(disco.DiscoFeature(feature))
        return result_reply(iq, info.toElement())

    def _disco_items(self, iq, query):
        node = query.getAttribute("node")
        items = disco.DiscoItems()
        if node:
            if node not in self.item_nodes:
                return error_reply(iq, "item-not-found")
            items.nodeIdentifier = node
            for item_jid, item_node, name in self.item_nodes[node](iq.getAttribute("from")):
                items.append(disco.DiscoItem(_jid(item_jid), item_node, name))
        else:
            for room_jid, name in self.public_rooms():
                items.append(disco.DiscoItem(_jid(room_jid), name=name or None))
        return result_reply(iq, items.toElement())

    def _version(self, iq):
        query = domish.Element((NS_VERSION, "query"))
        query.addElement("name", content=self.name)
        query.addElement("version", content=self.version)
        return result_reply(iq, query)


def _first_child(stanza):
    for child in stanza.elements():
        return child
    return None


def _jid(value):
    return parse_jid(value)
