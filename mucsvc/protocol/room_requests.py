"""Normal messages to a room: mediated invitations, declines and voice
requests (XEP-0045 §7.8, §7.13, §8.6), as Prosody sends them on."""

from __future__ import annotations

from wokkel import data_form

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol import namespaces
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.forms import form_type, form_values
from mucsvc.protocol.payloads import child, kept_attributes, private_content
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.xmltext import element, escape_text, text_element
from mucsvc.rooms import Role
from mucsvc.rooms.errors import NotOccupant

NS_REQUEST = namespaces.MUC_REQUEST
NS_CONFERENCE = "jabber:x:conference"


class RequestHandler:
    def __init__(self, context):
        self.context = context

    def handle(self, stanza, sender: str, room) -> None:
        x = child(stanza, namespaces.MUC_USER, "x")
        if x is not None:
            payload = next(iter(x.elements()), None)
            if payload is not None and payload.name == "invite" and payload.getAttribute("to"):
                self.invite(stanza, sender, room, payload)
                return
            if payload is not None and payload.name == "decline" and payload.getAttribute("to"):
                self.decline(stanza, sender, room, payload)
                return
            raise Refusal("bad-request")
        form = child(stanza, namespaces.DATA_FORMS, "x")
        if form is not None and form_type(form) == NS_REQUEST:
            self.voice_request(stanza, sender, room, form)
            return
        raise Refusal("bad-request")

    # ---- invitations ---------------------------------------------------------------

    def invite(self, stanza, sender, room, invite) -> None:
        invitee = _prep(invite.getAttribute("to"))
        inviter = room.occupant_by_jid(sender)
        self.context.app.invite(room, sender, invitee)
        # In a semi-anonymous room the invitee learns the inviter's nick,
        # not their address, unless the invitee will be a moderator there.
        shown_from = sender
        if room.config.whois == "moderators" and inviter is not None and \
                room.default_role_for(room.affiliation_of(invitee)) is not Role.MODERATOR:
            shown_from = f"{room.jid}/{inviter.nick}"
        reason = _reason(invite)
        inner = element("invite", (("from", shown_from),), text_element("reason", reason or ""))
        if room.config.password is not None:
            inner += text_element("password", room.config.password)
        content = private_content(stanza, room.jid) + element("x", (("xmlns", namespaces.MUC_USER),), inner)
        if child(stanza, stanza.uri, "body") is None:
            suffix = f" ({reason})" if reason else ""
            content += text_element("body", f"{shown_from} invited you to the room {room.jid}{suffix}")
        content += element("x", (("xmlns", NS_CONFERENCE), ("jid", room.jid)), escape_text(reason or ""))
        attributes = [("from", room.jid)] + kept_attributes(stanza)
        self.context.send(Outgoing("message", attributes, content).to(invitee))

    def decline(self, stanza, sender, room, decline) -> None:
        declinee = _prep(decline.getAttribute("to"))
        reason = _reason(decline)
        inner = element("decline", (("from", sender),), text_element("reason", reason or ""))
        content = private_content(stanza, room.jid) + element("x", (("xmlns", namespaces.MUC_USER),), inner)
        if child(stanza, stanza.uri, "body") is None:
            suffix = f" ({reason})" if reason else ""
            content += text_element("body", f"{sender} declined your invite to the room {room.jid}{suffix}")
        outgoing = Outgoing("message", [("from", room.jid)] + kept_attributes(stanza), content)
        target = room.occupant_by_nick(declinee.partition("/")[2]) \
            if declinee.partition("/")[0] == room.jid else None
        if target is not None:
            self.context.fanout.to_jids(outgoing, target.sessions)
        else:
            self.context.send(outgoing.to(declinee))

    # ---- voice requests ------------------------------------------------------------

    def voice_request(self, stanza, sender, room, form_element) -> None:
        occupant = room.occupant_by_jid(sender)
        if occupant is None:
            raise NotOccupant("You are not currently connected to this chat")
        if occupant.role is Role.MODERATOR:
            self.voice_response(sender, room, form_values(form_element))
        elif occupant.role is Role.VISITOR:
            request = voice_request_form(sender, occupant.nick).toElement().toXml()
            message = Outgoing("message", (("from", room.jid), ("type", "normal")), request)
            self.context.fanout.to_occupants(
                message, [o for o in room.occupants if o.role is Role.MODERATOR])

    def voice_response(self, sender, room, values) -> None:
        if values.get("muc#request_allow") not in ("1", "true"):
            return
        target = room.occupant_by_jid(_prep(values.get("muc#jid") or ""))
        if target is None or target.role is not Role.VISITOR:
            return
        self.context.app.grant_voice(room, sender, target.nick)


def voice_request_form(requester: str, nick: str) -> data_form.Form:
    """The form moderators receive (Prosody's fields and labels)."""
    form = data_form.Form("form", formNamespace=NS_REQUEST, title="Voice Request")
    form.addField(data_form.Field("jid-single", "muc#jid", requester, label="User ID"))
    form.addField(data_form.Field("text-single", "muc#roomnick", nick, label="Room nickname"))
    form.addField(data_form.Field(
        "list-single", "muc#role", "participant", label="Requested role",
        options=[data_form.Option(r) for r in ("none", "visitor", "participant", "moderator")]))
    form.addField(data_form.Field("boolean", "muc#request_allow", False,
                                  label="Grant voice to this person?"))
    return form


def _prep(value: str | None) -> str:
    try:
        return parse_jid(value or "").full()
    except InvalidJID:
        raise Refusal("jid-malformed") from None


def _reason(element_):
    for c in element_.elements():
        if c.name == "reason":
            return str(c)
    return None
