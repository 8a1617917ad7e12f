"""Messages to a room (groupchat, subject changes) and to an occupant (private)."""

from __future__ import annotations

import uuid

from mucsvc.protocol import namespaces
from mucsvc.protocol.context import xmpp_datetime
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.archive_render import archived_payload, sender_item, stanza_id_element
from mucsvc.protocol.occupant_presence import occupant_id_element
from mucsvc.protocol.room_moderation import retraction_target
from mucsvc.protocol.room_requests import RequestHandler
from mucsvc.protocol.payloads import child, kept_attributes, message_content, private_content
from mucsvc.protocol.xmltext import element, serialize_children
from mucsvc.rooms import is_subject_change
from mucsvc.rooms.errors import BadRequest, NotOccupant, TooLarge
from mucsvc.storage.archive import seq_of

# Error conditions that mean the occupant's client is unreachable (Prosody).
KICKABLE_CONDITIONS = frozenset({
    "gone", "internal-server-error", "item-not-found", "jid-malformed",
    "recipient-unavailable", "redirect", "remote-server-not-found",
    "remote-server-timeout", "service-unavailable",
})


def is_kickable_error(stanza) -> bool:
    error = child(stanza, stanza.uri, "error")
    if error is None:
        return True  # a malformed error counts, as in Prosody
    for condition in error.elements(namespaces.STANZAS):
        if condition.name != "text":
            return condition.name in KICKABLE_CONDITIONS
    return True


def is_historic(stanza) -> bool:
    """Whether a groupchat message belongs in the history (Prosody's rules:
    store hints first, then a body, an encrypted payload or a chat marker).
    One pass over the children: this runs for every message."""
    keep = store = False
    for element_ in stanza.elements():
        uri, name = element_.uri, element_.name
        if uri == namespaces.HINTS:
            if name in ("no-store", "no-permanent-store"):
                return False
            store = store or name == "store"
        elif (uri == stanza.uri and name == "body") or \
                (uri == "urn:xmpp:eme:0" and name == "encryption") or \
                uri == "urn:xmpp:chat-markers:0":
            keep = True
    return store or keep


class MessageHandler:
    def __init__(self, context, presence_handler):
        self.context = context
        self.presence = presence_handler
        self.requests = RequestHandler(context)

    # ---- to the room -----------------------------------------------------------

    def to_room(self, stanza, sender: str, room):
        kind = stanza.getAttribute("type")
        if kind == "groupchat":
            return self.groupchat(stanza, sender, room)
        elif kind == "error":
            if is_kickable_error(stanza):
                self.presence.kickable(stanza, sender, room)
        elif kind in (None, "normal"):
            self.normal(stanza, sender, room)
        else:
            raise BadRequest(None)

    def normal(self, stanza, sender, room) -> None:
        """Mediated invitations and voice requests arrive as normal messages."""
        check_size(stanza, serialize_children(stanza), self.context.service.limits)
        self.requests.handle(stanza, sender, room)

    def groupchat(self, stanza, sender, room):
        has_subject = child(stanza, stanza.uri, "subject") is not None
        if is_subject_change(has_subject=has_subject,
                             has_body=child(stanza, stanza.uri, "body") is not None,
                             has_thread=child(stanza, stanza.uri, "thread") is not None):
            return self.subject(stanza, sender, room)
        context = self.context
        now = context.now()
        occupant = room.occupant_by_jid(sender)
        if occupant is None:
            raise NotOccupant("You are not currently connected to this chat")
        attributes = kept_attributes(stanza)
        if stanza.getAttribute("id") is None:
            attributes.append(("id", uuid.uuid4().hex[:16]))
        attributes.insert(0, ("from", f"{room.jid}/{occupant.nick}"))
        content = check_size(stanza, message_content(stanza, room.jid), context.service.limits)
        content += occupant_id_element(occupant)
        app = context.app
        seq = app.message_ids.next()
        target = retraction_target(stanza)
        # XEP-0424: a retraction is kept and archived whatever its hints say,
        # so that clients that were away learn of it.
        keep = target is not None or is_historic(stanza)
        # XEP-0359: the same id for every recipient, the archive's id too.
        # A message kept nowhere (a chat state, a <no-store/> hint) gets
        # none, as in Prosody: a client that remembers the last id it saw
        # asks the archive for what came after it (Gajim does on rejoin),
        # and an id the archive never held would answer item-not-found.
        stanza_id = stanza_id_element(room.jid, seq)
        message = Outgoing("message", attributes, (content + stanza_id) if keep else content)
        historic = keep and room.history.limit > 0
        replay = None
        chars = 0
        if historic:
            # History replays the same stanza with the room's delay added.
            replay = message.extended(element("delay", (
                ("xmlns", namespaces.DELAY), ("from", room.jid), ("stamp", xmpp_datetime(now)))))
            chars = len(replay.text)
        # The archive keeps the stanza without what the room adds on the way out.
        archived = None
        if keep:
            # Non-anonymous rooms file the sender's real JID with the message
            # (Prosody's mod_muc_mam); it is shown only while the room is.
            archived = archived_payload(message, stanza_id, "" if room.config.whois != "anyone"
                                        else sender_item(room, occupant))
        target_seq = seq_of(target) if target else None
        if target_seq is not None:
            return app.retract_own(room, sender, message, target_seq, replay, chars, historic,
                                   seq, archived, notice_id=dict(attributes).get("id"))
        return app.groupchat(room, sender, message, replay, chars, historic, seq, archived)

    def subject(self, stanza, sender, room):
        text = str(child(stanza, stanza.uri, "subject"))
        limits = self.context.service.limits
        if (limits.max_chars is not None and len(text) > limits.max_chars) or (
                limits.max_stanza_size is not None and len(text) > limits.max_stanza_size):
            raise TooLarge("Your subject is too long, please write a shorter one")
        return self.context.app.change_subject(room, sender, text)

    # ---- to an occupant ----------------------------------------------------------

    def to_occupant(self, stanza, sender: str, room, nick: str) -> None:
        kind = stanza.getAttribute("type")
        sender_occupant = room.occupant_by_jid(sender)
        if sender_occupant is None:
            if kind != "error":
                raise NotOccupant("You are not currently connected to this chat")
            return
        if kind == "groupchat":
            raise BadRequest(None)
        if kind == "error":
            if is_kickable_error(stanza):
                self.presence.kickable(stanza, sender, room)
            return
        route = room.private_message(sender, nick)
        attributes = [("from", f"{room.jid}/{route.sender.nick}")] + kept_attributes(stanza)
        content = (check_size(stanza, private_content(stanza, room.jid), self.context.service.limits)
                   + element("x", (("xmlns", namespaces.MUC_USER),))
                   + occupant_id_element(route.sender))
        self.context.fanout.to_jids(Outgoing("message", attributes, content),
                                    route.target.sessions)


def check_size(stanza, content: str, limits) -> str:
    """``content`` (the message's children as XML) if the message is within
    the service's limits; `TooLarge` otherwise (Prosody's mod_muc_limits
    words for a long body)."""
    if limits.max_stanza_size is not None and len(content) > limits.max_stanza_size:
        raise TooLarge("Your message is too large")
    if limits.max_chars is not None:
        body = child(stanza, stanza.uri, "body")
        if body is not None and len(str(body)) > limits.max_chars:
            raise TooLarge("Your message is too long, please write a shorter one")
    return content
