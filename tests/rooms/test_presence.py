import pytest

from mucsvc.rooms import (
    Affiliation, Forbidden, InvisibleNick, Joined, JoinWithoutMucX, Left, NickChanged, NickConflict,
    NickInvalid, PasswordRequired, PresenceUpdated, RegistrationRequired, Role, Room, RoomConfig,
    RoomFull, RoomLocked,
)
from tests.rooms.helpers import ALICE, ALICE2, BOB, CAROL, OWNER, ROOM, join, new_room


# ---- creation -----------------------------------------------------------

def test_first_joiner_creates_and_owns_a_locked_room():
    room = Room(ROOM, secret=b"k")
    out = room.presence_available(OWNER, "Owner", 5.0, payload="p")
    assert isinstance(out, Joined) and out.created and len(out.occupant.sessions) == 1
    assert out.status_codes == {110, 201}
    assert out.occupant.role is Role.MODERATOR
    assert room.affiliation_of(OWNER) is Affiliation.OWNER
    assert room.locked and room.locked_at == 5.0 and room.created_at == 5.0


def test_creation_in_a_non_anonymous_default_adds_100():
    room = Room(ROOM, RoomConfig(whois="anyone"))
    assert room.presence_available(OWNER, "Owner", 0.0).status_codes == {110, 201, 100}


def test_creation_without_locking():
    room = Room(ROOM, lock_on_create=False)
    room.presence_available(OWNER, "Owner", 0.0)
    assert not room.locked


def test_creator_password_becomes_the_room_password():
    room = Room(ROOM)
    room.presence_available(OWNER, "Owner", 0.0, password="s3cret")
    assert room.config.password == "s3cret"


def test_creation_without_muc_x_is_refused_and_leaves_the_room_pristine():
    room = Room(ROOM)
    with pytest.raises(JoinWithoutMucX):
        room.presence_available(OWNER, "Owner", 0.0, muc_x=False)
    assert room.is_pristine


def test_creation_with_an_invalid_nick_leaves_the_room_pristine():
    room = Room(ROOM)
    with pytest.raises(NickInvalid):
        room.presence_available(OWNER, "\U0001F916", 0.0)
    assert room.is_pristine


# ---- joining ------------------------------------------------------------

def test_join_gets_default_role_and_is_indexed():
    room = new_room()
    out = join(room, ALICE, "Alice")
    assert isinstance(out, Joined) and not out.created and len(out.occupant.sessions) == 1
    assert out.status_codes == {110}
    assert out.occupant.role is Role.PARTICIPANT
    assert room.occupant_by_nick("Alice") is out.occupant is room.occupant_by_jid(ALICE)
    assert out.occupant.presence == "Alice-presence"
    assert [o.nick for o in room.occupants] == ["Owner", "Alice"]


def test_join_in_a_moderated_room_makes_a_visitor():
    room = new_room(moderated=True)
    assert join(room, ALICE, "Alice").occupant.role is Role.VISITOR


def test_member_joins_a_moderated_room_as_participant():
    room = new_room(moderated=True)
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    assert join(room, ALICE, "Alice").occupant.role is Role.PARTICIPANT


def test_admin_joins_as_moderator():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    assert join(room, ALICE, "Alice").occupant.role is Role.MODERATOR


def test_non_anonymous_join_gets_100():
    room = new_room(whois="anyone")
    assert join(room, ALICE, "Alice").status_codes == {110, 100}


def test_join_nick_is_prepared():
    room = new_room()
    assert join(room, ALICE, "\u212bngstrom").occupant.nick == "\u00c5ngstrom"


@pytest.mark.parametrize("nick, error", [
    ("\U0001F916\ufe0f", NickInvalid), ("", NickInvalid), (" ", InvisibleNick)])
def test_join_with_bad_nick(nick, error):
    room = new_room()
    with pytest.raises(error):
        join(room, ALICE, nick)
    assert room.occupant_by_jid(ALICE) is None


def test_join_without_muc_x_is_refused():
    room = new_room()
    with pytest.raises(JoinWithoutMucX):
        join(room, ALICE, "Alice", muc_x=False)


def test_banned_user_is_forbidden():
    room = new_room()
    room.set_affiliation(OWNER, "alice@example.org", Affiliation.OUTCAST)
    with pytest.raises(Forbidden):
        join(room, ALICE, "Alice")


def test_banned_domain_is_forbidden():
    room = new_room()
    room.set_affiliation(OWNER, "example.org", Affiliation.OUTCAST)
    with pytest.raises(Forbidden):
        join(room, ALICE, "Alice")
    join(room, BOB, "Bob")  # example.net is fine


def test_ban_is_checked_before_members_only():
    room = new_room(members_only=True)
    room.set_affiliation(OWNER, ALICE, Affiliation.OUTCAST)
    with pytest.raises(Forbidden):
        join(room, ALICE, "Alice")


