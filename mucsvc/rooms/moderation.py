"""Moderation: changing roles by nick and affiliations by JID (XEP-0045
§8-10), and who may read the role and affiliation lists.

The rules themselves are the pure functions of `permissions`; this module
applies them to the room and reports what happened to each occupant.
Prosody 0.12's ``set_role``/``set_affiliation`` is the model, including how
an affiliation change moves roles: a role is only raised by an upgrade,
and only lowered by a downgrade.
"""

from mucsvc.rooms import jids
from mucsvc.rooms.errors import NoSuchOccupant, NotAcceptable
from mucsvc.rooms.outcomes import AffiliationChanged, OccupantChange, RoleChanged
from mucsvc.rooms.permissions import (
    check_affiliation_change, check_role_change, may_list_affiliation, may_list_role,
)
from mucsvc.rooms.roles import Affiliation, Role

_KICKED = frozenset({307})
_BANNED = frozenset({301})
_LOST_MEMBERSHIP = frozenset({321})
_NO_CODES = frozenset()


class ModerationRules:
    """Mixin of `Room`."""

    __slots__ = ()

    def set_role(self, actor_jid: str | None, nick: str, role, reason: str | None = None) -> RoleChanged:
        """Kick (``none``), voice, devoice, grant or revoke moderator.

        ``actor_jid``: the requester's full JID (None: the service itself,
        which may do anything).  Raises `NoSuchOccupant`, `NotAcceptable`
        for an unknown role, `NotAllowed` per `check_role_change`.  A kick
        removes the occupant with status 307.
        """
        role = Role.parse(role) if isinstance(role, str) else role
        target = self._by_nick.get(nick)
        if target is None:
            raise NoSuchOccupant("No occupant with that nickname")
        if actor_jid is not None:
            actor_occupant = self._by_jid.get(actor_jid)
            check_role_change(
                actor_affiliation=self.affiliation_of(actor_jid),
                actor_role=actor_occupant.role if actor_occupant is not None else Role.NONE,
                target_affiliation=self.affiliation_of(target.bare_jid),
                target_role=target.role,
                new_role=role)
        actor = self._actor(actor_jid)
        change = self._move_role(target, role, _KICKED)
        destroy = change.removed and self._emptied_temporary()
        return RoleChanged(change, actor, reason, destroy_room=destroy)

    def _move_role(self, occupant, role: Role, codes_if_removed) -> OccupantChange:
        old_role = occupant.role
        if role is Role.NONE:
            self._remove_occupant(occupant)
            return OccupantChange(occupant, old_role, Role.NONE, removed=True,
                                  status_codes=codes_if_removed)
        occupant.role = role
        visibility_changed = (self.config.whois != "anyone"
                              and (old_role is Role.MODERATOR) != (role is Role.MODERATOR))
        return OccupantChange(occupant, old_role, role, removed=False,
                              sees_real_jids_changed=visibility_changed)

    def set_affiliation(self, actor_jid: str | None, jid: str, affiliation,
                        reason: str | None = None, data: dict | None = None) -> AffiliationChanged:
        """Give ``jid`` (a user's JID, or a bare domain to ban a whole
        server) an affiliation, and update the roles of that user's
        occupants: banned (301) or no longer allowed in a members-only room
        (321) occupants are removed.

        ``data``: the new free-form affiliation data (None keeps what was
        stored); ``reason`` is stored in it too.  Setting ``none`` forgets
        both.  Raises `NotAcceptable`, `NotAllowed` or `Conflict` per
        `check_affiliation_change`.
        """
        affiliation = Affiliation.parse(affiliation) if isinstance(affiliation, str) else affiliation
        target = jids.bare(jid)
        old = self._affiliations.get(target, Affiliation.NONE)
        if actor_jid is not None:
            check_affiliation_change(
                actor_affiliation=self.affiliation_of(actor_jid),
                target_affiliation=old,
                new_affiliation=affiliation,
                is_last_owner=old is Affiliation.OWNER and self._owner_count() <= 1)
        self._store_affiliation(target, affiliation, reason, data)
        actor = self._actor(actor_jid)

        host_ban = "@" not in target and affiliation is Affiliation.OUTCAST
        is_downgrade = affiliation < old
        changes = []
        for occupant in list(self._by_nick.values()):
            if occupant.bare_jid != target and not (host_ban and jids.domain(occupant.bare_jid) == target):
                continue
            new_role = self.default_role_for(self.affiliation_of(occupant.bare_jid))
            old_role = occupant.role
            if new_role is not old_role and (is_downgrade or new_role > old_role):
                codes = _BANNED if affiliation is Affiliation.OUTCAST else _LOST_MEMBERSHIP
                changes.append(self._move_role(occupant, new_role, codes))
            else:
                changes.append(OccupantChange(occupant, old_role, old_role, removed=False))
        removed = any(change.removed for change in changes)
        destroy = removed and self._emptied_temporary()
        return AffiliationChanged(target, affiliation, actor, reason, tuple(changes),
                                  destroy_room=destroy)

    def set_affiliation_data(self, jid: str, data: dict) -> tuple:
        """Replace the free-form data kept with ``jid``'s affiliation (hats,
        a reserved nick) without touching the affiliation or any role, and
        return the user's occupants, whose presence shows that data.  A user
        with no stored affiliation has no data: `NotAcceptable`."""
        target = jids.bare(jid)
        if target not in self._affiliations:
            raise NotAcceptable("Only affiliated users have affiliation data")
        if data:
            self._affiliation_data[target] = dict(data)
        else:
            self._affiliation_data.pop(target, None)
        return tuple(o for o in self._by_nick.values() if o.bare_jid == target)

    def _owner_count(self) -> int:
        return sum(1 for aff in self._affiliations.values() if aff is Affiliation.OWNER)

    def _store_affiliation(self, target, affiliation, reason, data) -> None:
        if affiliation is Affiliation.NONE:
            self._affiliations.pop(target, None)
            self._affiliation_data.pop(target, None)
            return
        self._affiliations[target] = affiliation
        stored = dict(data) if data is not None else dict(self._affiliation_data.get(target, {}))
        if reason is not None:
            stored["reason"] = reason
        if stored:
            self._affiliation_data[target] = stored
        else:
            self._affiliation_data.pop(target, None)

    def may_list_affiliation(self, actor_jid: str, affiliation) -> bool:
        """Whether ``actor_jid`` may retrieve the ``affiliation`` list."""
        affiliation = Affiliation.parse(affiliation) if isinstance(affiliation, str) else affiliation
        return may_list_affiliation(
            actor_affiliation=self.affiliation_of(actor_jid),
            actor_role=self.effective_role(actor_jid),
            requested=affiliation,
            whois_anyone=self.config.whois == "anyone",
            member_list_roles=self.config.get_member_list,
            members_only=self.config.members_only)

    def may_list_role(self, actor_jid: str) -> bool:
        """Whether ``actor_jid`` may list occupants by role (moderators, or
        admins and owners asking from outside the room)."""
        return may_list_role(self.effective_role(actor_jid))
