"""Occupants' presence as the room shows it: the three views and who gets which.

XEP-0045 shows an occupant's real JID only to some recipients.  Following
Prosody, each presence change is rendered at most three ways, each serialized
once and then addressed per recipient through ``fanout``:

- *full*: with real JIDs (one ``<item/>`` per session) and the actor's JID,
  for moderators in semi-anonymous rooms and everyone in non-anonymous ones;
- *anonymous*: one ``<item/>`` without JID, for everyone else;
- *self*: what the occupant's own sessions see (their JIDs, status 110,
  self-only codes such as 201 or 100).

The ``<x xmlns='…muc#user'>`` holds, in this order: leading children
(status codes, ``<destroy/>``), the items, then 110 for the occupant itself.
"""

from __future__ import annotations

from mucsvc.protocol.hats_element import STANDARD_HATS
from mucsvc.protocol import namespaces
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms import Role

_X_ATTRS = (("xmlns", namespaces.MUC_USER),)
STATUS_SELF = element("status", (("code", "110"),))


def status_codes(codes) -> str:
    """``<status code='…'/>`` for each code, in ascending order."""
    return "".join(element("status", (("code", str(code)),)) for code in sorted(codes))


def occupant_id_element(occupant) -> str:
    return element("occupant-id", (("xmlns", namespaces.OCCUPANT_ID), ("id", occupant.occupant_id)))


class Change:
    """Details of a presence change carried in the items: the 303 new nick,
    the actor of a kick or ban, the reason."""

    __slots__ = ("nick", "actor_nick", "actor_jid", "reason")

    def __init__(self, nick=None, actor_nick=None, actor_jid=None, reason=None):
        self.nick = nick
        self.actor_nick = actor_nick
        self.actor_jid = actor_jid
        self.reason = reason


_NO_CHANGE = Change()


class OccupantPresence:
    """One presence of one occupant, rendered lazily in the views needed.

    ``payload``: the presence children to show (the occupant's current
    presence, or the leaving presence); ``unavailable``: type unavailable;
    ``sessions``: the real JIDs shown in items (default: the occupant's);
    ``lead``: children of ``<x/>`` before the items, for everyone;
    ``self_lead``: the same, for the occupant's own view; ``from_nick``: the
    nick the presence comes from when it is not the occupant's current one
    (the old nick of a nick change).
    """

    __slots__ = ("room", "occupant", "from_jid", "payload", "unavailable", "sessions", "lead",
                 "self_lead", "change", "hats", "_full", "_anon", "_self_other", "_hats")

    def __init__(self, room, occupant, *, payload: str, unavailable: bool = False,
                 sessions=None, lead: str = "", self_lead: str | None = None,
                 change: Change = _NO_CHANGE, from_nick: str | None = None):
        self.room = room
        self.occupant = occupant
        self.from_jid = f"{room.jid}/{occupant.nick if from_nick is None else from_nick}"
        self.payload = payload
        self.unavailable = unavailable
        self.sessions = tuple(occupant.sessions if sessions is None else sessions)
        self.lead = lead
        self.self_lead = lead if self_lead is None else self_lead
        self.change = change
        #: The hats renderer; the publisher that sends this presence sets its own.
        self.hats = STANDARD_HATS
        self._full = self._anon = self._self_other = self._hats = None

    # ---- the pieces ------------------------------------------------------

    def _items(self, with_jids: bool, actor_jid) -> str:
        occupant, change = self.occupant, self.change
        inner = ""
        if change.actor_nick or actor_jid:
            inner = element("actor", (("nick", change.actor_nick), ("jid", actor_jid)))
        if change.reason is not None:
            inner += text_element("reason", change.reason)
        base = (("affiliation", self.room.affiliation_of(occupant.bare_jid).value),
                ("role", occupant.role.value))
        if not with_jids:
            return element("item", base + (("nick", change.nick),), inner)
        return "".join(element("item", base + (("jid", jid), ("nick", change.nick)), inner)
                       for jid in self.sessions)

    def _stanza(self, payload: str, x_content: str) -> Outgoing:
        attrs = [("from", self.from_jid)]
        if self.unavailable:
            attrs.append(("type", "unavailable"))
        if self._hats is None:  # once per presence, whatever the number of recipients
            self._hats = self.hats(self.room, self.occupant.bare_jid)
        content = (payload + self._hats + occupant_id_element(self.occupant)
                   + element("x", _X_ATTRS, x_content))
        return Outgoing("presence", attrs, content)

    # ---- the views -------------------------------------------------------

    def full(self) -> Outgoing:
        if self._full is None:
            self._full = self._stanza(self.payload, self.lead + self._items(True, self.change.actor_jid))
        return self._full

    def anonymous(self) -> Outgoing:
        if self._anon is None:
            self._anon = self._stanza(self.payload, self.lead + self._items(False, None))
        return self._anon

    def self_other_session(self) -> Outgoing:
        """For another occupant of the same user (other nick): own JIDs, no 110."""
        if self._self_other is None:
            self._self_other = self._stanza(self.payload, self.lead + self._items(True, None))
        return self._self_other

    def own(self, payload: str | None = None) -> Outgoing:
        """For the occupant's own session(s): JIDs, no actor JID, then 110."""
        return self._stanza(self.payload if payload is None else payload,
                            self.self_lead + self._items(True, None) + STATUS_SELF)

    def for_recipient(self, recipient) -> Outgoing:
        if self.room.sees_real_jids(recipient):
            return self.full()
        if recipient.bare_jid == self.occupant.bare_jid:
            return self.self_other_session()
        return self.anonymous()


