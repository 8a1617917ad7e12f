"""Moderators retract messages (XEP-0425), in both versions clients send.

v0.3: ``<moderate xmlns='urn:xmpp:message-moderate:1' id='STANZA-ID'>``
holding ``<retract xmlns='urn:xmpp:message-retract:1'/>`` and an optional
``<reason/>``; v0.2: ``<apply-to xmlns='urn:xmpp:fasten:0' id='STANZA-ID'>``
holding ``<moderate xmlns='urn:xmpp:message-moderate:0'>`` with
``<retract xmlns='urn:xmpp:message-retract:0'/>`` and the reason.  Either
asks the application for the same use case (`MucApplication.moderate`);
the room hears of it before the moderator is answered, as in
mod_muc_moderation.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.payloads import child, child_text
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.rooms.errors import NoSuchMessage
from mucsvc.storage.archive import seq_of

#: Moderation is retraction here; another action is not something we do.
_ONLY_RETRACTION = "Only retraction is supported"


class ModerationHandler:
    def __init__(self, context):
        self.context = context

    def moderate(self, iq, sender, room, moderate):
        """v0.3: ``<moderate/>`` is the IQ's payload."""
        if child(moderate, namespaces.RETRACT_1, "retract") is None:
            raise Refusal("feature-not-implemented", "cancel", _ONLY_RETRACTION)
        return self._moderate(iq, sender, room, moderate.getAttribute("id"),
                              child_text(moderate, namespaces.MODERATE_1, "reason"))

    def apply_to(self, iq, sender, room, apply_to):
        """v0.2: ``<apply-to/>`` (XEP-0422 fastening) holding ``<moderate/>``."""
        moderate = child(apply_to, namespaces.MODERATE_0, "moderate")
        if moderate is None:
            raise Refusal("service-unavailable")  # another kind of fastening
        if child(moderate, namespaces.RETRACT_0, "retract") is None:
            raise Refusal("feature-not-implemented", "cancel", _ONLY_RETRACTION)
        return self._moderate(iq, sender, room, apply_to.getAttribute("id"),
                              child_text(moderate, namespaces.MODERATE_0, "reason"))

    def _moderate(self, iq, sender, room, sid, reason):
        if not sid:
            raise Refusal("bad-request", "modify", "Missing the id of the message to moderate")
        seq = seq_of(sid)
        if seq is None:
            raise NoSuchMessage(None)  # not an id this service gave out
        return self.context.app.moderate(room, sender, seq, reason,
                                         acknowledge=lambda: self.context.send(iq_result(iq)))


def retraction_target(stanza) -> str | None:
    """The stanza id a groupchat message retracts (XEP-0424: v1's
    ``<retract id=…/>``, v0's ``<apply-to id=…><retract/></apply-to>``), or
    None for an ordinary message."""
    for element_ in stanza.elements():
        name, uri = element_.name, element_.uri
        if name == "retract" and uri == namespaces.RETRACT_1:
            return element_.getAttribute("id") or ""
        if name == "apply-to" and uri == namespaces.FASTEN and \
                child(element_, namespaces.RETRACT_0, "retract") is not None:
            return element_.getAttribute("id") or ""
    return None
