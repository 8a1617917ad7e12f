"""The muc#roominfo form in a room's disco#info, and the room's identity name."""

import pytest
from wokkel.generic import parseXml

from mucsvc.protocol.roominfo_form import NS_ROOMINFO, room_identity_name, roominfo_form
from mucsvc.rooms import Room
from tests.rooms.helpers import ALICE, BOB, ROOM, join, new_room

NS_X = "jabber:x:data"


def form_xml(room):
    return parseXml(roominfo_form(room).toElement().toXml())


def fields(x):
    return {f["var"]: f for f in x.elements(NS_X, "field")}


def values(x, var):
    return [str(v) for v in fields(x)[var].elements(NS_X, "value")]


def test_result_form_with_form_type():
    x = form_xml(new_room())
    assert (x.uri, x.name, x["type"]) == (NS_X, "x", "result")
    first = next(x.elements(NS_X, "field"))
    assert (first["type"], first["var"]) == ("hidden", "FORM_TYPE")
    assert values(x, "FORM_TYPE") == [NS_ROOMINFO]
    assert list(x.elements(NS_X, "title")) == []


def test_the_fields_prosody_publishes():
    assert list(fields(form_xml(new_room()))) == [
        "FORM_TYPE",
        "muc#roominfo_occupants",
        "muc#roomconfig_roomname",
        "muc#roominfo_description",
        "muc#roominfo_lang",
        "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites",
        "muc#roomconfig_allowinvites",
        "muc#roomconfig_changesubject",
        "muc#roominfo_changesubject",
    ]


def test_the_avatar_hash_is_there_while_the_room_has_an_avatar():
    room = new_room()
    room.set_avatar(None, "image/png", b"\x89PNG picture")
    x = form_xml(room)
    assert list(fields(x))[-1] == "muc#roominfo_avatarhash"
    assert fields(x)["muc#roominfo_avatarhash"]["type"] == "text-multi"
    assert values(x, "muc#roominfo_avatarhash") == [room.avatar.sha1]
    room.set_avatar(None, None, None)
    assert "muc#roominfo_avatarhash" not in fields(form_xml(room))


def test_no_options_or_validation_in_a_result():
    x = form_xml(new_room())
    for f in x.elements(NS_X, "field"):
        assert [c.name for c in f.elements()] in (["value"], ["desc", "value"]), f.toXml()


def test_labels_are_kept_as_prosody_does():
    f = fields(form_xml(new_room()))
    assert f["muc#roominfo_occupants"]["label"] == "Number of occupants"
    assert f["muc#roomconfig_roomname"]["label"] == "Title"
    assert f["muc#roominfo_description"]["label"] == "Description"


def test_occupants_counts_people_in_the_room():
    room = new_room()
    assert values(form_xml(room), "muc#roominfo_occupants") == ["1"]
    join(room, ALICE, "Alice")
    join(room, BOB, "Bob")
    assert values(form_xml(room), "muc#roominfo_occupants") == ["3"]


def test_empty_room_has_no_occupants():
    assert values(form_xml(Room(ROOM)), "muc#roominfo_occupants") == ["0"]


@pytest.mark.parametrize("var,option,value", [
    ("muc#roomconfig_roomname", "name", "Lounge"),
    ("muc#roominfo_description", "description", "Tea & talk"),
    ("muc#roominfo_lang", "language", "de"),
])
def test_text_facts(var, option, value):
    assert values(form_xml(new_room(**{option: value})), var) == [value]
    assert values(form_xml(new_room()), var) == [""]


@pytest.mark.parametrize("change_subject,text", [(True, "1"), (False, "0")])
def test_change_subject_under_both_names(change_subject, text):
    x = form_xml(new_room(change_subject=change_subject))
    assert values(x, "muc#roomconfig_changesubject") == [text]
    assert values(x, "muc#roominfo_changesubject") == [text]
    assert fields(x)["muc#roominfo_changesubject"]["type"] == "boolean"


@pytest.mark.parametrize("members_only,allow_invites,member_invites,anyone_invites", [
    (False, False, "0", "1"),  # open room: anyone may invite
    (False, True, "1", "1"),
    (True, False, "0", "0"),   # members-only: only admins and owners invite
    (True, True, "1", "1"),    # ... unless members may
])
def test_invitation_facts(members_only, allow_invites, member_invites, anyone_invites):
    x = form_xml(new_room(members_only=members_only, allow_invites=allow_invites))
    assert values(x, "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites") == [
        member_invites]
    assert values(x, "muc#roomconfig_allowinvites") == [anyone_invites]


def test_password_is_never_disclosed():
    x = form_xml(new_room(password="s3cret"))
    assert "s3cret" not in x.toXml()


def test_identity_name_is_the_room_name():
    assert room_identity_name(new_room(name="Lounge")) == "Lounge"


def test_identity_name_falls_back_to_the_localpart():
    assert room_identity_name(new_room()) == "room"
    assert room_identity_name(Room("coffee@muc.example")) == "coffee"
