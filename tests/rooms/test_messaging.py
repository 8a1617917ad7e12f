import pytest

from mucsvc.rooms import (
    Affiliation, Forbidden, NoSuchOccupant, NotOccupant, PrivateMessagesRestricted, Role,
    is_subject_change,
)
from tests.rooms.helpers import ALICE, ALICE2, BOB, CAROL, OWNER, join, new_room


def test_groupchat_from_participant_is_recorded():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.groupchat(ALICE, 7.0, payload="hello", chars=42)
    assert out.sender.nick == "Alice" and out.entry is not None
    (entry,) = room.history.select()
    assert (entry.stamp, entry.nick, entry.payload, entry.chars) == (7.0, "Alice", "hello", 42)
    assert out.entry is entry


def test_non_historic_message_is_not_recorded():
    room = new_room()
    out = room.groupchat(OWNER, 1.0, payload="typing…", historic=False)
    assert out.entry is None and len(room.history) == 0


def test_room_without_history_records_nothing():
    room = new_room(history_length=0)
    assert room.groupchat(OWNER, 1.0, payload="x").entry is None


def test_groupchat_from_outside_is_not_acceptable():
    with pytest.raises(NotOccupant):
        new_room().groupchat(ALICE, 1.0, payload="x")


def test_visitor_cannot_speak():
    room = new_room(moderated=True)
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.groupchat(ALICE, 1.0, payload="x")
    assert len(room.history) == 0


def test_any_session_of_an_occupant_may_speak():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alice")
    assert room.groupchat(ALICE2, 1.0).sender.nick == "Alice"


@pytest.mark.parametrize("subject, body, thread, expected", [
    (True, False, False, True), (True, True, False, False), (True, False, True, False),
    (False, True, False, False)])
def test_is_subject_change(subject, body, thread, expected):
    assert is_subject_change(has_subject=subject, has_body=body, has_thread=thread) is expected


def test_moderator_sets_the_subject():
    room = new_room()
    out = room.change_subject(OWNER, "Welcome", 3.0)
    assert out.sender.nick == "Owner"
    assert (room.subject.text, room.subject.nick, room.subject.stamp) == ("Welcome", "Owner", 3.0)
    assert out.subject is room.subject
    room.change_subject(OWNER, "", 4.0)
    assert room.subject.text == ""


def test_participant_sets_the_subject_only_when_allowed():
    room = new_room()
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.change_subject(ALICE, "mine", 2.0)
    room.configure(OWNER, 2.0, change_subject=True)
    room.change_subject(ALICE, "mine", 3.0)
    assert room.subject.nick == "Alice"


def test_visitor_never_sets_the_subject():
    room = new_room(moderated=True, change_subject=True)
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.change_subject(ALICE, "x", 2.0)


def test_subject_from_outside():
    with pytest.raises(NotOccupant):
        new_room().change_subject(BOB, "x", 1.0)


def test_private_message_routes_to_the_targets_sessions():
    room = new_room()
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alice")
    out = room.private_message(OWNER, "Alice")
    assert out.sender.nick == "Owner" and list(out.target.sessions) == [ALICE, ALICE2]
    assert not out.to_self


def test_private_message_errors():
    room = new_room()
    with pytest.raises(NotOccupant):
        room.private_message(BOB, "Owner")
    with pytest.raises(NoSuchOccupant):
        room.private_message(OWNER, "Nobody")


@pytest.mark.parametrize("policy, allowed_senders", [
    ("anyone", {"Visitor", "Member", "Mod"}),
    ("participants", {"Member", "Mod"}),
    ("moderators", {"Mod"}),
    ("members", {"Member"}),
    ("none", set()),
])
def test_private_message_policy(policy, allowed_senders):
    room = new_room(moderated=True, allow_private_messages=policy)
    join(room, ALICE, "Visitor")
    room.set_affiliation(OWNER, BOB, Affiliation.MEMBER)
    join(room, BOB, "Member")
    join(room, CAROL, "Mod")
    room.set_role(OWNER, "Mod", Role.MODERATOR)
    senders = {"Visitor": ALICE, "Member": BOB, "Mod": CAROL}
    allowed = set()
    for nick, jid in senders.items():
        target = "Member" if nick != "Member" else "Visitor"
        try:
            room.private_message(jid, target)
            allowed.add(nick)
        except PrivateMessagesRestricted:
            pass
    assert allowed == allowed_senders


def test_private_message_to_own_other_nick_always_passes():
    room = new_room(allow_private_messages="none")
    join(room, ALICE, "Alice")
    join(room, ALICE2, "Alicia")
    assert room.private_message(ALICE, "Alicia").target.nick == "Alicia"


def test_allow_modpm_lets_anyone_write_to_moderators():
    room = new_room(allow_private_messages="none", allow_modpm=True)
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    room.private_message(ALICE, "Owner")
    room.private_message(OWNER, "Alice")
    with pytest.raises(PrivateMessagesRestricted):
        room.private_message(ALICE, "Bob")


def test_private_iq_ignores_the_pm_policy_and_spots_self_ping():
    room = new_room(allow_private_messages="none")
    join(room, ALICE, "Alice")
    assert room.private_iq(ALICE, "Owner").target.nick == "Owner"
    assert room.private_iq(ALICE, "Alice").to_self
    with pytest.raises(NotOccupant):
        room.private_iq(BOB, "Alice")
    with pytest.raises(NoSuchOccupant):
        room.private_iq(ALICE, "Nobody")


def test_invite_to_open_room():
    room = new_room()
    join(room, ALICE, "Alice")
    out = room.invite(ALICE, "bob@example.net/home", 2.0)
    assert out.inviter.nick == "Alice" and out.invitee == "bob@example.net"
    assert out.membership is None


def test_visitor_cannot_invite():
    room = new_room(moderated=True)
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.invite(ALICE, BOB, 2.0)


def test_admin_invite_to_members_only_room_grants_membership():
    room = new_room(members_only=True)
    out = room.invite(OWNER, BOB, 2.0)
    assert out.membership.new_affiliation is Affiliation.MEMBER
    assert room.affiliation_of(BOB) is Affiliation.MEMBER
    assert room.affiliation_data(BOB)["reason"] == "Invited by owner@example.org"


def test_member_invites_to_members_only_room_only_with_allow_invites():
    room = new_room(members_only=True)
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.invite(ALICE, BOB, 2.0)
    room.configure(OWNER, 2.0, allow_invites=True)
    assert room.invite(ALICE, BOB, 3.0).membership is not None
    assert room.affiliation_of(BOB) is Affiliation.MEMBER


def test_invite_does_not_lift_a_ban():
    room = new_room(members_only=True)
    room.set_affiliation(OWNER, BOB, Affiliation.OUTCAST)
    assert room.invite(OWNER, BOB, 2.0).membership is None
    assert room.affiliation_of(BOB) is Affiliation.OUTCAST
