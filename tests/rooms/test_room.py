import pytest

from mucsvc.rooms import Affiliation, Forbidden, NotAcceptable, Role, Room, RoomConfig
from tests.rooms.helpers import ALICE, ALICE2, BOB, OWNER, ROOM, join, new_room


def test_instant_room_unlocks_without_status_codes():
    room = new_room(lock=True)
    out = room.configure(OWNER, 1.0)
    assert out.unlocked and not room.locked and room.locked_at is None
    assert out.status_codes == set() and not out.changed


def test_configuration_change_reports_104():
    room = new_room()
    out = room.configure(OWNER, 1.0, name="Lounge", moderated=True)
    assert out.status_codes == {104} and not out.unlocked
    assert room.config.name == "Lounge" and room.config.moderated


@pytest.mark.parametrize("start, to, code", [("moderators", "anyone", 172), ("anyone", "moderators", 173)])
def test_whois_change_reports_172_or_173(start, to, code):
    room = new_room(whois=start)
    assert room.configure(OWNER, 1.0, whois=to).status_codes == {code}


def test_whois_and_other_change_reports_both():
    room = new_room()
    out = room.configure(OWNER, 1.0, whois="anyone", name="Verona")
    assert out.status_codes == {104, 172}


def test_submitting_the_same_values_changes_nothing():
    room = new_room(moderated=True)
    assert room.configure(OWNER, 1.0, moderated=True).status_codes == set()


def test_only_owners_configure():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.ADMIN)
    with pytest.raises(Forbidden):
        room.configure(ALICE, 1.0, name="mine")
    assert room.config.name == ""


def test_bad_configuration_leaves_the_room_unchanged_and_locked():
    room = new_room(lock=True)
    before = room.config
    with pytest.raises(NotAcceptable):
        room.configure(OWNER, 1.0, name="ok", history_length=-5)
    assert room.config is before and room.locked


def test_becoming_members_only_removes_non_members_with_322():
    room = new_room()
    room.set_affiliation(OWNER, ALICE, Affiliation.MEMBER)
    join(room, ALICE, "Alice")
    bob = join(room, BOB, "Bob").occupant
    out = room.configure(OWNER, 1.0, members_only=True)
    assert out.removed == (bob,) and bob.role is Role.NONE
    assert [o.nick for o in room.occupants] == ["Owner", "Alice"]
    assert room.occupant_by_jid(BOB) is None and not out.destroy_room


def test_history_limit_follows_config_and_service_cap():
    room = new_room(history_cap=5)
    assert room.history.limit == 5
    for i in range(5):
        room.groupchat(OWNER, float(i), payload=i)
    room.configure(OWNER, 9.0, history_length=2)
    assert [e.payload for e in room.history] == [3, 4]
    room.configure(OWNER, 9.0, history_length=50)
    assert room.history.limit == 5


def test_destroy_empties_the_room():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    out = room.destroy(OWNER, reason="bye", alternate_venue="new@muc.example", password="pw")
    assert out.room_jid == ROOM and alice in out.occupants and len(out.occupants) == 2
    assert (out.reason, out.alternate_venue, out.password) == ("bye", "new@muc.example", "pw")
    assert out.actor.nick == "Owner" and out.room is room
    assert room.destroyed and room.is_empty and alice.role is Role.NONE
    assert room.occupant_by_jid(ALICE) is None


def test_only_owners_destroy():
    room = new_room()
    join(room, ALICE, "Alice")
    with pytest.raises(Forbidden):
        room.destroy(ALICE)
    assert not room.destroyed


def test_sees_real_jids():
    room = new_room()
    alice = join(room, ALICE, "Alice").occupant
    assert room.sees_real_jids(room.occupant_by_nick("Owner"))
    assert not room.sees_real_jids(alice)
    room.configure(OWNER, 1.0, whois="anyone")
    assert room.sees_real_jids(alice)


def test_current_nick():
    room = new_room()
    join(room, ALICE, "Alice")
    assert room.current_nick(ALICE) == "Alice" and room.current_nick(BOB) is None


def test_features_name_the_room_type():
    assert new_room().features() == [
        "http://jabber.org/protocol/muc", "muc_hidden", "muc_temporary", "muc_open",
        "muc_unmoderated", "muc_unsecured", "muc_semianonymous"]
    room = new_room(public=True, persistent=True, members_only=True, moderated=True,
                    password="pw", whois="anyone")
    assert room.features()[1:] == [
        "muc_public", "muc_persistent", "muc_membersonly", "muc_moderated",
        "muc_passwordprotected", "muc_nonanonymous"]


def test_info():
    room = new_room(description="About cats", language="en", change_subject=True)
    join(room, ALICE, "Alice")
    room.change_subject(OWNER, "Cats", 1.0)
    info = room.info()
    assert (info.description, info.language, info.occupants, info.subject, info.change_subject) == (
        "About cats", "en", 2, "Cats", True)
    assert not info.password_protected and info.max_users is None


def test_discoverable_only_when_public_and_unlocked():
    assert not new_room(lock=True, public=True).discoverable
    assert new_room(public=True).discoverable
    assert not new_room().discoverable  # hidden by default, as in Prosody


def test_restored_room_keeps_affiliations_and_is_not_pristine():
    room = Room(ROOM, RoomConfig(persistent=True), affiliations={
        "owner@example.org": Affiliation.OWNER, "bob@example.net": Affiliation.NONE},
        affiliation_data={"owner@example.org": {"reason": "founder"}})
    assert not room.is_pristine
    assert room.affiliation_list(Affiliation.OWNER) == [("owner@example.org", {"reason": "founder"})]
    out = join(room, ALICE, "Alice")
    assert not out.created and out.occupant.role is Role.PARTICIPANT


def test_affiliation_of_accepts_full_and_bare_jids():
    room = new_room()
    assert room.affiliation_of(OWNER) is room.affiliation_of("owner@example.org") is Affiliation.OWNER
    assert room.affiliation_of(ALICE2) is Affiliation.NONE


def test_room_and_occupants_use_slots():
    room = new_room()
    assert not hasattr(room, "__dict__")


def test_evacuate_empties_the_room_but_keeps_it():
    room = new_room()
    join(room, ALICE, "Alice")
    gone = room.evacuate()
    assert {o.nick for o in gone} == {"Owner", "Alice"}
    assert all(o.role is Role.NONE and o.sessions for o in gone)
    assert room.is_empty and room.affiliation_of(OWNER) is Affiliation.OWNER