def test_members_only_requires_membership():
    room = new_room(members_only=True)
    with pytest.raises(RegistrationRequired):
        join(room, ALICE, "Alice")
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    assert join(room, ALICE, "Alice").occupant.role is Role.PARTICIPANT


def test_members_only_is_checked_before_password():
    room = new_room(members_only=True, password="pw")
    with pytest.raises(RegistrationRequired):
        join(room, ALICE, "Alice")


@pytest.mark.parametrize("password", [None, "", "wrong"])
def test_password_required(password):
    room = new_room(password="pw")
    with pytest.raises(PasswordRequired):
        join(room, ALICE, "Alice", password=password)
    assert len(join(room, ALICE, "Alice", password="pw").occupant.sessions) == 1


def test_password_applies_to_owners_too():
    room = new_room(password="pw")
    with pytest.raises(PasswordRequired):
        join(room, "owner@example.org/other", "Owner2")


def test_password_is_checked_before_the_lock():
    room = new_room(lock=True)
    room.config = room.config.updated(password="pw")
    with pytest.raises(PasswordRequired):
        join(room, ALICE, "Alice")


def test_locked_room_refuses_all_but_owners():
    room = new_room(lock=True)
    with pytest.raises(RoomLocked):
        join(room, ALICE, "Alice")
    assert len(join(room, "owner@example.org/other", "Owner").occupant.sessions) > 1


def test_lock_is_checked_before_nick_conflict():
    room = new_room(lock=True)
    with pytest.raises(RoomLocked):
        join(room, ALICE, "Owner")


def test_nick_taken_by_another_user_conflicts():
    room = new_room()
    join(room, ALICE, "Alice")
    with pytest.raises(NickConflict):
        join(room, BOB, "Alice")
    assert room.occupant_by_jid(BOB) is None


def test_room_full_refuses_new_occupants():
    room = new_room(max_users=2)
    join(room, ALICE, "Alice")
    with pytest.raises(RoomFull):
        join(room, BOB, "Bob")


def test_room_full_admits_admins_and_owners():
    room = new_room(max_users=1)
    room.set_affiliation(OWNER, BOB, Affiliation.ADMIN)
    assert len(join(room, BOB, "Bob").occupant.sessions) == 1
    room.set_affiliation(OWNER, CAROL, Affiliation.OWNER)
    assert len(join(room, CAROL, "Carol").occupant.sessions) == 1


def test_nick_conflict_is_reported_before_room_full():
    room = new_room(max_users=2)
    join(room, ALICE, "Alice")
    with pytest.raises(NickConflict):
        join(room, BOB, "Alice")


def test_occupant_id_is_stable_for_a_user_across_joins():
    room = new_room()
    first = join(room, ALICE, "Alice").occupant.occupant_id
    room.presence_unavailable(ALICE, 2.0)
    assert join(room, ALICE2, "Other").occupant.occupant_id == first
    assert join(room, BOB, "Bob").occupant.occupant_id != first


# ---- multiple sessions --------------------------------------------------

def test_second_session_joins_the_same_occupant():
    room = new_room()
    first = join(room, ALICE, "Alice").occupant
    out = join(room, ALICE2, "Alice")
    assert isinstance(out, Joined) and len(out.occupant.sessions) > 1 and not out.created
    assert out.occupant is first
    assert list(first.sessions) == [ALICE, ALICE2]
    assert room.occupant_by_jid(ALICE2) is first and room.occupant_count == 2


def test_second_session_does_not_count_against_max_users():
    room = new_room(max_users=2)
    join(room, ALICE, "Alice")
    assert join(room, ALICE2, "Alice").occupant.nick == "Alice"


def test_second_session_is_checked_for_password():
    room = new_room()
    join(room, ALICE, "Alice")
    room.configure(OWNER, 2.0, password="pw")
    with pytest.raises(PasswordRequired):
        join(room, ALICE2, "Alice")


def test_same_user_may_hold_two_nicks():
    room = new_room()
    join(room, ALICE, "Alice")
    assert join(room, ALICE2, "Alicia").occupant.nick == "Alicia"
    assert room.occupant_count == 3


# ---- presence updates ---------------------------------------------------

def test_presence_update_replaces_the_sessions_presence():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.presence_available(ALICE, "Alice", 2.0, payload="away", muc_x=False)
    assert isinstance(out, PresenceUpdated) and not out.resync
    assert out.occupant.presence == "away"


def test_presence_update_with_muc_x_asks_for_a_resync():
    room = new_room()
    join(room, ALICE, "Alice")
    assert room.presence_available(ALICE, "Alice", 2.0, payload="x").resync


def test_current_presence_follows_the_latest_session():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alice")
    room.presence_available(ALICE, "Alice", 3.0, payload="dnd", muc_x=False)
    assert room.occupant_by_nick("Alice").presence == "dnd"


# ---- nick changes -------------------------------------------------------

