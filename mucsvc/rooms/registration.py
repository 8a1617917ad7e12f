"""Room registration: a user reserves a nickname in a room (XEP-0045 §7.10).

As in Prosody, the reservation lives in the user's affiliation data
(``reserved_nickname``), so only affiliated users can hold one, it goes away
with the affiliation, and registering makes an unaffiliated user a member.
Another user may not join or change to a reserved nick.
"""

from mucsvc.rooms import jids
from mucsvc.rooms.errors import (
    BadRequest, Conflict, Forbidden, MucError, NickConflict, RegistrationRequired,
)
from mucsvc.rooms.names import prep_nick
from mucsvc.rooms.roles import Affiliation

RESERVED_NICK = "reserved_nickname"


class RegistrationRules:
    """Mixin of `Room`."""

    __slots__ = ()

    def registered_nick(self, jid: str) -> str | None:
        """The nick ``jid``'s user reserved here, if any."""
        data = self._affiliation_data.get(jids.bare(jid))
        return data.get(RESERVED_NICK) if data else None

    def registered_jid(self, nick: str) -> str | None:
        """The bare JID that reserved ``nick``, if any."""
        for jid, data in self._affiliation_data.items():
            if data.get(RESERVED_NICK) == nick:
                return jid
        return None

    def check_nick_reservation(self, bare_jid: str, nick: str) -> None:
        """`NickConflict` when ``nick`` is reserved by someone else."""
        if self._affiliation_data:
            owner = self.registered_jid(nick)
            if owner is not None and owner != bare_jid:
                raise NickConflict("That nickname is reserved by another user")

    def may_register(self, jid: str) -> None:
        """Only affiliated users may register (Prosody's default)."""
        affiliation = self.affiliation_of(jid)
        if affiliation is Affiliation.OUTCAST:
            raise Forbidden(None)
        if affiliation is Affiliation.NONE:
            raise RegistrationRequired(None)

    def register_nick(self, jid: str, nick: str):
        """Reserve ``nick`` for ``jid``'s user; returns the `AffiliationChanged`
        (None when it was already theirs).  `BadRequest` for an invalid nick,
        `Conflict` when another user holds or uses it."""
        self.may_register(jid)
        bare_jid = jids.bare(jid)
        try:
            nick = prep_nick(nick or "")
        except MucError:
            raise BadRequest("Invalid Nickname") from None
        occupant = self._by_nick.get(nick)
        if occupant is not None and occupant.bare_jid != bare_jid:
            raise Conflict(None)
        holder = self.registered_jid(nick)
        if holder is not None and holder != bare_jid:
            raise Conflict(None)
        if self.registered_nick(bare_jid) == nick:
            return None
        affiliation = self.affiliation_of(bare_jid)
        data = dict(self._affiliation_data.get(bare_jid, {}))
        data[RESERVED_NICK] = nick
        return self.set_affiliation(None, bare_jid, affiliation, data=data)

    def unregister(self, jid: str):
        """Cancel the registration: a member becomes unaffiliated (and leaves a
        members-only room, 321); admins and owners keep their affiliation but
        lose the reservation."""
        self.may_register(jid)
        bare_jid = jids.bare(jid)
        affiliation = self.affiliation_of(bare_jid)
        if affiliation is Affiliation.MEMBER:
            affiliation = Affiliation.NONE
        data = dict(self._affiliation_data.get(bare_jid, {}))
        data.pop(RESERVED_NICK, None)
        return self.set_affiliation(None, bare_jid, affiliation, data=data)
