"""Small helpers for building replies, shared by every handler."""

from __future__ import annotations

from twisted.words.protocols.jabber import error
from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from mucsvc.protocol import replies

NS_CLIENT = "jabber:client"


def wants_reply(stanza: domish.Element) -> bool:
    """Whether an error may be sent back: never for errors and IQ results (loops)."""
    stanza_type = stanza.getAttribute("type")
    if stanza_type == "error":
        return False
    if stanza.name == "iq" and stanza_type not in ("get", "set"):
        return False
    return True


def error_reply(stanza: domish.Element, condition: str, text: str | None = None,
                error_type: str | None = None) -> str:
    """An error response to ``stanza`` (addresses swapped, id kept), with
    the condition's usual type.  The request's payload is not echoed back:
    it may be large, and a copied ``<error/>`` would make two."""
    if error_type is None:
        error_type = error.STANZA_CONDITIONS.get(condition, {}).get("type", "cancel")
    return replies.error_reply(stanza, condition, error_type, text)


def result_reply(iq: domish.Element, *children: domish.Element) -> domish.Element:
    """An IQ result to ``iq`` carrying ``children``."""
    response = toResponse(iq, "result")
    for child in children:
        response.addChild(child)
    return response