def test_nick_change_renames_in_place_and_keeps_the_role():
    room = new_room(moderated=True)
    alice = join(room, ALICE, "Alice").occupant
    assert alice.role is Role.VISITOR
    room.configure(OWNER, 2.0, moderated=False)  # Prosody #1466: the role must survive
    out = room.presence_available(ALICE, "Alice2", 3.0, payload="p2", muc_x=False)
    assert isinstance(out, NickChanged) and out.is_rename
    assert out.old_nick == "Alice" and out.new_nick == "Alice2"
    assert out.old_occupant is out.new_occupant is alice
    assert alice.nick == "Alice2" and alice.role is Role.VISITOR and alice.presence == "p2"
    assert room.occupant_by_nick("Alice") is None and room.occupant_by_nick("Alice2") is alice
    assert room.occupant_by_jid(ALICE) is alice


def test_nick_change_to_a_taken_nick_conflicts_and_changes_nothing():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    with pytest.raises(NickConflict):
        room.presence_available(ALICE, "Bob", 2.0)
    assert room.current_nick(ALICE) == "Alice"


def test_nick_change_to_an_invalid_nick_is_refused():
    room = new_room()
    join(room, ALICE, "Alice")
    with pytest.raises(NickInvalid):
        room.presence_available(ALICE, "\U0001F916", 2.0)
    assert room.current_nick(ALICE) == "Alice"


def test_nick_change_of_one_of_several_sessions_splits_it_off():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    alice = join(room, ALICE, "Alice").occupant
    join(room, ALICE2, "Alice")
    out = room.presence_available(ALICE2, "Laptop", 2.0, payload="lp")
    assert not out.is_rename and out.new_created and not out.old_left
    assert out.old_occupant is alice and list(alice.sessions) == [ALICE]
    new = out.new_occupant
    assert new.nick == "Laptop" and new.role is Role.MODERATOR
    assert new.occupant_id == alice.occupant_id
    assert room.occupant_by_jid(ALICE2) is new and room.occupant_by_jid(ALICE) is alice


def test_split_keeps_a_role_given_by_a_moderator():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    join(room, ALICE2, "Alice")
    room.set_role(OWNER, "Alice", Role.VISITOR)
    out = room.presence_available(ALICE2, "Laptop", 2.0)
    assert out.new_occupant.role is Role.VISITOR and alice.role is Role.VISITOR


def test_nick_change_into_own_other_nick_merges_sessions():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    laptop = join(room, ALICE2, "Laptop").occupant
    out = room.presence_available(ALICE2, "Alice", 2.0, payload="merged")
    assert out.old_left and not out.new_created and not out.is_rename
    assert out.new_occupant is alice and list(alice.sessions) == [ALICE, ALICE2]
    assert laptop.role is Role.NONE and room.occupant_by_nick("Laptop") is None


# ---- leaving ------------------------------------------------------------

def test_last_session_leaving_removes_the_occupant():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.presence_unavailable(ALICE, 2.0, payload="bye")
    assert isinstance(out, Left) and out.occupant_left and out.payload == "bye"
    assert out.occupant.role is Role.NONE and out.status_codes == set()
    assert not room.is_empty and not out.destroy_room
    assert room.occupant_by_nick("Alice") is None and room.occupant_by_jid(ALICE) is None


def test_one_of_two_sessions_leaving_keeps_the_occupant():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alice")
    out = room.presence_unavailable(ALICE2, 2.0)
    assert not out.occupant_left and out.occupant.role is Role.PARTICIPANT
    assert list(out.occupant.sessions) == [ALICE]
    assert room.occupant_by_jid(ALICE2) is None


def test_unavailable_from_a_stranger_is_ignored():
    assert new_room().presence_unavailable(ALICE, 2.0) is None


def test_last_out_destroys_a_temporary_room():
    room = new_room()
    out = room.presence_unavailable(OWNER, 2.0)
    assert room.is_empty and out.destroy_room


def test_last_out_keeps_a_persistent_room():
    room = new_room(persistent=True)
    out = room.presence_unavailable(OWNER, 2.0)
    assert room.is_empty and not out.destroy_room


def test_error_presence_from_the_last_session_removes_with_333():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.presence_error(ALICE, 2.0)
    assert out.occupant_left and out.status_codes == {333}
    assert room.occupant_by_nick("Alice") is None


def test_error_presence_from_one_of_several_sessions_only_drops_it():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alice")
    out = room.presence_error(ALICE, 2.0)
    assert not out.occupant_left and out.status_codes == set()
    assert list(out.occupant.sessions) == [ALICE2]


def test_error_presence_from_a_stranger_is_ignored():
    assert new_room().presence_error(ALICE, 2.0) is None


def test_rejoin_after_leaving_is_a_new_occupant():
    room = new_room()
    join(room, ALICE, "Alice")
    room.presence_unavailable(ALICE, 2.0)
    assert len(join(room, ALICE, "Alice").occupant.sessions) == 1
