"""Presence rules: creating a room, joining, multiple sessions, presence
updates, nick changes and leaving (XEP-0045 §7.1-7.2, §7.6, §7.14).

Follows Prosody 0.12's ``handle_normal_presence``/``handle_first_presence``
and its ``muc-occupant-pre-join`` hooks, which run in this order:
members-only (registration-required), ban (forbidden), password
(not-authorized), lock (item-not-found), then the nick conflict; a room
limit on occupants comes last.  Prosody's members-only check runs before
the ban check, so a banned user of a members-only room hears
registration-required; we test the ban first, because XEP-0045 §7.2.7
says a banned user MUST be told they are banned.
"""

from mucsvc.rooms import jids
from mucsvc.rooms.errors import (
    Forbidden, JoinWithoutMucX, NickConflict, PasswordRequired, RegistrationRequired,
    RoomFull, RoomLocked,
)
from mucsvc.rooms.names import prep_nick
from mucsvc.rooms.occupant import Occupant
from mucsvc.rooms.outcomes import Joined, Left, NickChanged, PresenceUpdated
from mucsvc.rooms.roles import Affiliation, Role

_CODES_SELF = frozenset({110})
_CODES_SELF_NONANONYMOUS = frozenset({110, 100})
_CODE_ERROR_REMOVAL = frozenset({333})
_NO_CODES = frozenset()


