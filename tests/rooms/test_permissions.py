"""The XEP-0045 §8-10 permission matrix, cell by cell."""

import itertools

import pytest

from mucsvc.rooms import Affiliation as A
from mucsvc.rooms import Conflict, NotAllowed
from mucsvc.rooms import Role as R
from mucsvc.rooms.permissions import (
    check_affiliation_change, check_role_change, may_change_subject, may_configure, may_invite,
    may_list_affiliation, may_list_role, may_send_private, may_speak,
)


def role_change_allowed(actor_aff, actor_role, target_aff, target_role, new_role):
    try:
        check_role_change(actor_affiliation=actor_aff, actor_role=actor_role,
                          target_affiliation=target_aff, target_role=target_role,
                          new_role=new_role)
    except NotAllowed:
        return False
    return True


# (actor affiliation, actor role, target affiliation, target role, new role, allowed)
ROLE_CASES = [
    # kick
    (A.NONE, R.MODERATOR, A.NONE, R.PARTICIPANT, R.NONE, True),      # moderator kicks a participant
    (A.MEMBER, R.MODERATOR, A.MEMBER, R.VISITOR, R.NONE, True),
    (A.NONE, R.PARTICIPANT, A.NONE, R.PARTICIPANT, R.NONE, False),   # participants cannot kick
    (A.NONE, R.MODERATOR, A.ADMIN, R.MODERATOR, R.NONE, False),      # moderator cannot kick an admin
    (A.NONE, R.MODERATOR, A.OWNER, R.MODERATOR, R.NONE, False),      # ... nor an owner
    (A.ADMIN, R.MODERATOR, A.ADMIN, R.MODERATOR, R.NONE, True),      # Prosody: admin may kick admin
    (A.ADMIN, R.MODERATOR, A.OWNER, R.MODERATOR, R.NONE, False),     # admin cannot kick an owner
    (A.OWNER, R.MODERATOR, A.OWNER, R.MODERATOR, R.NONE, True),      # owner may kick an owner
    (A.OWNER, R.NONE, A.NONE, R.PARTICIPANT, R.NONE, False),         # actor not in the room
    (A.NONE, R.MODERATOR, A.NONE, R.MODERATOR, R.NONE, False),       # kicking a moderator needs admin
    # voice / devoice
    (A.NONE, R.MODERATOR, A.NONE, R.VISITOR, R.PARTICIPANT, True),
    (A.NONE, R.MODERATOR, A.MEMBER, R.PARTICIPANT, R.VISITOR, True),
    (A.MEMBER, R.PARTICIPANT, A.NONE, R.VISITOR, R.PARTICIPANT, False),
    (A.NONE, R.VISITOR, A.NONE, R.VISITOR, R.PARTICIPANT, False),
    (A.NONE, R.MODERATOR, A.ADMIN, R.MODERATOR, R.VISITOR, False),
    # grant / revoke moderator
    (A.ADMIN, R.MODERATOR, A.MEMBER, R.PARTICIPANT, R.MODERATOR, True),
    (A.OWNER, R.MODERATOR, A.NONE, R.VISITOR, R.MODERATOR, True),
    (A.NONE, R.MODERATOR, A.NONE, R.PARTICIPANT, R.MODERATOR, False),  # plain moderator cannot grant
    (A.MEMBER, R.MODERATOR, A.NONE, R.PARTICIPANT, R.MODERATOR, False),
    (A.ADMIN, R.MODERATOR, A.NONE, R.MODERATOR, R.PARTICIPANT, True),  # admin revokes
    (A.NONE, R.MODERATOR, A.NONE, R.MODERATOR, R.PARTICIPANT, False),  # plain moderator cannot revoke
    (A.ADMIN, R.MODERATOR, A.OWNER, R.MODERATOR, R.PARTICIPANT, False),
    (A.OWNER, R.MODERATOR, A.ADMIN, R.MODERATOR, R.PARTICIPANT, True),
    (A.ADMIN, R.PARTICIPANT, A.NONE, R.PARTICIPANT, R.MODERATOR, False),  # admin devoiced: not a moderator
]


