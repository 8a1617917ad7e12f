"""Archived messages as stanzas: stanza ids, history replay, MAM results.

The archive keeps a message as the reflected stanza's text with an empty
``to`` (see `mucsvc.storage.archive`); everything the room adds on the way
out (its stanza id, a delay, the sender's real JID for those allowed to
see it) is added here, when it is read.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.context import xmpp_datetime, xmpp_datetime_us
from mucsvc.protocol.fanout import Outgoing, address
from mucsvc.protocol.xmltext import element

_EMPTY_TO = ' to=""'


def stanza_id_element(room_jid: str, seq: int) -> str:
    # On every message: the room's escaped JID comes from the address cache,
    # and an id is digits (`sid_text`: its decimal text), which need no escaping.
    return f'<stanza-id xmlns="{namespaces.STANZA_ID}" by="{address(room_jid)}" id="{seq}"/>'


def archived_payload(message: Outgoing, stanza_id: str, extra: str = "") -> str:
    """The archive's text of a reflected message (an `Outgoing` whose last
    child is ``stanza_id``): without the stanza id, with ``extra`` (XML)
    added; cut from the text already built rather than built again."""
    text = message.text
    closing = f"</{message.kind}>"
    return text[:-len(stanza_id) - len(closing)] + extra + closing


def history_replay(message) -> tuple:
    """``(payload, chars)`` of the history entry for an archived message: the
    stanza as a joiner gets it, with the room's delay and stanza id."""
    stored = Outgoing.from_text(message.payload)
    replay = stored.extended(
        stanza_id_element(message.room_jid, message.seq)
        + element("delay", (("xmlns", namespaces.DELAY), ("from", message.room_jid),
                            ("stamp", xmpp_datetime(message.stamp)))))
    return replay, len(replay.text)


def archived_text(entry, room_jid: str) -> str:
    """The archive's text of a history entry (its payload: the reflected
    stanza, then the room's stanza id and delay, which this drops); for
    archiving what a crash kept from the archive.  `ValueError` for an
    entry of another shape."""
    text = entry.payload.text if isinstance(entry.payload, Outgoing) else entry.payload
    if entry.seq is None:
        raise ValueError("an entry without a message number")
    cut = text.rfind(stanza_id_element(room_jid, entry.seq))
    if cut < 0 or not text.endswith("</message>"):
        raise ValueError("not a history entry of this room")
    return text[:cut] + "</message>"


_SENDER_X = f'<x xmlns="{namespaces.MUC_USER}">'


def sender_item(room, occupant) -> str:
    """What a non-anonymous room files with a message: the sender's bare JID
    with its affiliation and role then (Prosody's mod_muc_mam).  Clients
    cannot forge it: the muc#user namespace is stripped from what they send."""
    return element("x", (("xmlns", namespaces.MUC_USER),), element("item", (
        ("affiliation", room.affiliation_of(occupant.bare_jid).value),
        ("role", occupant.role.value), ("jid", occupant.bare_jid))))


def forwarded_message(message, *, real_jid: bool) -> str:
    """The archived stanza as XEP-0297 forwards it: in the client namespace,
    without the empty ``to``.  The sender's real JID is in it only when
    ``real_jid`` (the room is non-anonymous, or the reader a moderator): the
    item filed with the message, or else one made of its author."""
    text = message.payload
    head, _, tail = text.partition(_EMPTY_TO)
    if not head.startswith("<message"):
        raise ValueError(f"not an archived message: {text[:80]!r}")
    text = f'{head} xmlns="{namespaces.CLIENT}"{tail}'
    filed = text.find(_SENDER_X)
    if filed >= 0:
        if not real_jid:
            end = text.index("</x>", filed) + len("</x>")
            text = text[:filed] + text[end:]
    elif real_jid and message.author:
        item = element("x", (("xmlns", namespaces.MUC_USER),),
                       element("item", (("jid", message.author),)))
        if text.endswith("/>"):
            text = text[:-2] + ">" + item + "</message>"
        else:
            text = text[:-len("</message>")] + item + "</message>"
    return text


def result_message(to_jid: str, room_jid: str, query_id: str | None, message,
                   *, real_jid: bool) -> str:
    """One ``<result/>`` of a MAM query (XEP-0313 §4.2)."""
    result_attrs = [("xmlns", namespaces.MAM)]
    if query_id is not None:
        result_attrs.append(("queryid", query_id))
    result_attrs.append(("id", message.sid))
    forwarded = element("forwarded", (("xmlns", namespaces.FORWARD),),
                        element("delay", (("xmlns", namespaces.DELAY),
                                          ("stamp", xmpp_datetime_us(message.seq))))
                        + forwarded_message(message, real_jid=real_jid))
    return element("message", (("to", to_jid), ("from", room_jid)),
                   element("result", tuple(result_attrs), forwarded))
