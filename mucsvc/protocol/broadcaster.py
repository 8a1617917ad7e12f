"""The XMPP listener of the application: events in, stanzas out.

Whatever asked for a change (a stanza, the HTTP kick, the hats service, a
timer), the room hears of it here, in the same stanzas, in Prosody's
order.  Each event type has one method; `RoomBroadcaster` is called with
every event the application emits.
"""

from __future__ import annotations

from mucsvc.app import events
from mucsvc.protocol import announcements, namespaces
from mucsvc.protocol.context import xmpp_datetime
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.occupant_presence import Change, OccupantPresence, status_codes
from mucsvc.protocol.room_vcard import avatar_presence
from mucsvc.protocol.xmltext import element, escape_attr, text_element
from mucsvc.rooms import Joined

# Prosody's order for codes in the joiner's own presence before the items.
_SELF_CODE_ORDER = (201, 100, 210)


def self_lead(codes) -> str:
    """Status codes other than 110 (which goes last), in Prosody's order."""
    ordered = [c for c in _SELF_CODE_ORDER if c in codes]
    ordered += sorted(c for c in codes if c not in _SELF_CODE_ORDER and c != 110)
    return "".join(element("status", (("code", str(c)),)) for c in ordered)


class RoomBroadcaster:
    """Renders events for ``context`` (a `MucContext`: publisher, fanout, send)."""

    def __init__(self, context):
        self.context = context
        self._methods = {
            events.OccupantJoined: self.occupant_joined,
            events.PresenceChanged: self.presence_changed,
            events.NickChanged: self.nick_changed,
            events.OccupantLeft: self.occupant_left,
            events.MessageBroadcast: self.message_broadcast,
            events.MessageRetracted: self.message_retracted,
            events.SubjectChanged: self.subject_changed,
            events.RoomAnnouncement: self.room_announcement,
            events.DirectInvitations: self.direct_invitations,
            events.ConfigChanged: self.config_changed,
            events.AvatarChanged: self.avatar_changed,
            events.RoleChanged: self.role_changed,
            events.AffiliationChanged: self.affiliation_changed,
            events.OccupantsRefreshed: self.occupants_refreshed,
            events.RoomDestroyed: self.room_destroyed,
            events.ServiceShutdown: self.service_shutdown,
            events.FormerOccupantsDismissed: self.former_occupants_dismissed,
        }

    def __call__(self, event) -> None:
        self._methods[type(event)](event)

    # ---- presence ------------------------------------------------------------------

    def occupant_joined(self, event) -> None:
        room, outcome, session = event.room, event.outcome, event.session
        publisher = self.context.publisher
        occupant = outcome.occupant
        publisher.occupant_list(room, occupant, session)
        if isinstance(outcome, Joined):
            presence = OccupantPresence(room, occupant, payload=occupant.presence or "",
                                        self_lead=self_lead(outcome.status_codes))
            publisher.to_room(presence)
            publisher.to_self(presence, sessions=(session,))
        else:  # a join resent by a session already in: show it again
            publisher.publish(OccupantPresence(room, occupant, payload=occupant.presence or ""))
        if room.avatar is not None:
            # XEP-0486: the joiner learns the room's avatar hash right after
            # its own presence, before history (Prosody 13 sends it there,
            # and only when the room has an avatar).
            self.context.send(avatar_presence(room.jid, room.avatar.sha1).to(session))
        self.send_history(room, session, event.history)
        self.send_subject(room, session)

    def presence_changed(self, event) -> None:
        occupant = event.outcome.occupant
        self.context.publisher.publish(
            OccupantPresence(event.room, occupant, payload=occupant.presence or ""))

    def nick_changed(self, event) -> None:
        room, change = event.room, event.outcome
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
        arrived = OccupantPresence(room, new, payload=new.presence or event.payload)
        publisher.to_room(arrived)
        publisher.to_self(arrived, sessions=(session,))

    def occupant_left(self, event) -> None:
        room, left = event.room, event.outcome
        if event.status is None:
            lead, payload = "", left.payload or ""
        else:
            lead, payload = status_codes(left.status_codes), text_element("status", event.status)
        publisher = self.context.publisher
        occupant = left.occupant
        gone = OccupantPresence(room, occupant, payload=payload, unavailable=True,
                                sessions=(left.full_jid,), lead=lead)
        if left.occupant_left:
            publisher.to_room(gone, prev_role=event.prev_role)
            publisher.to_self(gone)
        else:
            publisher.to_self(gone)
            publisher.to_room(OccupantPresence(room, occupant, payload=occupant.presence or ""))

    # ---- what a joiner gets after the presences --------------------------------------

    def send_history(self, room, to_jid, request) -> None:
        if request is None:
            entries = room.history.select(maxstanzas=room.config.default_history_messages)
        else:
            entries = room.history.select(maxstanzas=request.maxstanzas,
                                          maxchars=request.maxchars, seconds=request.seconds,
                                          since=request.since, now=self.context.now())
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

    # ---- messages --------------------------------------------------------------------

    def message_broadcast(self, event) -> None:
        self.context.fanout.to_occupants(event.message, event.room.occupants)

    def message_retracted(self, event) -> None:
        """The moderation announcement, or the author's retraction message:
        to everyone, like a message (the tombstone is already in place)."""
        self.context.fanout.to_occupants(event.notice, event.room.occupants)

    def room_announcement(self, event) -> None:
        """A groupchat message from the room's bare JID (XEP-0045 §7.2.17:
        a message from the room itself)."""
        room = event.room
        message = Outgoing("message", (("from", room.jid), ("type", "groupchat")),
                           text_element("body", event.body))
        self.context.fanout.to_occupants(message, room.occupants)

    def direct_invitations(self, event) -> None:
        """One XEP-0249 invitation to each user, from the room's bare JID."""
        room = event.room
        invitation = element("x", (("xmlns", namespaces.DIRECT_INVITATION), ("jid", room.jid),
                                   ("password", event.password), ("reason", event.reason)))
        for user in event.users:
            self.context.send(f'<message to="{escape_attr(user)}" from="{escape_attr(room.jid)}">'
                              f'{invitation}</message>')

    def subject_changed(self, event) -> None:
        room, changed = event.room, event.outcome
        message = Outgoing("message", (("from", f"{room.jid}/{changed.sender.nick}"),
                                       ("type", "groupchat")),
                           text_element("subject", changed.subject.text))
        self.context.fanout.to_occupants(message, room.occupants)

    # ---- configuration, roles, affiliations ------------------------------------------

    def config_changed(self, event) -> None:
        room, outcome = event.room, event.outcome
        context = self.context
        for occupant in outcome.removed:
            # 322 only in the removed occupant's own view: the others see a
            # plain departure (clients such as poezio read any 322 as their
            # own removal); see the README, "Where we differ".
            gone = OccupantPresence(room, occupant, payload="", unavailable=True,
                                    self_lead=element("status", (("code", "322"),)))
            context.publisher.to_room(gone, force=True)
            context.publisher.to_self(gone)
        if outcome.status_codes:
            message = Outgoing("message", (("from", room.jid), ("type", "groupchat")),
                               element("x", (("xmlns", namespaces.MUC_USER),),
                                       status_codes(outcome.status_codes)))
            context.fanout.to_occupants(message, room.occupants)

    def avatar_changed(self, event) -> None:
        """The new hash (an empty ``<photo/>``: none) in a presence from the
        room to every occupant, then status 104 so that clients which
        read the hash from disco#info ask again; Prosody 13 and ejabberd
        send both."""
        room = event.room
        fanout = self.context.fanout
        fanout.to_occupants(avatar_presence(room.jid, event.outcome.sha1), room.occupants)
        message = Outgoing("message", (("from", room.jid), ("type", "groupchat")),
                           element("x", (("xmlns", namespaces.MUC_USER),), status_codes((104,))))
        fanout.to_occupants(message, room.occupants)

    def role_changed(self, event) -> None:
        announcements.role_changed(self.context, event.room, event.outcome)

    def affiliation_changed(self, event) -> None:
        announcements.affiliation_changed(self.context, event.room, event.outcome)

    def occupants_refreshed(self, event) -> None:
        publisher = self.context.publisher
        for occupant in event.occupants:
            publisher.publish(OccupantPresence(event.room, occupant,
                                               payload=occupant.presence or ""))

    # ---- the end of rooms ------------------------------------------------------------

    def room_destroyed(self, event) -> None:
        outcome = event.outcome
        inner = ""
        if outcome.reason is not None:
            inner += text_element("reason", outcome.reason)
        if outcome.password is not None:
            inner += text_element("password", outcome.password)
        lead = element("destroy", (("jid", outcome.alternate_venue),), inner)
        room = outcome.room
        publisher = self.context.publisher
        for occupant in outcome.occupants:
            gone = OccupantPresence(room, occupant, payload="", unavailable=True, lead=lead)
            # Everyone has left: each occupant only hears of itself.
            publisher.to_self(gone)

    def service_shutdown(self, event) -> None:
        """Every occupant hears it is going away (status 332), each about
        itself: the room as they knew it ends with the process."""
        self._gone(event.evacuated)

    def former_occupants_dismissed(self, event) -> None:
        """What a shutdown would have told them, sent by the process that
        took the room over: clients join again (Gajim does on 332)."""
        self._gone(event.dismissed)

    def _gone(self, evacuated) -> None:
        lead = status_codes((332,))
        publisher = self.context.publisher
        for room, occupants in evacuated:
            for occupant in occupants:
                publisher.to_self(OccupantPresence(room, occupant, payload="", unavailable=True,
                                                   lead=lead))
