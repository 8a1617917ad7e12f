"""Message rules: groupchat messages, subject changes, private messages and
IQs between occupants, and mediated invitations (XEP-0045 §7.4-7.5, §7.8,
§8.1).

This is the hot path: a groupchat message costs one dict lookup, a role
check and, when it is kept, one history append.
"""

from mucsvc.rooms import jids
from mucsvc.rooms.errors import (
    Forbidden, MucError, NoSuchOccupant, NotOccupant, PrivateMessagesRestricted,
)
from mucsvc.rooms.history import HistoryEntry
from mucsvc.rooms.outcomes import GroupchatMessage, Invited, PrivateRoute, Subject, SubjectChanged
from mucsvc.rooms.permissions import may_change_subject, may_invite, may_send_private, may_speak
from mucsvc.rooms.roles import Affiliation

_NOT_CONNECTED = "You are not currently connected to this chat"

_PM_RESTRICTED_FROM = {
    "none": "in this group",
    "participants": "from guests",
    "moderators": "from non-moderators",
    "members": "from non-members",
}


def is_subject_change(*, has_subject: bool, has_body: bool, has_thread: bool) -> bool:
    """A groupchat message is a subject change when it carries a subject and
    neither a body nor a thread (XEP-0045 §8.1; Prosody issue #667)."""
    return has_subject and not has_body and not has_thread


class MessagingRules:
    """Mixin of `Room`."""

    __slots__ = ()

    def groupchat(self, full_jid: str, now: float, *, payload=None, chars: int = 0,
                  historic: bool = True, seq: int | None = None) -> GroupchatMessage:
        """A groupchat message from ``full_jid`` to the room.

        `NotOccupant` from outside the room, `Forbidden` from a visitor.
        ``historic``: whether this kind of message belongs in the history
        (Prosody keeps messages with a body, honouring store hints); it is
        recorded with ``chars`` as its size and ``seq`` as its number.  Subject changes go to
        `change_subject` (see `is_subject_change`).
        """
        sender = self._by_jid.get(full_jid)
        if sender is None:
            raise NotOccupant(_NOT_CONNECTED)
        if not may_speak(sender.role):
            raise Forbidden("Visitors may not speak in this room")
        if historic and self.history.limit:
            entry = HistoryEntry(now, sender.nick, payload, chars, seq, sender.bare_jid)
            self.history.append(entry)
            return GroupchatMessage(sender, entry)
        return GroupchatMessage(sender)

    def change_subject(self, full_jid: str, text: str, now: float) -> SubjectChanged:
        """Set the subject (moderators, or participants when the room allows).

        `NotOccupant` from outside, `Forbidden` when not permitted; an empty
        text clears the subject.
        """
        sender = self._by_jid.get(full_jid)
        if sender is None:
            raise NotOccupant(_NOT_CONNECTED)
        if not may_change_subject(sender.role, change_subject=self.config.change_subject):
            raise Forbidden("You are not allowed to change the subject")
        self.subject = Subject(text or "", sender.nick, now)
        return SubjectChanged(sender, self.subject)

    def private_message(self, full_jid: str, to_nick: str) -> PrivateRoute:
        """Route a private message to ``to_nick``'s sessions.

        `NotOccupant` from outside, `NoSuchOccupant` for an unknown nick,
        `PrivateMessagesRestricted` when ``allow_private_messages`` forbids
        it.
        """
        route = self._route(full_jid, to_nick)
        sender, target = route.sender, route.target
        config = self.config
        if config.allow_private_messages != "anyone":  # every occupant may, otherwise
            if not may_send_private(
                    sender_role=sender.role,
                    sender_affiliation=self.affiliation_of(sender.bare_jid),
                    target_role=target.role,
                    same_user=sender.bare_jid == target.bare_jid,
                    policy=config.allow_private_messages,
                    allow_modpm=config.allow_modpm):
                restricted = _PM_RESTRICTED_FROM.get(config.allow_private_messages, "")
                raise PrivateMessagesRestricted(f"Private messages are restricted {restricted}")
        return route

    def private_iq(self, full_jid: str, to_nick: str) -> PrivateRoute:
        """Route an IQ get/set to ``to_nick`` (not subject to the
        private-message policy, as in Prosody).  ``to_self`` marks a
        XEP-0410 self-ping."""
        return self._route(full_jid, to_nick)

    def _route(self, full_jid, to_nick) -> PrivateRoute:
        sender = self._by_jid.get(full_jid)
        if sender is None:
            raise NotOccupant(_NOT_CONNECTED)
        target = self._by_nick.get(to_nick)
        if target is None:
            raise NoSuchOccupant("Recipient not in room")
        return PrivateRoute(sender, target)

    def invite(self, from_jid: str, invitee_jid: str, now: float) -> Invited:
        """A mediated invitation from ``from_jid`` (in the room or not).

        `Forbidden` when the inviter may not invite.  In a members-only room
        an unaffiliated invitee is made a member, so that the invitation can
        be used (Prosody's behaviour); the grant is the room's own doing,
        the inviter is recorded in its reason.
        """
        affiliation = self.affiliation_of(from_jid)
        inviter = self._by_jid.get(from_jid)
        role = inviter.role if inviter is not None else self.default_role_for(affiliation)
        config = self.config
        if not may_invite(role=role, affiliation=affiliation, members_only=config.members_only,
                          allow_invites=config.allow_invites):
            raise Forbidden("You are not allowed to invite to this room")
        invitee = jids.bare(invitee_jid)
        membership = None
        if config.members_only and self.affiliation_of(invitee) is Affiliation.NONE:
            try:
                membership = self.set_affiliation(
                    None, invitee, Affiliation.MEMBER, reason=f"Invited by {jids.bare(from_jid)}")
            except MucError:  # pragma: no cover - the room itself is never refused
                membership = None
        return Invited(inviter, invitee, membership)
