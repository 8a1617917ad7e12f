"""Small helpers for building replies, shared by every handler."""

from __future__ import annotations

from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish


def wants_reply(stanza: domish.Element) -> bool:
    """Whether an error may be sent back: never for errors and IQ results (loops)."""
    stanza_type = stanza.getAttribute("type")
    if stanza_type == "error":
        return False
    if stanza.name == "iq" and stanza_type not in ("get", "set"):
        return False
    return True


def result_reply(iq: domish.Element, *children: domish.Element) -> domish.Element:
    """An IQ result to ``iq`` carrying ``children``."""
    response = toResponse(iq, "result")
    for child in children:
        response.addChild(child)
    return response