class PresencePublisher:
    """Sends occupant presences through a ``Fanout``."""

    __slots__ = ("fanout", "hats")

    def __init__(self, fanout, hats=STANDARD_HATS):
        self.fanout = fanout
        self.hats = hats

    def view(self, presence: OccupantPresence, recipient) -> Outgoing:
        """``presence`` as ``recipient`` (an occupant) sees it."""
        presence.hats = self.hats
        return presence.for_recipient(recipient)

    def to_room(self, presence: OccupantPresence, prev_role: Role | None = None,
                force: bool = False) -> None:
        """Everyone else in the room, honouring ``presence_broadcast``.

        An occupant whose role is not broadcast is announced only when it
        had a broadcast role before (then as leaving), as Prosody does.
        """
        room, occupant = presence.room, presence.occupant
        broadcast = room.config.presence_broadcast
        if force or occupant.role in broadcast:
            pass
        elif prev_role is not None and prev_role in broadcast:
            presence = OccupantPresence(room, occupant, payload=presence.payload, unavailable=True,
                                        sessions=presence.sessions, lead=presence.lead,
                                        change=presence.change,
                                        from_nick=presence.from_jid.partition("/")[2])
        else:
            return
        presence.hats = self.hats
        view = presence.for_recipient
        copies = []
        for recipient in room.occupants:
            if recipient is occupant:
                continue
            to = view(recipient).to
            for jid in recipient.sessions:
                copies.append(to(jid))
        self.fanout.copies("presence", copies)

    def to_self(self, presence: OccupantPresence, sessions=None) -> None:
        """The occupant's own sessions, each with its own presence payload
        while it is in the room, or the leaving presence when it left."""
        occupant = presence.occupant
        presence.hats = self.hats
        send = self.fanout.send
        if presence.unavailable or occupant.role is Role.NONE:
            stanza = presence.own()
            for jid in (presence.sessions if sessions is None else sessions):
                send(stanza.to(jid))
            return
        for jid in (occupant.sessions if sessions is None else sessions):
            payload = occupant.sessions.get(jid)
            send(presence.own(payload if payload is not None else presence.payload).to(jid))

    def publish(self, presence: OccupantPresence, prev_role: Role | None = None,
                force: bool = False) -> None:
        """The room first, then the occupant itself (Prosody's order)."""
        self.to_room(presence, prev_role, force)
        self.to_self(presence)

    def occupant_list(self, room, joiner, to_jid: str) -> None:
        """Every other occupant's presence, to a joining session; with
        ``none`` among the broadcast roles, also the affiliated users who are
        not in the room, as unavailable (Prosody's "show offline")."""
        broadcast = room.config.presence_broadcast
        sees_jids = room.sees_real_jids(joiner)
        copies = []
        send = copies.append
        present = set()
        for occupant in room.occupants:
            present.add(occupant.bare_jid)
            if occupant is joiner:
                continue
            same_user = occupant.bare_jid == joiner.bare_jid
            if not (same_user or occupant.role in broadcast):
                continue
            presence = OccupantPresence(room, occupant, payload=occupant.presence or "")
            presence.hats = self.hats
            stanza = presence.full() if (sees_jids or same_user) else presence.anonymous()
            send(stanza.to(to_jid))
        if Role.NONE in broadcast:
            for bare_jid, affiliation in sorted(room.affiliations.items()):
                if bare_jid in present:
                    continue
                nick = room.registered_nick(bare_jid)
                if nick or sees_jids:
                    send(absent_presence(room, bare_jid, nick, sees_jids).to(to_jid))
        self.fanout.copies("presence", copies)


def absent_presence(room, bare_jid: str, nick: str | None, with_jid: bool) -> Outgoing:
    """An affiliated user who is not in the room, as unavailable presence
    from their reserved nick (or from the room when they have none)."""
    item = element("item", (("affiliation", room.affiliation_of(bare_jid).value), ("role", "none"),
                            ("nick", nick), ("jid", bare_jid if with_jid else None)))
    return Outgoing("presence", (("from", f"{room.jid}/{nick}" if nick else room.jid),
                                 ("type", "unavailable")), element("x", _X_ATTRS, item))