@pytest.mark.parametrize("actor_aff, actor_role, target_aff, target_role, new_role, allowed", ROLE_CASES)
def test_role_change_matrix(actor_aff, actor_role, target_aff, target_role, new_role, allowed):
    assert role_change_allowed(actor_aff, actor_role, target_aff, target_role, new_role) is allowed


def test_only_moderators_ever_change_roles():
    for actor_aff, actor_role, target_aff, target_role, new_role in itertools.product(
            A, [R.NONE, R.VISITOR, R.PARTICIPANT], A, R, R):
        assert not role_change_allowed(actor_aff, actor_role, target_aff, target_role, new_role)


def test_owner_moderators_may_change_any_role():
    for target_aff, target_role, new_role in itertools.product(A, R, R):
        assert role_change_allowed(A.OWNER, R.MODERATOR, target_aff, target_role, new_role)


def affiliation_change(actor, target, new, is_last_owner=False):
    try:
        check_affiliation_change(actor_affiliation=actor, target_affiliation=target,
                                 new_affiliation=new, is_last_owner=is_last_owner)
    except NotAllowed:
        return "not-allowed"
    except Conflict:
        return "conflict"
    return "ok"


LOW = [A.OUTCAST, A.NONE, A.MEMBER]
HIGH = [A.ADMIN, A.OWNER]


@pytest.mark.parametrize("target, new", itertools.product(A, A))
def test_owner_may_set_any_affiliation(target, new):
    assert affiliation_change(A.OWNER, target, new) == "ok"


@pytest.mark.parametrize("target, new", itertools.product(LOW, LOW))
def test_admin_may_move_users_among_outcast_none_member(target, new):
    assert affiliation_change(A.ADMIN, target, new) == "ok"


@pytest.mark.parametrize("target, new", itertools.product(A, HIGH))
def test_admin_may_not_grant_admin_or_owner(target, new):
    assert affiliation_change(A.ADMIN, target, new) == "not-allowed"


@pytest.mark.parametrize("target, new", itertools.product(HIGH, A))
def test_admin_may_not_touch_admins_or_owners(target, new):
    assert affiliation_change(A.ADMIN, target, new) == "not-allowed"


@pytest.mark.parametrize("actor, target, new", itertools.product(
    [A.OUTCAST, A.NONE, A.MEMBER], A, A))
def test_below_admin_nobody_changes_affiliations(actor, target, new):
    assert affiliation_change(actor, target, new) == "not-allowed"


@pytest.mark.parametrize("new", [A.ADMIN, A.MEMBER, A.NONE, A.OUTCAST])
def test_last_owner_cannot_be_demoted(new):
    assert affiliation_change(A.OWNER, A.OWNER, new, is_last_owner=True) == "conflict"


def test_last_owner_may_stay_owner():
    assert affiliation_change(A.OWNER, A.OWNER, A.OWNER, is_last_owner=True) == "ok"


def test_admin_trying_to_demote_last_owner_is_simply_not_allowed():
    assert affiliation_change(A.ADMIN, A.OWNER, A.NONE, is_last_owner=True) == "not-allowed"


def test_only_owners_configure():
    assert [a for a in A if may_configure(a)] == [A.OWNER]


def test_speaking_needs_voice():
    assert [r for r in R if may_speak(r)] == [R.PARTICIPANT, R.MODERATOR]


@pytest.mark.parametrize("role, change_subject, allowed", [
    (R.MODERATOR, False, True), (R.MODERATOR, True, True),
    (R.PARTICIPANT, False, False), (R.PARTICIPANT, True, True),
    (R.VISITOR, True, False), (R.NONE, True, False),
])
def test_subject_change(role, change_subject, allowed):
    assert may_change_subject(role, change_subject=change_subject) is allowed


