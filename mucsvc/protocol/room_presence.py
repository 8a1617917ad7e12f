"""Presence addressed to ``room@service/nick``: joining, updates, nick changes,
leaving, error presences (Prosody's "kickable" case) and probes."""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.context import parse_xmpp_datetime, xmpp_datetime
from mucsvc.protocol.occupant_presence import Change, OccupantPresence, absent_presence, status_codes
from mucsvc.protocol.payloads import child, child_text, presence_payload
from mucsvc.protocol.replies import error_reply
from mucsvc.protocol.xmltext import element, escape_attr, text_element
from mucsvc.rooms import Joined, NickChanged, PresenceUpdated, Role
from mucsvc.rooms.errors import NotOccupant, TooLarge

# Prosody's order for codes in the joiner's own presence before the items.
_SELF_CODE_ORDER = (201, 100, 210)


def self_lead(codes) -> str:
    """Status codes other than 110 (which goes last), in Prosody's order."""
    ordered = [c for c in _SELF_CODE_ORDER if c in codes]
    ordered += sorted(c for c in codes if c not in _SELF_CODE_ORDER and c != 110)
    return "".join(element("status", (("code", str(c)),)) for c in ordered)


class PresenceHandler:
    """Turns presence stanzas into domain calls and the outcomes into presence."""

    def __init__(self, context):
        self.context = context

    def handle(self, stanza, sender: str, room_jid: str, nick: str | None) -> None:
        kind = stanza.getAttribute("type")
        service = self.context.service
        room = service.room(room_jid)
        if nick is None:
            # Some clients send presence updates to the bare room JID.
            nick = room.current_nick(sender) if room is not None else None
            if nick is None:
                if kind is None:
                    self.context.send(error_reply(stanza, "jid-malformed", "modify",
                                                  "A nickname is required", by=room_jid))
                return
        if kind is None:
            self.available(stanza, sender, room_jid, nick)
        elif kind == "unavailable":
            if room is not None:
                self.unavailable(stanza, sender, room)
        elif kind == "error":
            if room is not None:
                self.kickable(stanza, sender, room)
        elif kind == "probe":
            self.probe(stanza, sender, room, nick)
        elif kind not in ("visible", "invisible", "result"):
            self.context.send(error_reply(stanza, "bad-request", "modify", by=room_jid))

    # ---- joining and updates -----------------------------------------------

    def available(self, stanza, sender, room_jid, nick) -> None:
        context = self.context
        muc_x = child(stanza, namespaces.MUC, "x")
        password = child_text(muc_x, namespaces.MUC, "password") if muc_x is not None else None
        payload = presence_payload(stanza)
        max_size = context.service.limits.max_stanza_size
        if max_size is not None and len(payload) > max_size:
            raise TooLarge("Your presence is too large")
        room, outcome = context.service.enter(
            room_jid, sender, nick, context.now(), payload=payload,
            muc_x=muc_x is not None, password=password)
        publisher = context.publisher
        if isinstance(outcome, Joined):
            if outcome.created:
                context.persistence.created(room)
            occupant = outcome.occupant
            publisher.occupant_list(room, occupant, sender)
            presence = OccupantPresence(room, occupant, payload=occupant.presence or "",
                                        self_lead=self_lead(outcome.status_codes))
            publisher.to_room(presence)
            publisher.to_self(presence, sessions=(sender,))
            self.send_history(room, sender, muc_x)
            self.send_subject(room, sender)
        elif isinstance(outcome, PresenceUpdated):
            occupant = outcome.occupant
            if outcome.resync:
                publisher.occupant_list(room, occupant, sender)
            publisher.publish(OccupantPresence(room, occupant, payload=occupant.presence or ""))
            if outcome.resync:
                self.send_history(room, sender, muc_x)
                self.send_subject(room, sender)
        elif isinstance(outcome, NickChanged):
            self.nick_changed(room, outcome, payload)

    def nick_changed(self, room, change: NickChanged, payload: str) -> None:
        publisher = self.context.publisher
        old, new, session = change.old_occupant, change.new_occupant, change.full_jid
        went = OccupantPresence(room, old, payload="", unavailable=True, from_nick=change.old_nick,
                                sessions=(session,) if not change.old_left else None,
                                lead=status_codes((303,)), change=Change(nick=change.new_nick))
        if change.is_rename:
            publisher.to_room(went, force=True)
            publisher.to_self(went, sessions=(session,))
        else:
            # Only the moving session sees itself leave the old nick; the
            # room sees the old occupant as it now is (or gone).
            publisher.to_self(went, sessions=(session,))
            if change.old_left:
                publisher.to_room(went, force=True)
            else:
                publisher.to_room(OccupantPresence(room, old, payload=old.presence or ""))
        arrived = OccupantPresence(room, new, payload=new.presence or payload)
        publisher.to_room(arrived)
        publisher.to_self(arrived, sessions=(session,))

    # ---- leaving -----------------------------------------------------------

    def unavailable(self, stanza, sender, room) -> None:
        occupant = room.occupant_by_jid(sender)
        if occupant is None:
            return
        prev_role = occupant.role
        left = room.presence_unavailable(sender, self.context.now(),
                                         payload=presence_payload(stanza))
        self._announce_departure(room, left, prev_role, lead="", payload=left.payload or "")

    def kickable(self, stanza, sender, room) -> None:
        """An error presence from an occupant: the client is unreachable."""
        occupant = room.occupant_by_jid(sender)
        if occupant is None:
            return
        prev_role = occupant.role
        left = room.presence_error(sender, self.context.now())
        reason = kicked_status_text(stanza, include_text=room.config.whois == "anyone")
        self._announce_departure(room, left, prev_role, lead=status_codes(left.status_codes),
                                 payload=text_element("status", reason))

    def _announce_departure(self, room, left, prev_role, lead, payload) -> None:
        publisher = self.context.publisher
        occupant = left.occupant
        gone = OccupantPresence(room, occupant, payload=payload, unavailable=True,
                                sessions=(left.full_jid,), lead=lead)
        if left.occupant_left:
            publisher.to_room(gone, prev_role=prev_role)
            publisher.to_self(gone)
        else:
            publisher.to_self(gone)
            publisher.to_room(OccupantPresence(room, occupant, payload=occupant.presence or ""))
        if left.destroy_room:
            self.context.service.forget(room.jid)

    # ---- probes ------------------------------------------------------------

    def probe(self, stanza, sender, room, nick) -> None:
        """Prosody answers a probe from an occupant with the probed occupant's
        current presence, and refuses probes from outside the room."""
        prober = room.occupant_by_jid(sender) if room is not None else None
        if prober is None:
            raise NotOccupant("You are not currently connected to this chat")
        probed = room.occupant_by_nick(nick)
        if probed is None:
            # A reserved nick of someone away answers as unavailable.
            owner = room.registered_jid(nick)
            if owner is not None:
                self.context.send(absent_presence(room, owner, nick,
                                                  room.sees_real_jids(prober)).to(sender))
            return
        presence = OccupantPresence(room, probed, payload=probed.presence or "")
        stanza_out = presence.for_recipient(prober)
        self.context.fanout.to_jids(stanza_out, prober.sessions)

    # ---- what a joiner gets after the presences ------------------------------

    def send_history(self, room, to_jid, muc_x) -> None:
        request = child(muc_x, namespaces.MUC, "history") if muc_x is not None else None
        if request is None:
            entries = room.history.select(maxstanzas=room.config.default_history_messages)
        else:
            entries = room.history.select(
                maxstanzas=_int_attr(request, "maxstanzas"),
                maxchars=_int_attr(request, "maxchars"),
                seconds=_int_attr(request, "seconds"),
                since=_since(request),
                now=self.context.now())
        send = self.context.send
        for entry in entries:
            send(entry.payload.to(to_jid))

    def send_subject(self, room, to_jid) -> None:
        subject = room.subject
        frm = f"{room.jid}/{subject.nick}" if subject.nick else room.jid
        content = text_element("subject", subject.text)
        if subject.stamp is not None:
            content += element("delay", (("xmlns", namespaces.DELAY), ("from", room.jid),
                                         ("stamp", xmpp_datetime(subject.stamp))))
        self.context.send(f'<message to="{escape_attr(to_jid)}" from="{escape_attr(frm)}" '
                          f'type="groupchat">{content}</message>')


def kicked_status_text(stanza, include_text: bool) -> str:
    """Prosody's status for an occupant removed by its own error stanza:
    "Kicked: <condition with spaces>", plus the error's text in
    non-anonymous rooms (elsewhere the text might reveal too much)."""
    condition, text = None, None
    error = child(stanza, stanza.uri, "error")
    if error is not None:
        for element_ in error.elements():
            if element_.uri == namespaces.STANZAS:
                if element_.name == "text":
                    text = str(element_)
                elif condition is None:
                    condition = element_.name
    message = "Kicked: " + (condition.replace("-", " ") if condition else "presence error")
    if text and include_text:
        message += ": " + text
    return message


def _int_attr(element_, name) -> int | None:
    value = element_.getAttribute(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _since(request) -> float | None:
    value = request.getAttribute("since")
    return parse_xmpp_datetime(value) if value else None
