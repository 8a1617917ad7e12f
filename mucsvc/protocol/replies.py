"""Error and result replies written as text, with the MUC's conventions.

Like Prosody, a room's errors name the room in ``<error by='…'>``, carry the
domain's explanation in ``<text/>``, and do not echo the request's payload.
"""

from __future__ import annotations

from twisted.words.protocols.jabber import error as jabber_error

from mucsvc.protocol import namespaces
from mucsvc.protocol.errors import condition_text, stanza_error
from mucsvc.protocol.xmltext import attrs, element, text_element


def error_reply(stanza, condition: str, error_type: str | None = None, text: str | None = None,
                by: str | None = None, condition_text: str | None = None) -> str:
    """The error response to ``stanza`` (addresses swapped, id kept), of
    the condition's usual type unless ``error_type`` says otherwise.  The
    request's payload is not echoed: it may be large, and a copied
    ``<error/>`` would make two.  ``condition_text``: the content of the
    condition element (the new address of ``<gone/>``)."""
    if error_type is None:
        error_type = jabber_error.STANZA_CONDITIONS.get(condition, {}).get("type", "cancel")
    content = text_element(condition, condition_text or "", (("xmlns", namespaces.STANZAS),))
    if text:
        content += text_element("text", text, (("xmlns", namespaces.STANZAS),))
    error = element("error", (("type", error_type), ("by", by)), content)
    head = attrs((("to", stanza.getAttribute("from")), ("from", stanza.getAttribute("to")),
                  ("id", stanza.getAttribute("id")), ("type", "error")))
    return f"<{stanza.name}{head}>{error}</{stanza.name}>"


def refusal_reply(stanza, error, by: str | None = None) -> str:
    """The reply for a refusal (a ``MucError`` or a ``Refusal``), from the
    one error table."""
    condition, error_type, text = stanza_error(error)
    return error_reply(stanza, condition, error_type, text, by, condition_text(error))


def iq_result(iq, content: str = "", frm: str | None = None) -> str:
    """An IQ result to ``iq`` carrying ``content`` (XML text)."""
    head = attrs((("to", iq.getAttribute("from")), ("from", frm or iq.getAttribute("to")),
                  ("id", iq.getAttribute("id")), ("type", "result")))
    return f"<iq{head}>{content}</iq>" if content else f"<iq{head}/>"
