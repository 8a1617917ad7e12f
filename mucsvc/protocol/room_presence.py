"""Presence addressed to ``room@service/nick``: joining, updates, nick changes,
leaving, error presences (Prosody's "kickable" case) and probes."""

from __future__ import annotations

from mucsvc.app.events import HistoryRequest
from mucsvc.protocol import namespaces
from mucsvc.protocol.context import parse_xmpp_datetime
from mucsvc.protocol.occupant_presence import OccupantPresence, absent_presence
from mucsvc.protocol.payloads import child, child_text, presence_payload
from mucsvc.protocol.replies import error_reply
from mucsvc.rooms.errors import NotOccupant, TooLarge


class PresenceHandler:
    """Turns presence stanzas into application calls; the broadcaster
    renders what they change."""

    def __init__(self, context):
        self.context = context

    def handle(self, stanza, sender: str, room_jid: str, nick: str | None):
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
            return self.available(stanza, sender, room_jid, nick)
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

    # ---- joining, updates, leaving -------------------------------------------

    def available(self, stanza, sender, room_jid, nick):
        context = self.context
        muc_x = child(stanza, namespaces.MUC, "x")
        password = child_text(muc_x, namespaces.MUC, "password") if muc_x is not None else None
        payload = presence_payload(stanza, room_jid)
        max_size = context.service.limits.max_stanza_size
        if max_size is not None and len(payload) > max_size:
            raise TooLarge("Your presence is too large")
        return context.app.join(room_jid, sender, nick, payload=payload, muc_x=muc_x is not None,
                                password=password, history=history_request(muc_x))

    def unavailable(self, stanza, sender, room):
        return self.context.app.leave(room, sender, payload=presence_payload(stanza, room.jid))

    def kickable(self, stanza, sender, room):
        """An error presence from an occupant: the client is unreachable."""
        status = kicked_status_text(stanza, include_text=room.config.whois == "anyone")
        return self.context.app.drop(room, sender, status)

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
        stanza_out = self.context.publisher.view(presence, prober)
        self.context.fanout.to_jids(stanza_out, prober.sessions)



def history_request(muc_x) -> HistoryRequest | None:
    """What the join's ``<history/>`` asks for; None without one (the
    room's default)."""
    request = child(muc_x, namespaces.MUC, "history") if muc_x is not None else None
    if request is None:
        return None
    return HistoryRequest(maxstanzas=_int_attr(request, "maxstanzas"),
                          maxchars=_int_attr(request, "maxchars"),
                          seconds=_int_attr(request, "seconds"), since=_since(request))


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
