import pytest

from mucsvc.rooms import (
    SERVICE, Affiliation, Conflict, NoSuchOccupant, NotAcceptable, NotAllowed, Role,
)
from tests.rooms.helpers import ALICE, ALICE2, BOB, CAROL, OWNER, join, new_room


def test_moderator_kicks_with_307_and_actor_and_reason():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    join(room, ALICE2, "Alice")
    out = room.set_role(OWNER, "Alice", "none", reason="spam")
    assert out.change.occupant is alice and out.change.removed
    assert out.change.old_role is Role.PARTICIPANT and out.change.new_role is Role.NONE
    assert out.change.status_codes == {307}
    assert out.actor.jid == OWNER and out.actor.nick == "Owner" and out.reason == "spam"
    assert room.occupant_by_nick("Alice") is None
    assert room.occupant_by_jid(ALICE) is None and room.occupant_by_jid(ALICE2) is None
    assert list(alice.sessions) == [ALICE, ALICE2]  # still addressable


def test_voice_and_devoice():
    room = new_room(moderated=True)
    join(room, ALICE, "Alice")
    out = room.set_role(OWNER, "Alice", Role.PARTICIPANT)
    assert (out.change.old_role, out.change.new_role) == (Role.VISITOR, Role.PARTICIPANT)
    assert not out.change.removed and out.change.status_codes == set()
    room.set_role(OWNER, "Alice", Role.VISITOR)
    assert room.occupant_by_nick("Alice").role is Role.VISITOR


def test_granting_moderator_changes_jid_visibility_in_semi_anonymous_rooms():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.set_role(OWNER, "Alice", Role.MODERATOR)
    assert out.change.sees_real_jids_changed
    assert room.sees_real_jids(room.occupant_by_nick("Alice"))


def test_granting_moderator_in_non_anonymous_room_changes_no_visibility():
    room = new_room(whois="anyone")
    join(room, ALICE, "Alice")
    assert not room.set_role(OWNER, "Alice", Role.MODERATOR).change.sees_real_jids_changed


def test_participant_cannot_kick():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    with pytest.raises(NotAllowed):
        room.set_role(ALICE, "Bob", Role.NONE)
    assert room.occupant_by_nick("Bob") is not None


def test_moderator_who_is_not_admin_cannot_grant_moderator():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    room.set_role(OWNER, "Alice", Role.MODERATOR)
    with pytest.raises(NotAllowed):
        room.set_role(ALICE, "Bob", Role.MODERATOR)
    room.set_role(ALICE, "Bob", Role.NONE)  # but may kick


def test_moderator_cannot_kick_the_owner():
    room = new_room()
    join(room, ALICE, "Alice")
    room.set_role(OWNER, "Alice", Role.MODERATOR)
    with pytest.raises(NotAllowed):
        room.set_role(ALICE, "Owner", Role.NONE)


def test_set_role_unknown_nick_and_unknown_role():
    room = new_room()
    with pytest.raises(NoSuchOccupant):
        room.set_role(OWNER, "Nobody", Role.NONE)
    join(room, ALICE, "Alice")
    with pytest.raises(NotAcceptable):
        room.set_role(OWNER, "Alice", "king")


def test_service_may_kick_anyone():
    room = new_room()
    out = room.set_role(None, "Owner", Role.NONE, reason="maintenance")
    assert out.actor is SERVICE and out.change.removed
    assert room.is_empty and out.destroy_room


def test_service_admin_acts_as_owner():
    room = new_room(admins={"root@example.org"})
    join(room, "root@example.org/r", "Root")
    join(room, ALICE, "Alice")
    assert room.occupant_by_nick("Root").role is Role.MODERATOR
    room.set_affiliation("root@example.org/r", ALICE, Affiliation.ADMIN)
    room.set_role("root@example.org/r", "Owner", Role.NONE)


# ---- affiliations -------------------------------------------------------

def test_ban_removes_all_sessions_with_301():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    join(room, ALICE2, "Alice")
    out = room.set_affiliation(OWNER, ALICE, "outcast", reason="troll")
    assert out.jid == "alice@example.org" and out.new_affiliation is Affiliation.OUTCAST
    assert out.reason == "troll"
    (change,) = out.changes
    assert change.occupant is alice and change.removed and change.status_codes == {301}
    assert not out.announce
    assert room.affiliation_of(ALICE2) is Affiliation.OUTCAST
    assert room.affiliation_data(ALICE) == {"reason": "troll"}
    assert room.occupant_by_jid(ALICE2) is None


def test_ban_of_a_domain_removes_its_users():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    out = room.set_affiliation(OWNER, "example.org", Affiliation.OUTCAST)
    removed = [c.occupant.nick for c in out.changes if c.removed]
    assert removed == ["Alice"]
    assert room.occupant_by_nick("Owner") is not None  # owner@example.org is owner, not banned
    assert room.occupant_by_nick("Bob") is not None


def test_affiliation_change_for_absent_user_is_announced():
    room = new_room()
    out = room.set_affiliation(OWNER, BOB, Affiliation.MEMBER)
    assert out.announce and out.changes == ()
    assert room.affiliation_list(Affiliation.MEMBER) == [("bob@example.net", {})]


def test_membership_upgrades_a_visitor_in_a_moderated_room():
    room = new_room(moderated=True)
    join(room, ALICE, "Alice")
    (change,) = room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER).changes
    assert (change.old_role, change.new_role, change.removed) == (Role.VISITOR, Role.PARTICIPANT, False)


def test_upgrade_never_lowers_a_role():
    room = new_room()
    join(room, ALICE, "Alice")
    room.set_role(OWNER, "Alice", Role.MODERATOR)
    (change,) = room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER).changes
    assert change.new_role is Role.MODERATOR


