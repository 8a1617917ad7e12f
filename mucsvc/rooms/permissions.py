"""The permission matrix of XEP-0045 §8-10, as pure functions.

Each function looks only at ranks and room options, so every cell of the
matrix can be tested on its own.  Where XEP-0045 leaves room for choice we
follow Prosody 0.12 (``muc.lib.lua`` ``set_role``/``set_affiliation``,
``restrict_pm.lib.lua``, ``members_only.lib.lua``).
"""

from mucsvc.rooms.errors import Conflict, NotAllowed
from mucsvc.rooms.roles import Affiliation, Role

_ADMIN_OR_OWNER = (Affiliation.ADMIN, Affiliation.OWNER)


def check_role_change(*, actor_affiliation: Affiliation, actor_role: Role,
                      target_affiliation: Affiliation, target_role: Role,
                      new_role: Role) -> None:
    """Raise `NotAllowed` unless the actor may give ``new_role`` to the target.

    Kick (``none``), voice (``participant``), devoice (``visitor``) and
    granting or revoking ``moderator`` all go through here:

    - only owners act on owners; only admins and owners act on admins;
    - granting or revoking moderator needs an admin or owner;
    - and in every case the actor must be a moderator in the room
      (``actor_role`` is ``Role.NONE`` when the actor is not an occupant).
    """
    if target_affiliation is Affiliation.OWNER and actor_affiliation is not Affiliation.OWNER:
        raise NotAllowed("Only owners may change an owner's role")
    if target_affiliation is Affiliation.ADMIN and actor_affiliation not in _ADMIN_OR_OWNER:
        raise NotAllowed("Only admins and owners may change an admin's role")
    if (target_role is Role.MODERATOR or new_role is Role.MODERATOR) \
            and actor_affiliation not in _ADMIN_OR_OWNER:
        raise NotAllowed("Only admins and owners may grant or revoke moderator")
    if actor_role is not Role.MODERATOR:
        raise NotAllowed("Only moderators may change roles")


def check_affiliation_change(*, actor_affiliation: Affiliation,
                             target_affiliation: Affiliation,
                             new_affiliation: Affiliation,
                             is_last_owner: bool) -> None:
    """Raise unless the actor may set ``new_affiliation`` on the target.

    Owners may set anything; admins may only move users between outcast,
    none and member, and never touch owners or other admins
    (`NotAllowed`).  Whoever asks, the last owner cannot stop being owner
    (`Conflict`): ``is_last_owner`` says the target is the only owner.
    """
    if actor_affiliation is not Affiliation.OWNER:
        if actor_affiliation is not Affiliation.ADMIN:
            raise NotAllowed("Only admins and owners may change affiliations")
        if new_affiliation in _ADMIN_OR_OWNER:
            raise NotAllowed("Only owners may grant admin or owner")
        if target_affiliation in _ADMIN_OR_OWNER:
            raise NotAllowed("Admins may not change the affiliation of admins or owners")
    if is_last_owner and new_affiliation is not Affiliation.OWNER:
        raise Conflict("A room needs at least one owner")


def may_configure(actor_affiliation: Affiliation) -> bool:
    """Only owners configure or destroy a room (XEP-0045 §10)."""
    return actor_affiliation is Affiliation.OWNER


def may_manage_hats(actor_affiliation: Affiliation) -> bool:
    """Owners and admins define, destroy, give and take off the room's hats
    (XEP-0317 v0.3's commands; ejabberd's rule)."""
    return actor_affiliation is Affiliation.OWNER or actor_affiliation is Affiliation.ADMIN


def may_speak(role: Role) -> bool:
    """Visitors may not send groupchat messages (nor may non-occupants)."""
    return role is Role.PARTICIPANT or role is Role.MODERATOR


def may_change_subject(role: Role, *, change_subject: bool) -> bool:
    """Moderators always; participants when the room allows it."""
    if role is Role.MODERATOR:
        return True
    return change_subject and role is Role.PARTICIPANT


def may_send_private(*, sender_role: Role, sender_affiliation: Affiliation,
                     target_role: Role, same_user: bool, policy: str,
                     allow_modpm: bool) -> bool:
    """The room's allow-private-messages rule (Prosody's restrict_pm).

    Messages to oneself (another session of the same user) always pass;
    with ``allow_modpm`` so do messages to or from moderators.
    """
    if same_user:
        return True
    if allow_modpm and (target_role is Role.MODERATOR or sender_role is Role.MODERATOR):
        return True
    if policy == "anyone":
        return sender_role >= Role.VISITOR
    if policy == "participants":
        return sender_role >= Role.PARTICIPANT
    if policy == "moderators":
        return sender_role is Role.MODERATOR
    if policy == "members":
        return sender_affiliation >= Affiliation.MEMBER
    return False


def may_invite(*, role: Role, affiliation: Affiliation, members_only: bool,
               allow_invites: bool) -> bool:
    """Mediated invitations (XEP-0045 §7.8.2).

    The inviter needs more than a visitor's voice (their role if present,
    else the default role of their affiliation).  In a members-only room
    only admins and owners invite, or members too when the room sets
    ``allow_invites``.
    """
    if role <= Role.VISITOR:
        return False
    if members_only and affiliation < Affiliation.ADMIN:
        return allow_invites and affiliation is Affiliation.MEMBER
    return True


def may_list_affiliation(*, actor_affiliation: Affiliation, actor_role: Role,
                         requested: Affiliation, whois_anyone: bool,
                         member_list_roles: frozenset, members_only: bool = False) -> bool:
    """Who may retrieve the list of users with ``requested`` affiliation.

    Admins and owners may see lists at or below their own rank; members of a
    members-only, non-anonymous room may see every list (nothing is hidden
    from them there; Prosody's rule); and roles listed in
    ``get_member_list`` may see the member list.
    """
    if actor_affiliation >= Affiliation.ADMIN and actor_affiliation >= requested:
        return True
    if members_only and whois_anyone and actor_affiliation >= Affiliation.MEMBER:
        return True
    return requested is Affiliation.MEMBER and actor_role in member_list_roles


def may_list_role(actor_role: Role) -> bool:
    """Only moderators may list occupants by role (XEP-0045 §8.5, §9.8)."""
    return actor_role is Role.MODERATOR


def may_read_archive(affiliation: Affiliation, *, members_only: bool) -> bool:
    """Who may query a room's archive (Prosody's mod_muc_mam): anyone not
    banned, and in a members-only room anyone affiliated, whether in the
    room or not (a phone that was away asks for what it missed)."""
    if affiliation is Affiliation.OUTCAST:
        return False
    return not members_only or affiliation is not Affiliation.NONE


def may_moderate_messages(role: Role) -> bool:
    """Who may retract others' messages (XEP-0425; mod_muc_moderation):
    moderators, by their role in the room, or by the role their
    affiliation would give them when they are not in it."""
    return role is Role.MODERATOR