class PresenceRules:
    """Mixin of `Room`: everything a presence stanza can do."""

    __slots__ = ()

    @property
    def is_pristine(self) -> bool:
        """Nobody has ever joined: the next available presence creates it."""
        return not self._affiliations and not self._by_nick and self.created_at is None

    def presence_available(self, full_jid: str, nick: str, now: float, *,
                           payload=None, muc_x: bool = True,
                           password: str | None = None):
        """An available presence from ``full_jid`` to ``room/nick``.

        Returns `Joined` (room created, new occupant or another session),
        `PresenceUpdated` or `NickChanged`; raises a `MucError` subclass
        when refused.  ``muc_x``: the presence carried the MUC ``<x/>``
        (a join); without it a non-occupant gets `JoinWithoutMucX`, as in
        Prosody, while an occupant may update its presence or change nick.
        ``password``: from the ``<x/>``, if any.  ``payload`` is stored as
        the session's presence.
        """
        occupant = self._by_jid.get(full_jid)
        if occupant is None:
            if not muc_x:
                raise JoinWithoutMucX("You must join the room before sending presence updates")
            nick = prep_nick(nick)
            if self.is_pristine:
                return self._create(full_jid, nick, now, payload, password)
            return self._join(full_jid, nick, payload, password)
        if nick != occupant.nick:
            nick = prep_nick(nick)
        if nick == occupant.nick:
            occupant.set_session(full_jid, payload)
            return PresenceUpdated(occupant, full_jid, resync=muc_x)
        return self._change_nick(occupant, full_jid, nick, payload)

    def _self_codes(self) -> frozenset:
        return _CODES_SELF_NONANONYMOUS if self.config.whois == "anyone" else _CODES_SELF

    def _create(self, full_jid, nick, now, payload, password) -> Joined:
        """The first joiner creates the room and owns it (XEP-0045 §10.1)."""
        bare_jid = jids.bare(full_jid)
        self._affiliations[bare_jid] = Affiliation.OWNER
        if password:
            # Prosody takes the creator's join password as the room password.
            self.config = self.config.updated(password=password)
        self.created_at = now
        if self._lock_on_create:
            self.locked = True
            self.locked_at = now
        occupant = Occupant(nick, bare_jid, Role.MODERATOR, self.occupant_id_for(bare_jid))
        self._add_session(occupant, full_jid, payload)
        self._by_nick[nick] = occupant
        return Joined(occupant, full_jid, created=True,
                      status_codes=self._self_codes() | {201})

    def _join(self, full_jid, nick, payload, password) -> Joined:
        bare_jid = jids.bare(full_jid)
        # Prosody checks a reserved nick before the other entry rules.
        self.check_nick_reservation(bare_jid, nick)
        affiliation = self.affiliation_of(bare_jid)
        config = self.config
        if affiliation is Affiliation.OUTCAST:
            raise Forbidden("You have been banned from this room")
        if config.members_only and affiliation < Affiliation.MEMBER:
            raise RegistrationRequired("Membership is required to enter this room")
        if config.password is not None and password != config.password:
            raise PasswordRequired("A password is required to enter this room")
        if self.locked and affiliation is not Affiliation.OWNER:
            # Prosody refuses even owners' other sessions; XEP-0045 §10.1.1
            # only asks to keep out entities other than the owner.
            raise RoomLocked("This room is locked until its owner configures it")
        occupant = self._by_nick.get(nick)
        if occupant is not None:
            if occupant.bare_jid != bare_jid:
                raise NickConflict("That nickname is already in use by another occupant")
            self._add_session(occupant, full_jid, payload)
            return Joined(occupant, full_jid, created=False,
                          status_codes=self._self_codes())
        if (config.max_users is not None and len(self._by_nick) >= config.max_users
                and affiliation < Affiliation.ADMIN):
            raise RoomFull("This room has reached its maximum number of occupants")
        if self._occupant_cap is not None and len(self._by_nick) >= self._occupant_cap:
            # The service's own cap binds owners too: it protects the service.
            raise RoomFull("This room has reached the service's limit of occupants")
        occupant = Occupant(nick, bare_jid, self.default_role_for(affiliation),
                            self.occupant_id_for(bare_jid))
        self._add_session(occupant, full_jid, payload)
        self._by_nick[nick] = occupant
        return Joined(occupant, full_jid, created=False,
                      status_codes=self._self_codes())

    def _add_session(self, occupant, full_jid, payload) -> None:
        occupant.set_session(full_jid, payload)
        self._by_jid[full_jid] = occupant

    def _change_nick(self, occupant, full_jid, new_nick, payload) -> NickChanged:
        """Move one session to ``new_nick`` (Prosody's multi-session rules).

        Only the same user may share a nick; the role is kept (Prosody issue
        #1466: a visitor stays a visitor even if the room is no longer
        moderated).
        """
        self.check_nick_reservation(occupant.bare_jid, new_nick)
        dest = self._by_nick.get(new_nick)
        if dest is not None and dest.bare_jid != occupant.bare_jid:
            raise NickConflict("That nickname is already in use by another occupant")
        old_nick = occupant.nick
        last_session = len(occupant.sessions) == 1
        if dest is None and last_session:
            del self._by_nick[old_nick]
            occupant.nick = new_nick
            self._by_nick[new_nick] = occupant
            occupant.set_session(full_jid, payload)
            return NickChanged(full_jid, occupant, occupant, old_nick, new_nick,
                               old_left=True, new_created=True)
        occupant.remove_session(full_jid)
        if last_session:
            del self._by_nick[old_nick]
            old_role = occupant.role
            occupant.role = Role.NONE
        else:
            old_role = occupant.role
        created = dest is None
        if created:
            dest = Occupant(new_nick, occupant.bare_jid, old_role, occupant.occupant_id)
            self._by_nick[new_nick] = dest
        self._add_session(dest, full_jid, payload)
        return NickChanged(full_jid, occupant, dest, old_nick, new_nick,
                           old_left=last_session, new_created=created)

    def presence_unavailable(self, full_jid: str, now: float, *, payload=None) -> Left | None:
        """``full_jid`` left.  None when it was not in the room (ignored, as
        in Prosody)."""
        return self._leave(full_jid, payload, _NO_CODES)

    def presence_error(self, full_jid: str, now: float) -> Left | None:
        """An error presence from an occupant's session removes that session;
        when it was the last one the occupant leaves with status 333
        (Prosody's ``handle_kickable``: the client is unreachable).  The
        caller builds the status text ("Kicked: <condition>[: <text>]";
        Prosody adds the error text only in non-anonymous rooms)."""
        return self._leave(full_jid, None, _CODE_ERROR_REMOVAL)

    def _leave(self, full_jid, payload, codes_if_last) -> Left | None:
        occupant = self._by_jid.pop(full_jid, None)
        if occupant is None:
            return None
        occupant.remove_session(full_jid)
        left = not occupant.sessions
        if left:
            del self._by_nick[occupant.nick]
            occupant.role = Role.NONE
        return Left(occupant, full_jid, payload, occupant_left=left,
                    status_codes=codes_if_last if left else _NO_CODES,
                    destroy_room=left and self._emptied_temporary())
