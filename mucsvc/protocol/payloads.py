"""What the service keeps of a client's stanza, as text ready to embed.

A session's presence is stored once as the XML of its children (show,
status, caps, vcard-update, …) minus everything in a namespace the service
owns (``namespaces.SERVICE_OWNED``), so it can be re-broadcast any number of
times without re-parsing or re-serializing.
"""

from __future__ import annotations

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol import namespaces
from mucsvc.protocol.xmltext import serialize_children


def forged_by(room_jid: str):
    """The one filter for what a client must not put in a stanza the room
    reflects or relays: everything in a namespace the service owns (MUC
    ``<x/>`` elements, occupant ids, hats), and anything claiming to come
    from the room itself (a ``<delay/>`` or legacy delay ``from`` it, a
    ``<stanza-id/>`` ``by`` it).  Prosody strips the same, so an occupant
    can fake neither history nor identity."""

    def forged(child) -> bool:
        uri = child.uri
        if uri in namespaces.SERVICE_OWNED:
            return True
        name = child.name
        if (name == "delay" and uri == namespaces.DELAY) or \
                (name == "x" and uri == namespaces.LEGACY_DELAY):
            return _names_room(child.getAttribute("from"), room_jid)
        if name == "stanza-id" and uri == namespaces.STANZA_ID:
            return _names_room(child.getAttribute("by"), room_jid)
        return False

    return forged


def _names_room(value, room_jid: str) -> bool:
    """Whether ``value`` is the room's JID, however a client spelled it
    (``ROOM@MUC.EXAMPLE.ORG`` too, as Prosody compares them prepped)."""
    if value is None:
        return False
    if value == room_jid:
        return True
    try:
        return parse_jid(value).full() == room_jid
    except InvalidJID:
        return False


def presence_payload(stanza, room_jid: str) -> str:
    """The presence's children a room passes on to other occupants."""
    return serialize_children(stanza, forged_by(room_jid))


def message_content(stanza, room_jid: str) -> str:
    """A groupchat message's children, minus what a client must not forge."""
    return serialize_children(stanza, forged_by(room_jid))


def private_content(stanza, room_jid: str) -> str:
    """A private message's children, minus what a client must not forge."""
    return serialize_children(stanza, forged_by(room_jid))


def kept_attributes(stanza) -> list:
    """The stanza's attributes other than the addresses: ``id``, ``type``,
    ``xml:lang``…, as ``(name, value)`` pairs for re-addressing the stanza."""
    pairs = []
    for key, value in stanza.attributes.items():
        if isinstance(key, tuple):
            uri, name = key
            if uri == namespaces.XML:
                pairs.append(("xml:" + name, value))
        elif key not in ("to", "from", "xmlns"):
            pairs.append((key, value))
    return pairs


def child(stanza, uri: str, name: str):
    """The first child element ``{uri}name``, or None."""
    for element in stanza.elements(uri, name):
        return element
    return None


def child_text(stanza, uri: str, name: str) -> str | None:
    element = child(stanza, uri, name)
    return None if element is None else str(element)
