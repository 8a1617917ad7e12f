"""Which rate-limit budget a stanza spends, and the refusal when it is spent.

A message with neither ``<body/>`` nor ``<subject/>`` (a chat state, a
receipt, a chat marker, a reaction) is a *signal*: clients send one around
every line a person types or pastes, so it spends a budget of its own and
never the one for what people read (see ``rooms.limits.SenderBudgets``).

The refusal keeps the message's ``id`` and, like Prosody's mod_muc_limits,
carries the refused ``<body/>`` back, so that a client can show which line
did not go out.
"""

from __future__ import annotations

from mucsvc.protocol.payloads import child
from mucsvc.protocol.replies import refusal_reply
from mucsvc.protocol.xmltext import text_element
from mucsvc.rooms.errors import Overactive

OVERACTIVE_TEXT = "The room is currently overactive, please try again later"


def is_signal(stanza) -> bool:
    """Whether ``stanza`` is a message with neither body nor subject."""
    if stanza.name != "message":
        return False
    uri = stanza.uri
    for element_ in stanza.elements():
        if element_.uri == uri and element_.name in ("body", "subject"):
            return False
    return True


def overactive_reply(stanza, by: str, max_chars: int | None) -> str:
    """The ``policy-violation`` (wait) reply to a stanza over its budget;
    a message's body comes back with it unless it is over ``max_chars``."""
    reply = refusal_reply(stanza, Overactive(OVERACTIVE_TEXT), by=by)
    if stanza.name != "message":
        return reply
    body = child(stanza, stanza.uri, "body")
    if body is None:
        return reply
    text = str(body)
    if max_chars is not None and len(text) > max_chars:
        return reply
    closing = "</message>"
    return reply[:-len(closing)] + text_element("body", text) + closing
