"""Roles and affiliations (XEP-0045 §5) and the default role rule.

A role lives as long as an occupant is in the room; an affiliation is a
long-lived relation between a bare JID and the room.  Both are ordered
(outcast < none < member < admin < owner; none < visitor < participant <
moderator) because most permission rules are rank comparisons.
"""

import enum

from mucsvc.rooms.errors import NotAcceptable


class _Ranked(enum.Enum):
    """An enum whose members compare by rank rather than by name."""

    @property
    def rank(self) -> int:
        return self._rank_of[self]  # type: ignore[attr-defined]

    def __lt__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str):
        """The member for an XEP-0045 string; an unknown one is not-acceptable
        (Prosody answers invalid roles and affiliations that way)."""
        try:
            return cls(value)
        except ValueError:
            raise NotAcceptable(f"unknown {cls.__name__.lower()} {value!r}") from None


class Role(_Ranked):
    NONE = "none"
    VISITOR = "visitor"
    PARTICIPANT = "participant"
    MODERATOR = "moderator"


class Affiliation(_Ranked):
    OUTCAST = "outcast"
    NONE = "none"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"


Role._rank_of = {role: rank for rank, role in enumerate(Role)}
Affiliation._rank_of = {aff: rank for rank, aff in enumerate(Affiliation)}

#: Roles an occupant can hold while in the room (``none`` means "not in it").
PRESENT_ROLES = frozenset({Role.VISITOR, Role.PARTICIPANT, Role.MODERATOR})


def default_role(affiliation: Affiliation, *, moderated: bool, members_only: bool) -> Role:
    """The role an entity with ``affiliation`` gets on entering the room.

    Owners and admins moderate; members participate; an unaffiliated user
    participates, or only listens (visitor) in a moderated room, or may not
    enter at all in a members-only room.  Outcasts never enter:
    ``Role.NONE`` means "cannot be in the room".
    """
    if affiliation is Affiliation.OWNER or affiliation is Affiliation.ADMIN:
        return Role.MODERATOR
    if affiliation is Affiliation.MEMBER:
        return Role.PARTICIPANT
    if affiliation is Affiliation.NONE:
        if members_only:
            return Role.NONE
        return Role.VISITOR if moderated else Role.PARTICIPANT
    return Role.NONE
