"""Reading received stanzas in tests: matching, error conditions, MUC details.

Works on slixmpp stanza objects through their ElementTree (``stanza.xml``),
so a test can assert exactly what went over the wire rather than what
slixmpp's interfaces make of it (slixmpp reports a presence without a type
attribute as ``"available"``, for instance).
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.xmlstream import StanzaBase, tostring

CLIENT_NS = "jabber:client"
STANZA_ERROR_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DISCO_INFO_NS = "http://jabber.org/protocol/disco#info"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
OCCUPANT_ID_NS = "urn:xmpp:occupant-id:0"

# Marks an attribute a test does not care about (``None`` would be
# ambiguous: it means "attribute absent", e.g. an available presence).
ANY = object()

Predicate = Callable[[StanzaBase], bool]


def as_element(payload: ET.Element | str) -> ET.Element:
    """Accept a payload either as XML text or as an element."""
    return ET.fromstring(payload) if isinstance(payload, str) else payload


def describe(stanza: StanzaBase | ET.Element) -> str:
    """A stanza as XML text, for failure messages."""
    return tostring(stanza.xml if isinstance(stanza, StanzaBase) else stanza)


def stanza_kind(stanza: StanzaBase) -> str:
    """``message``, ``presence`` or ``iq``."""
    return stanza.xml.tag.split("}", 1)[-1]


def error_condition(stanza: StanzaBase) -> str | None:
    """The defined condition of a stanza error, e.g. ``service-unavailable``."""
    error = stanza.xml.find(f"{{{CLIENT_NS}}}error")
    if error is None:
        return None
    for condition in error:
        name = condition.tag.split("}", 1)[-1]
        if condition.tag.startswith(f"{{{STANZA_ERROR_NS}}}") and name != "text":
            return name
    return None


def disco_identities(info: StanzaBase) -> set[tuple[str, str]]:
    """``(category, type)`` of each identity in a disco#info result."""
    return {
        (identity.get("category"), identity.get("type"))
        for identity in info.xml.iter(f"{{{DISCO_INFO_NS}}}identity")
    }


def disco_features(info: StanzaBase) -> set[str]:
    """The ``var`` of each feature in a disco#info result."""
    return {feature.get("var") for feature in info.xml.iter(f"{{{DISCO_INFO_NS}}}feature")}


def status_codes(stanza: StanzaBase) -> set[int]:
    """The MUC status codes (``<status code='110'/>``) of a presence or message."""
    return {
        int(status.get("code"))
        for status in stanza.xml.iterfind(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}status")
        if (status.get("code") or "").isdigit()
    }


def occupant_id(stanza: StanzaBase) -> str | None:
    """The XEP-0421 occupant id the room stamped on ``stanza``."""
    element = stanza.xml.find(f"{{{OCCUPANT_ID_NS}}}occupant-id")
    return element.get("id") if element is not None else None


def muc_item(stanza: StanzaBase) -> dict[str, str]:
    """Attributes of the ``muc#user`` item: affiliation, role, jid, nick."""
    item = stanza.xml.find(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")
    return dict(item.attrib) if item is not None else {}


def stanza_matches(
    stanza: StanzaBase,
    kind: str,
    frm=ANY,
    type=ANY,  # noqa: A002  (the XMPP attribute's name)
    where: Predicate | None = None,
) -> bool:
    """Whether ``stanza`` is a ``kind`` with these attributes and passes ``where``.

    ``frm`` is compared as a JID (case in the domain does not matter);
    ``type=None`` (or ``"available"`` for presence) means no type attribute.
    """
    if stanza_kind(stanza) != kind:
        return False
    if frm is not ANY and slixmpp.JID(stanza.xml.get("from", "")) != slixmpp.JID(frm):
        return False
    if type is not ANY:
        wanted = None if (kind, type) == ("presence", "available") else type
        if stanza.xml.get("type") != wanted:
            return False
    return where is None or bool(where(stanza))


def criteria(kind: str, **attributes) -> str:
    """How an awaited stanza is described in a failure message."""
    shown = ", ".join(f"{name}={value!r}" for name, value in attributes.items() if value is not ANY)
    return f"{kind}({shown})"