def test_admin_demoted_to_member_loses_moderator():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    join(room, ALICE, "Alice")
    (change,) = room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER).changes
    assert (change.old_role, change.new_role) == (Role.MODERATOR, Role.PARTICIPANT)
    assert change.sees_real_jids_changed


def test_unchanged_role_is_still_reported():
    room = new_room()
    join(room, ALICE, "Alice")
    (change,) = room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER).changes
    assert change.old_role is change.new_role is Role.PARTICIPANT and not change.removed


def test_losing_membership_in_members_only_room_removes_with_321():
    room = new_room(members_only=True)
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    join(room, ALICE, "Alice")
    out = room.set_affiliation(OWNER, ALICE, Affiliation.NONE)
    (change,) = out.changes
    assert change.removed and change.status_codes == {321}
    assert out.actor.nick == "Owner" and out.actor.jid == OWNER
    assert room.affiliation_list(Affiliation.MEMBER) == []


def test_admin_may_manage_members_but_not_admins():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    room.set_affiliation(ALICE, BOB, Affiliation.MEMBER)
    room.set_affiliation(ALICE, BOB, Affiliation.OUTCAST)
    with pytest.raises(NotAllowed):
        room.set_affiliation(ALICE, CAROL, Affiliation.ADMIN)
    room.set_affiliation(OWNER, CAROL, Affiliation.ADMIN)
    with pytest.raises(NotAllowed):
        room.set_affiliation(ALICE, CAROL, Affiliation.NONE)
    with pytest.raises(NotAllowed):
        room.set_affiliation(ALICE, OWNER, Affiliation.OUTCAST)
    assert room.affiliation_of(CAROL) is Affiliation.ADMIN


def test_member_cannot_change_affiliations():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    with pytest.raises(NotAllowed):
        room.set_affiliation(ALICE, BOB, Affiliation.MEMBER)


def test_last_owner_cannot_step_down_but_one_of_two_can():
    room = new_room()
    with pytest.raises(Conflict):
        room.set_affiliation(OWNER, OWNER, Affiliation.ADMIN)
    assert room.affiliation_of(OWNER) is Affiliation.OWNER
    room.set_affiliation(OWNER, BOB, Affiliation.OWNER)
    room.set_affiliation(OWNER, OWNER, Affiliation.ADMIN)
    assert room.affiliation_of(OWNER) is Affiliation.ADMIN
    assert room.occupant_by_nick("Owner").role is Role.MODERATOR


def test_service_admin_cannot_remove_the_last_owner_either():
    room = new_room(admins={"root@example.org"})
    with pytest.raises(Conflict):
        room.set_affiliation("root@example.org/r", OWNER, Affiliation.NONE)


def test_affiliation_data_is_kept_replaced_and_cleared():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER, data={"reserved_nick": "Al"})
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN, reason="trusted")
    assert room.affiliation_data(ALICE) == {"reserved_nick": "Al", "reason": "trusted"}
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN, data={"hats": ["x"]})
    assert room.affiliation_data(ALICE) == {"hats": ["x"]}
    room.set_affiliation(OWNER, ALICE, Affiliation.NONE)
    assert room.affiliation_data(ALICE) == {} and ALICE not in room.affiliations


def test_unknown_affiliation_is_not_acceptable():
    with pytest.raises(NotAcceptable):
        new_room().set_affiliation(OWNER, ALICE, "boss")


# ---- lists --------------------------------------------------------------

def test_list_permissions():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    join(room, BOB, "Bob")
    assert room.may_list_affiliation(OWNER, "owner")
    assert room.may_list_affiliation(ALICE, Affiliation.OUTCAST)
    assert not room.may_list_affiliation(ALICE, Affiliation.OWNER)
    assert not room.may_list_affiliation(BOB, Affiliation.MEMBER)
    assert room.may_list_role(OWNER) and room.may_list_role(ALICE)  # admin asking from outside
    assert not room.may_list_role(BOB)


def test_member_list_roles_and_non_anonymous_members_only_rooms():
    room = new_room(get_member_list=["participant"])
    join(room, BOB, "Bob")
    assert room.may_list_affiliation(BOB, Affiliation.MEMBER)
    assert not room.may_list_affiliation(BOB, Affiliation.OUTCAST)
    room.configure(OWNER, 2.0, whois="anyone")
    assert not room.may_list_affiliation(BOB, Affiliation.OUTCAST)
    room.set_affiliation(OWNER, BOB, Affiliation.MEMBER)
    room.configure(OWNER, 3.0, members_only=True)
    assert room.may_list_affiliation(BOB, Affiliation.OUTCAST)


def test_occupants_with_role():
    room = new_room()
    join(room, ALICE, "Alice")
    assert [o.nick for o in room.occupants_with_role(Role.MODERATOR)] == ["Owner"]
    assert [o.nick for o in room.occupants_with_role(Role.PARTICIPANT)] == ["Alice"]


def test_affiliation_data_changes_leave_roles_alone():
    room = new_room(moderated=True)
    room.set_affiliation(OWNER, BOB, Affiliation.MEMBER)
    join(room, BOB, "Bob")
    room.set_role(OWNER, "Bob", Role.VISITOR)
    occupants = room.set_affiliation_data(BOB, {"hats": {"urn:x": {"active": True}}})
    assert [o.nick for o in occupants] == ["Bob"]
    assert occupants[0].role is Role.VISITOR
    assert room.affiliation_data(BOB) == {"hats": {"urn:x": {"active": True}}}
    room.set_affiliation_data(BOB, {})
    assert room.affiliation_data(BOB) == {}
    with pytest.raises(NotAcceptable):
        room.set_affiliation_data(ALICE, {"x": 1})
