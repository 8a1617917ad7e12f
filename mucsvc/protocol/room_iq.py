"""IQs to a room (discovery, owner requests) and to an occupant (forwarded).

IQs to ``room/nick`` are relayed to the occupant's session from the sender's
own ``room/nick``.  The relayed ``id`` carries the original id and two keyed
tags (of the requesting session and of the target session) so that the
answer can be routed back without keeping any state, and without telling
the target who asked (Prosody does the same).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mucsvc.protocol import namespaces
from mucsvc.protocol.payloads import child
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.xmltext import attrs
from mucsvc.rooms.errors import BadRequest

_TAG_BYTES = 6
#: Queries that go to the occupant's bare JID (the account, not the client).
_TO_BARE_JID = frozenset({"vcard-temp", "http://jabber.org/protocol/pubsub",
                          "urn:ietf:params:xml:ns:vcard-4.0"})


class IqHandler:
    def __init__(self, context, secret: bytes):
        self.context = context
        self.secret = secret
        #: (namespace, element) -> callable(iq, sender, room) for room IQs that
        #: other features add (muc#admin, registration, …).
        self.room_handlers: dict = {}

    # ---- to the room -------------------------------------------------------------

    def to_room(self, iq, sender: str, room):
        kind = iq.getAttribute("type")
        if kind not in ("get", "set"):
            return
        payload = _first_child(iq)
        key = (payload.uri, payload.name) if payload is not None else None
        handler = self.room_handlers.get((kind,) + key) if key else None
        if handler is not None:
            return handler(iq, sender, room, payload)
        raise Refusal("service-unavailable")

    # ---- to an occupant ----------------------------------------------------------

    def to_occupant(self, iq, sender: str, room, nick: str) -> None:
        kind = iq.getAttribute("type")
        if kind in ("result", "error"):
            self._answer(iq, sender, room, nick)
            return
        if kind not in ("get", "set"):
            raise BadRequest(None)
        route = room.private_iq(sender, nick)
        if route.to_self and kind == "get" and child(iq, namespaces.PING, "ping") is not None:
            # XEP-0410: the room answers a self-ping while the sender is joined.
            self.context.send(iq_result(iq))
            return
        target_jid = route.target.current_jid
        original_id = iq.getAttribute("id") or ""
        relayed_id = self._encode_id(original_id, sender, target_jid)
        payload = _first_child(iq)
        to = target_jid
        if payload is not None and payload.uri in _TO_BARE_JID:
            to = target_jid.split("/", 1)[0]
        self._relay(iq, frm=f"{room.jid}/{route.sender.nick}", to=to, id=relayed_id)

    def _answer(self, iq, sender, room, nick) -> None:
        """A result or error from an occupant's client, back to the requester."""
        requester = room.occupant_by_nick(nick)
        decoded = self._decode_id(iq.getAttribute("id") or "")
        if requester is None or decoded is None:
            return  # not an answer to anything we relayed: drop it, as Prosody does
        original_id, requester_tag, responder_tag = decoded
        responder = self._responder(room, sender, responder_tag)
        if responder is None:
            return
        for session in requester.sessions:
            if hmac.compare_digest(self._tag(session), requester_tag):
                self._relay(iq, frm=f"{room.jid}/{responder.nick}", to=session, id=original_id)
                return

    def _responder(self, room, sender: str, responder_tag: bytes):
        """The occupant whose session we asked.  Queries we sent to the
        account (vCard, PEP) are answered by the bare JID, so a bare sender
        stands for any of that account's sessions, as Prosody allows."""
        occupant = room.occupant_by_jid(sender)
        if occupant is not None:
            return occupant if hmac.compare_digest(self._tag(sender), responder_tag) else None
        if "/" in sender:
            return None
        for occupant in room.occupants:
            if occupant.bare_jid == sender:
                for session in occupant.sessions:
                    if hmac.compare_digest(self._tag(session), responder_tag):
                        return occupant
        return None

    def _relay(self, iq, frm: str, to: str, id: str) -> None:
        head = attrs((("to", to), ("from", frm), ("id", id), ("type", iq.getAttribute("type"))))
        body = "".join(c.toXml(defaultUri=iq.uri) for c in iq.elements())
        self.context.send(f"<iq{head}>{body}</iq>" if body else f"<iq{head}/>")

    # ---- stateless ids -------------------------------------------------------------

    def _tag(self, jid: str) -> bytes:
        return hmac.new(self.secret, jid.encode("utf-8"), hashlib.sha256).digest()[:_TAG_BYTES]

    def _encode_id(self, original_id: str, requester: str, target: str) -> str:
        raw = self._tag(requester) + self._tag(target) + original_id.encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def _decode_id(self, relayed_id: str):
        try:
            raw = base64.urlsafe_b64decode(relayed_id.encode("ascii"))
        except (ValueError, UnicodeError):
            return None
        if len(raw) < 2 * _TAG_BYTES:
            return None
        try:
            original = raw[2 * _TAG_BYTES:].decode("utf-8")
        except UnicodeDecodeError:
            return None
        return original, raw[:_TAG_BYTES], raw[_TAG_BYTES:2 * _TAG_BYTES]


def _first_child(stanza):
    for element_ in stanza.elements():
        return element_
    return None
