"""Retraction as stanzas: the moderation announcement and the tombstones.

The application decides who retracts what (a `Retraction`) and asks these
texts of the edge, which it then archives, keeps in the history and
broadcasts.  Each stanza speaks both versions clients use, as
mod_muc_moderation's announcement does: XEP-0425 v0.2 (``urn:xmpp:fasten:0``
``<apply-to/>`` with ``urn:xmpp:message-moderate:0``, Gajim, Conversations)
and v0.3 (``urn:xmpp:message-retract:1`` ``<retract/>`` with
``urn:xmpp:message-moderate:1``).

A tombstone keeps the original's start tag (its ``from``, ``type``, ``id``,
``xml:lang``) and its author's occupant id, and nothing else of it: no
body, no attachment, no reply or reaction, nothing that leaks what it said.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.archive_render import archived_text, history_replay, stanza_id_element
from mucsvc.protocol.context import xmpp_datetime
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.storage.archive import sid_text


def moderator_jid(room_jid: str, moderator) -> str | None:
    """The ``by`` of a moderation: ``room/nick``, the room itself for the
    service, nothing for a moderator without a nick in the room."""
    if moderator.is_service:
        return room_jid
    return f"{room_jid}/{moderator.nick}" if moderator.nick else None


def _occupant_id(occupant_id) -> str:
    if not occupant_id:
        return ""
    return element("occupant-id", (("xmlns", namespaces.OCCUPANT_ID), ("id", occupant_id)))


def _reason(reason) -> str:
    return "" if reason is None else text_element("reason", reason)


def announcement_content(room_jid: str, retraction) -> str:
    """The children of the room's announcement of a moderation (without
    its stanza id): v0.2's ``<apply-to/>``, then v0.3's ``<retract/>``."""
    moderator = retraction.moderator
    by = moderator_jid(room_jid, moderator)
    actor = _occupant_id(moderator.occupant_id)
    reason = _reason(retraction.reason)
    sid = sid_text(retraction.seq)
    legacy = element("apply-to", (("xmlns", namespaces.FASTEN), ("id", sid)), element(
        "moderated", (("xmlns", namespaces.MODERATE_0), ("by", by)),
        actor + element("retract", (("xmlns", namespaces.RETRACT_0),)) + reason))
    current = element("retract", (("xmlns", namespaces.RETRACT_1), ("id", sid)), element(
        "moderated", (("xmlns", namespaces.MODERATE_1), ("by", by)), actor) + reason)
    return legacy + current


def tombstone_content(room_jid: str, retraction) -> str:
    """What a tombstone holds after the author's occupant id: for a
    moderation v0.2's ``<moderated><retracted/></moderated>`` and v0.3's
    ``<retracted><moderated/></retracted>``; for the author's own
    retraction XEP-0424's ``<retracted/>`` of both versions.  Every
    ``<retracted/>`` has the time, the v1 one the ``id`` of the message
    that retracted it."""
    stamp = xmpp_datetime(retraction.stamp)
    current = (("xmlns", namespaces.RETRACT_1), ("id", retraction.notice_id or None),
               ("stamp", stamp))
    legacy = (("xmlns", namespaces.RETRACT_0), ("stamp", stamp))
    moderator = retraction.moderator
    if moderator is None:
        return element("retracted", current) + element("retracted", legacy)
    by = moderator_jid(room_jid, moderator)
    actor = _occupant_id(moderator.occupant_id)
    reason = _reason(retraction.reason)
    return (element("moderated", (("xmlns", namespaces.MODERATE_0), ("by", by)),
                    actor + element("retracted", legacy) + reason)
            + element("retracted", current, element(
                "moderated", (("xmlns", namespaces.MODERATE_1), ("by", by)), actor) + reason))


def start_tag(text: str) -> str:
    """``<message to="" …`` of an archived message, without its ``>``.
    Attribute values are escaped (``>`` included), so the first ``>`` ends
    the tag.  `ValueError` for text that is not a message."""
    if not text.startswith("<message "):
        raise ValueError(f"not an archived message: {text[:80]!r}")
    end = text.find(">")
    if end < 0:
        raise ValueError(f"not an archived message: {text[:80]!r}")
    return text[:end - 1] if text[end - 1] == "/" else text[:end]


class RetractionTexts:
    """The texts `MucApplication` asks for when a message is retracted."""

    @staticmethod
    def announcement(room_jid: str, retraction) -> tuple:
        """``(live, archived)``: the announcement of a moderation as sent
        (an `Outgoing` with its stanza id) and as archived."""
        attributes = (("from", room_jid), ("type", "groupchat"), ("id", retraction.notice_id))
        content = announcement_content(room_jid, retraction)
        live = Outgoing("message", attributes,
                        content + stanza_id_element(room_jid, retraction.notice_seq))
        return live, Outgoing("message", attributes, content).text

    @staticmethod
    def tombstone(original: str, room_jid: str, retraction) -> str:
        """The archived text that replaces ``original`` (archived text)."""
        return (start_tag(original) + ">" + _occupant_id(retraction.author_occupant_id)
                + tombstone_content(room_jid, retraction) + "</message>")

    #: ``(payload, chars)`` of a history entry for an archived message.
    history_payload = staticmethod(history_replay)
    #: The archived text of a history entry (`ValueError` for odd ones).
    history_text = staticmethod(archived_text)
