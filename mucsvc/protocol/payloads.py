"""What the service keeps of a client's stanza, as text ready to embed.

A session's presence is stored once as the XML of its children (show,
status, caps, vcard-update, …) minus everything in a namespace the service
owns (``namespaces.SERVICE_OWNED``), so it can be re-broadcast any number of
times without re-parsing or re-serializing.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.xmltext import serialize_children


def _owned(child) -> bool:
    return child.uri in namespaces.SERVICE_OWNED


def presence_payload(stanza) -> str:
    """The presence's children a room passes on to other occupants."""
    return serialize_children(stanza, _owned)


def is_room_delay(room_jid: str):
    """A filter for delay elements that claim to come from the room itself.

    Prosody strips them from groupchat messages, so an occupant cannot fake
    history; so do we."""

    def skip(child) -> bool:
        if child.uri in (namespaces.OCCUPANT_ID, namespaces.HATS, namespaces.LEGACY_HATS):
            return True
        if (child.name == "delay" and child.uri == namespaces.DELAY) or \
                (child.name == "x" and child.uri == namespaces.LEGACY_DELAY):
            return child.getAttribute("from") == room_jid
        return False

    return skip


def message_content(stanza, room_jid: str) -> str:
    """A groupchat message's children, minus spoofed room delays and owned ids."""
    return serialize_children(stanza, is_room_delay(room_jid))


def private_content(stanza) -> str:
    """A private message's children minus the MUC namespaces (Prosody's filter)."""
    return serialize_children(stanza, _owned)


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