@pytest.mark.parametrize("policy, sender_role, sender_aff, allowed", [
    ("anyone", R.VISITOR, A.NONE, True),
    ("participants", R.VISITOR, A.NONE, False),
    ("participants", R.PARTICIPANT, A.NONE, True),
    ("moderators", R.PARTICIPANT, A.MEMBER, False),
    ("moderators", R.MODERATOR, A.NONE, True),
    ("members", R.PARTICIPANT, A.NONE, False),
    ("members", R.VISITOR, A.MEMBER, True),
    ("members", R.MODERATOR, A.OWNER, True),
    ("none", R.MODERATOR, A.OWNER, False),
])
def test_private_message_policy(policy, sender_role, sender_aff, allowed):
    assert may_send_private(sender_role=sender_role, sender_affiliation=sender_aff,
                            target_role=R.PARTICIPANT, same_user=False, policy=policy,
                            allow_modpm=False) is allowed


def test_private_messages_to_oneself_always_pass():
    assert may_send_private(sender_role=R.VISITOR, sender_affiliation=A.NONE, target_role=R.VISITOR,
                            same_user=True, policy="none", allow_modpm=False)


@pytest.mark.parametrize("sender_role, target_role, allowed", [
    (R.VISITOR, R.MODERATOR, True), (R.MODERATOR, R.VISITOR, True), (R.VISITOR, R.PARTICIPANT, False)])
def test_allow_modpm(sender_role, target_role, allowed):
    assert may_send_private(sender_role=sender_role, sender_affiliation=A.NONE,
                            target_role=target_role, same_user=False, policy="none",
                            allow_modpm=True) is allowed


@pytest.mark.parametrize("role, aff, members_only, allow_invites, allowed", [
    (R.PARTICIPANT, A.NONE, False, False, True),
    (R.VISITOR, A.NONE, False, False, False),
    (R.NONE, A.NONE, False, False, False),
    (R.PARTICIPANT, A.MEMBER, True, False, False),
    (R.PARTICIPANT, A.MEMBER, True, True, True),
    (R.PARTICIPANT, A.NONE, True, True, False),
    (R.MODERATOR, A.ADMIN, True, False, True),
    (R.MODERATOR, A.OWNER, True, False, True),
])
def test_invite(role, aff, members_only, allow_invites, allowed):
    assert may_invite(role=role, affiliation=aff, members_only=members_only,
                      allow_invites=allow_invites) is allowed


@pytest.mark.parametrize("actor_aff, actor_role, requested, whois_anyone, members_only, member_roles, allowed", [
    (A.OWNER, R.NONE, A.OWNER, False, False, frozenset(), True),
    (A.ADMIN, R.NONE, A.ADMIN, False, False, frozenset(), True),
    (A.ADMIN, R.NONE, A.OWNER, False, False, frozenset(), False),   # not above one's own rank
    (A.ADMIN, R.NONE, A.OUTCAST, False, False, frozenset(), True),
    (A.MEMBER, R.PARTICIPANT, A.MEMBER, False, False, frozenset(), False),
    (A.MEMBER, R.PARTICIPANT, A.MEMBER, True, False, frozenset(), False),  # open room: no
    (A.MEMBER, R.PARTICIPANT, A.OWNER, True, True, frozenset(), True),  # members-only, non-anonymous
    (A.NONE, R.NONE, A.OWNER, True, True, frozenset(), False),  # but not to outsiders
    (A.MEMBER, R.PARTICIPANT, A.OWNER, False, True, frozenset(), False),  # nor when semi-anonymous
    (A.NONE, R.PARTICIPANT, A.MEMBER, False, False, frozenset({R.PARTICIPANT}), True),
    (A.NONE, R.PARTICIPANT, A.OUTCAST, False, False, frozenset({R.PARTICIPANT}), False),
])
def test_affiliation_lists(actor_aff, actor_role, requested, whois_anyone, members_only,
                           member_roles, allowed):
    assert may_list_affiliation(actor_affiliation=actor_aff, actor_role=actor_role,
                                requested=requested, whois_anyone=whois_anyone,
                                member_list_roles=member_roles,
                                members_only=members_only) is allowed


def test_role_lists_need_a_moderator():
    assert [r for r in R if may_list_role(r)] == [R.MODERATOR]
