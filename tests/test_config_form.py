"""The muc#roomconfig form: what an owner is offered and how the answer is read."""

import dataclasses

import pytest
from twisted.words.xish import domish
from wokkel.generic import parseXml

from mucsvc.protocol.errors import stanza_error
from mucsvc.protocol import config_form
from mucsvc.protocol.config_form import (
    NS_ROOMCONFIG, FormRejected, Submission, build_config_form, parse_config_submission,
)
from mucsvc.rooms import Affiliation, NotAcceptable, Role, Room, RoomConfig
from tests.rooms.helpers import OWNER, ROOM, new_room

NS_X = "jabber:x:data"
NS_VALIDATE = "http://jabber.org/protocol/xdata-validate"

PROSODY_ORDER = [
    None,  # "Room information"
    "muc#roomconfig_roomname",
    "muc#roomconfig_roomdesc",
    "muc#roomconfig_lang",
    "muc#roomconfig_persistentroom",
    "muc#roomconfig_publicroom",
    None,  # "Access to the room"
    "muc#roomconfig_roomsecret",
    "muc#roomconfig_membersonly",
    "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites",
    None,  # "Permissions in the room"
    "muc#roomconfig_changesubject",
    "muc#roomconfig_moderatedroom",
    "muc#roomconfig_whois",
    None,  # "Other options"
    "muc#roomconfig_historylength",
] + (["muc#roomconfig_defaulthistorymessages"] if config_form.SUPPORTS_DEFAULT_HISTORY else []) + [
    "muc#roomconfig_presencebroadcast",
]
EXTRA_ORDER = [
    "muc#roomconfig_allowpm",
    "{xmpp:prosody.im}muc#allow_modpm",
    "muc#roomconfig_maxusers",
    "muc#roomconfig_getmemberlist",
    "muc#roomconfig_roomadmins",
    "muc#roomconfig_roomowners",
]

# ---- helpers ------------------------------------------------------------------

def form_xml(room, actor=OWNER) -> domish.Element:
    """The form as a client receives it (serialized and parsed again)."""
    return parseXml(build_config_form(room, actor).toElement().toXml())


def fields_of(x):
    return list(x.elements(NS_X, "field"))


def field(x, var):
    matches = [f for f in fields_of(x) if f.getAttribute("var") == var]
    assert len(matches) == 1, var
    return matches[0]


def values(x, var):
    return [str(v) for v in field(x, var).elements(NS_X, "value")]


def options(x, var):
    return [(o.getAttribute("label"), str(next(o.elements(NS_X, "value"))))
            for o in field(x, var).elements(NS_X, "option")]


def fill(x, **overrides) -> domish.Element:
    """What a client sends back: every field of the received form with its
    value, except those in ``overrides`` (var -> list of values; a var may
    be spelled with ``__`` for ``#``).  Like many clients it sends no type."""
    overrides = {var.replace("__", "#"): vals for var, vals in overrides.items()}
    submit = domish.Element((NS_X, "x"))
    submit["type"] = "submit"
    for f in fields_of(x):
        var = f.getAttribute("var")
        if var is None:
            continue
        answer = submit.addElement("field")
        answer["var"] = var
        for value in overrides.get(var, [str(v) for v in f.elements(NS_X, "value")]):
            answer.addElement("value", content=value)
    return submit


def submission(*fields, form_type="submit", form_ns=NS_ROOMCONFIG) -> domish.Element:
    """A submit form with FORM_TYPE and ``fields`` as (var, [values])."""
    body = "".join(
        f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in vals) + "</field>"
        for var, vals in fields)
    form_type_field = (f"<field var='FORM_TYPE' type='hidden'><value>{form_ns}</value></field>"
                       if form_ns is not None else "")
    return parseXml(f"<x xmlns='{NS_X}' type='{form_type}'>{form_type_field}{body}</x>")


def changes(room, *fields):
    return parse_config_submission(submission(*fields), room).config_changes


def refused(room, *fields) -> NotAcceptable:
    with pytest.raises(NotAcceptable) as caught:
        parse_config_submission(submission(*fields), room)
    return caught.value


# ---- the form offered -------------------------------------------------------------

def test_form_header():
    x = form_xml(new_room())
    assert (x.uri, x.name, x["type"]) == (NS_X, "x", "form")
    assert str(next(x.elements(NS_X, "title"))) == f"Configuration for {ROOM}"
    assert [str(i) for i in x.elements(NS_X, "instructions")] == [
        "Complete and submit this form to configure the room."]
    form_type = fields_of(x)[0]
    assert (form_type["type"], form_type["var"]) == ("hidden", "FORM_TYPE")
    assert values(x, "FORM_TYPE") == [NS_ROOMCONFIG]


def test_fields_in_prosody_order_then_ours():
    x = form_xml(new_room())
    assert [f.getAttribute("var") for f in fields_of(x)[1:]] == PROSODY_ORDER + EXTRA_ORDER


def test_section_headings_are_fixed_fields():
    x = form_xml(new_room())
    fixed = [f for f in fields_of(x) if f.getAttribute("type") == "fixed"]
    assert [str(next(f.elements(NS_X, "value"))) for f in fixed] == [
        "Room information", "Access to the room", "Permissions in the room", "Other options"]
    assert all(f.getAttribute("var") is None for f in fixed)


def test_field_types():
    types = {f["var"]: f["type"] for f in fields_of(form_xml(new_room())) if f.hasAttribute("var")}
    assert types["muc#roomconfig_roomname"] == "text-single"
    assert types["muc#roomconfig_roomsecret"] == "text-private"
    assert types["muc#roomconfig_persistentroom"] == "boolean"
    assert types["muc#roomconfig_whois"] == "list-single"
    assert types["muc#roomconfig_historylength"] == "text-single"
    assert types["muc#roomconfig_presencebroadcast"] == "list-multi"
    assert types["muc#roomconfig_maxusers"] == "list-single"
    assert types["muc#roomconfig_getmemberlist"] == "list-multi"
    assert types["muc#roomconfig_roomowners"] == "jid-multi"
    assert types["muc#roomconfig_roomadmins"] == "jid-multi"


def test_labels_and_descriptions_like_prosody():
    x = form_xml(new_room())
    assert field(x, "muc#roomconfig_roomname")["label"] == "Title"
    assert field(x, "muc#roomconfig_roomsecret")["label"] == "Password"
    persistent = field(x, "muc#roomconfig_persistentroom")
    assert persistent["label"] == "Persistent (room should remain even when it is empty)"
    assert str(next(persistent.elements(NS_X, "desc"))).startswith(
        "Rooms are automatically deleted")


def test_integer_and_language_fields_declare_their_datatype():
    x = form_xml(new_room())
    for var, datatype in (("muc#roomconfig_historylength", "xs:integer"),
                          ("muc#roomconfig_lang", "xs:language")):
        [validate] = field(x, var).elements(NS_VALIDATE, "validate")
        assert validate["datatype"] == datatype


def test_default_values_of_a_new_room():
    x = form_xml(new_room())
    assert values(x, "muc#roomconfig_roomname") == [""]
    assert values(x, "muc#roomconfig_roomsecret") == [""]
    assert values(x, "muc#roomconfig_persistentroom") == ["0"]
    assert values(x, "muc#roomconfig_publicroom") == ["0"]
    assert values(x, "muc#roomconfig_whois") == ["moderators"]
    assert values(x, "muc#roomconfig_historylength") == ["20"]
    assert values(x, "muc#roomconfig_presencebroadcast") == ["visitor", "participant", "moderator"]
    assert values(x, "muc#roomconfig_allowpm") == ["anyone"]
    assert values(x, "muc#roomconfig_maxusers") == ["none"]
    assert values(x, "muc#roomconfig_getmemberlist") == []
    assert values(x, "muc#roomconfig_roomowners") == ["owner@example.org"]
    assert values(x, "muc#roomconfig_roomadmins") == []


def test_current_values_are_shown():
    room = new_room(name="Lounge", description="Chat & fun", language="en", persistent=True,
                    public=False, password="s3cret", members_only=True, allow_invites=True,
                    change_subject=True, moderated=True, whois="anyone", history_length=7,
                    presence_broadcast={Role.MODERATOR}, allow_private_messages="members",
                    allow_modpm=True, max_users=42, get_member_list={Role.PARTICIPANT})
    room.set_affiliation(OWNER, "boss@example.org", Affiliation.ADMIN)
    x = form_xml(room)
    assert values(x, "muc#roomconfig_roomname") == ["Lounge"]
    assert values(x, "muc#roomconfig_roomdesc") == ["Chat & fun"]
    assert values(x, "muc#roomconfig_lang") == ["en"]
    assert values(x, "muc#roomconfig_roomsecret") == ["s3cret"]
    for var in ("persistentroom", "membersonly", "changesubject", "moderatedroom"):
        assert values(x, f"muc#roomconfig_{var}") == ["1"], var
    assert values(x, "muc#roomconfig_publicroom") == ["0"]
    assert values(x, "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites") == ["1"]
    assert values(x, "{xmpp:prosody.im}muc#allow_modpm") == ["1"]
    assert values(x, "muc#roomconfig_whois") == ["anyone"]
    assert values(x, "muc#roomconfig_historylength") == ["7"]
    assert values(x, "muc#roomconfig_presencebroadcast") == ["moderator"]
    assert values(x, "muc#roomconfig_allowpm") == ["members"]
    assert values(x, "muc#roomconfig_maxusers") == ["42"]
    assert values(x, "muc#roomconfig_getmemberlist") == ["participant"]
    assert values(x, "muc#roomconfig_roomadmins") == ["boss@example.org"]


def test_whois_options():
    assert options(form_xml(new_room()), "muc#roomconfig_whois") == [
        ("Moderators only", "moderators"), ("Anyone", "anyone")]


def test_presence_broadcast_offers_every_role_like_prosody():
    assert [v for _, v in options(form_xml(new_room()), "muc#roomconfig_presencebroadcast")] == [
        "none", "visitor", "participant", "moderator"]


def test_maxusers_offers_the_current_limit_even_if_unusual():
    opts = [v for _, v in options(form_xml(new_room(max_users=42)), "muc#roomconfig_maxusers")]
    assert opts == ["10", "20", "30", "42", "50", "100", "none"]


def test_allowpm_options():
    assert [v for _, v in options(form_xml(new_room()), "muc#roomconfig_allowpm")] == [
        "anyone", "participants", "moderators", "members", "none"]


def test_history_length_shown_is_what_the_service_cap_allows():
    room = Room(ROOM, RoomConfig(history_length=50), history_cap=10)
    assert values(form_xml(room), "muc#roomconfig_historylength") == ["10"]


def test_options_only_in_form_not_in_values():
    # A client must not mistake an option for a current value.
    x = form_xml(new_room())
    whois = field(x, "muc#roomconfig_whois")
    assert [str(v) for v in whois.elements(NS_X, "value")] == ["moderators"]


# ---- round trip ---------------------------------------------------------------

def test_echoing_the_form_changes_nothing():
    room = new_room(name="Lounge", password="pw", max_users=42, whois="anyone",
                    presence_broadcast={Role.PARTICIPANT, Role.MODERATOR},
                    get_member_list={Role.MODERATOR}, allow_private_messages="none")
    result = parse_config_submission(fill(form_xml(room)), room)
    assert result.config_changes == {}
    assert result.owners == ("owner@example.org",)
    assert result.admins == ()
    assert not result.cancelled


def test_round_trip_as_a_client_fills_it():
    room = new_room()
    submitted = fill(
        form_xml(room),
        muc__roomconfig_roomname=["Lounge"],
        muc__roomconfig_roomdesc=["A place"],
        muc__roomconfig_lang=["fr"],
        muc__roomconfig_persistentroom=["1"],
        muc__roomconfig_publicroom=["false"],
        muc__roomconfig_roomsecret=["pw"],
        muc__roomconfig_membersonly=["true"],
        **{"{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites": ["1"],
           "{xmpp:prosody.im}muc#allow_modpm": ["true"]},
        muc__roomconfig_changesubject=["1"],
        muc__roomconfig_moderatedroom=["1"],
        muc__roomconfig_whois=["anyone"],
        muc__roomconfig_historylength=["5"],
        muc__roomconfig_presencebroadcast=["moderator", "participant"],
        muc__roomconfig_allowpm=["moderators"],
        muc__roomconfig_maxusers=["30"],
        muc__roomconfig_getmemberlist=["participant", "moderator"],
        muc__roomconfig_roomadmins=["boss@example.org"],
        muc__roomconfig_roomowners=["owner@example.org", "Co@Example.ORG"],
    )
    result = parse_config_submission(submitted, room)
    expected = dataclasses.replace(
        room.config, name="Lounge", description="A place", language="fr", persistent=True,
        public=False, password="pw", members_only=True, allow_invites=True,
        change_subject=True, moderated=True, whois="anyone", history_length=5,
        default_history_messages=5,
        presence_broadcast=frozenset({Role.MODERATOR, Role.PARTICIPANT}),
        allow_private_messages="moderators", allow_modpm=True, max_users=30,
        get_member_list=frozenset({Role.PARTICIPANT, Role.MODERATOR}))
    assert room.config.updated(**result.config_changes) == expected
    assert result.admins == ("boss@example.org",)
    assert result.owners == ("owner@example.org", "co@example.org")
    # and the room takes it
    outcome = room.configure(OWNER, 1.0, **result.config_changes)
    assert room.config == expected
    assert 104 in outcome.status_codes


def test_only_changed_options_are_reported():
    room = new_room(name="Lounge")
    result = parse_config_submission(
        fill(form_xml(room), muc__roomconfig_roomname=["Lounge"],
             muc__roomconfig_moderatedroom=["1"]), room)
    assert result.config_changes == {"moderated": True}


# ---- form-level rules -----------------------------------------------------------

def test_instant_room_empty_submit():
    result = parse_config_submission(parseXml(f"<x xmlns='{NS_X}' type='submit'/>"), new_room())
    assert result == Submission()
    assert result.config_changes == {} and result.owners is None and result.admins is None


def test_form_type_only_changes_nothing():
    assert parse_config_submission(submission(), new_room()) == Submission()


def test_cancel():
    result = parse_config_submission(parseXml(f"<x xmlns='{NS_X}' type='cancel'/>"), new_room())
    assert result.cancelled and result.config_changes == {}


@pytest.mark.parametrize("form_type", ["form", "result", ""])
def test_not_a_submission_is_bad_request(form_type):
    with pytest.raises(FormRejected) as caught:
        parse_config_submission(submission(form_type=form_type), new_room())
    assert (caught.value.condition, caught.value.error_type) == ("bad-request", "cancel")
    assert caught.value.text == "Not a submitted form"


def test_wrong_form_type_is_bad_request():
    with pytest.raises(FormRejected) as caught:
        parse_config_submission(
            submission(("muc#roomconfig_roomname", ["x"]),
                       form_ns="http://jabber.org/protocol/muc#register"), new_room())
    assert caught.value.condition == "bad-request"
    assert caught.value.text == "Form is not of type room configuration"


def test_missing_form_type_is_bad_request():
    with pytest.raises(FormRejected):
        parse_config_submission(submission(("muc#roomconfig_roomname", ["x"]), form_ns=None),
                                new_room())


def test_not_a_data_form_is_bad_request():
    with pytest.raises(FormRejected):
        parse_config_submission(parseXml("<x xmlns='http://jabber.org/protocol/muc#user'/>"),
                                new_room())


def test_form_type_field_without_type_attribute():
    # Prosody's own test scripts submit FORM_TYPE this way.
    x = parseXml(f"<x xmlns='{NS_X}' type='submit'><field var='FORM_TYPE'>"
                 f"<value>{NS_ROOMCONFIG}</value></field><field var='muc#roomconfig_roomsecret'>"
                 "<value>cauldronburn</value></field></x>")
    assert parse_config_submission(x, new_room()).config_changes == {"password": "cauldronburn"}


def test_unknown_fields_are_ignored():
    assert changes(new_room(), ("muc#roomconfig_enablelogging", ["1"]),
                   ("muc#roomconfig_passwordprotectedroom", ["1"]),
                   ("x-unknown", ["?"])) == {}


def test_first_of_repeated_fields_counts():
    assert changes(new_room(), ("muc#roomconfig_roomname", ["one"]),
                   ("muc#roomconfig_roomname", ["two"])) == {"name": "one"}


def test_several_values_in_a_single_valued_field_are_refused():
    error = refused(new_room(), ("muc#roomconfig_roomname", ["a", "b"]))
    assert "muc#roomconfig_roomname" in error.text


def test_submitted_field_type_does_not_matter():
    x = parseXml(f"<x xmlns='{NS_X}' type='submit'><field var='FORM_TYPE' type='hidden'>"
                 f"<value>{NS_ROOMCONFIG}</value></field>"
                 "<field var='muc#roomconfig_moderatedroom' type='text-single'>"
                 "<value>true</value></field></x>")
    assert parse_config_submission(x, new_room()).config_changes == {"moderated": True}


# ---- each field -------------------------------------------------------------------

@pytest.mark.parametrize("var,option", [
    ("muc#roomconfig_roomname", "name"),
    ("muc#roomconfig_roomdesc", "description"),
    ("muc#roomconfig_lang", "language"),
])
def test_text_fields(var, option):
    room = new_room(**{option: "old"})
    assert changes(room, (var, ["new"])) == {option: "new"}
    assert changes(room, (var, ["old"])) == {}
    # present without a value, or with an empty one: cleared (Prosody)
    assert changes(room, (var, [])) == {option: ""}
    assert changes(room, (var, [""])) == {option: ""}


def test_text_keeps_markup_characters():
    assert changes(new_room(), ("muc#roomconfig_roomname", ["a &amp; &lt;b&gt;"])) == {
        "name": "a & <b>"}


def test_password():
    room = new_room()
    assert changes(room, ("muc#roomconfig_roomsecret", ["pw"])) == {"password": "pw"}
    protected = new_room(password="pw")
    assert changes(protected, ("muc#roomconfig_roomsecret", [""])) == {"password": None}
    assert changes(protected, ("muc#roomconfig_roomsecret", [])) == {"password": None}
    assert changes(room, ("muc#roomconfig_roomsecret", [""])) == {}


BOOLEANS = [
    ("muc#roomconfig_persistentroom", "persistent"),
    ("muc#roomconfig_publicroom", "public"),
    ("muc#roomconfig_membersonly", "members_only"),
    ("{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites", "allow_invites"),
    ("muc#roomconfig_changesubject", "change_subject"),
    ("muc#roomconfig_moderatedroom", "moderated"),
    ("{xmpp:prosody.im}muc#allow_modpm", "allow_modpm"),
]


@pytest.mark.parametrize("var,option", BOOLEANS)
@pytest.mark.parametrize("text,value", [("1", True), ("true", True), ("0", False),
                                        ("false", False)])
def test_booleans(var, option, text, value):
    room = new_room(**{option: not value})
    assert changes(room, (var, [text])) == {option: value}


@pytest.mark.parametrize("var,option", BOOLEANS)
def test_boolean_without_value_is_false(var, option):
    assert changes(new_room(**{option: True}), (var, [])) == {option: False}


@pytest.mark.parametrize("var,option", BOOLEANS)
@pytest.mark.parametrize("bad", ["yes", "TRUE", "2", ""])
def test_booleans_refuse_other_words(var, option, bad):
    error = refused(new_room(), (var, [bad]))
    assert var in error.text and "boolean" in error.text
    assert stanza_error(error)[:2] == ("not-acceptable", "modify")


def test_whois():
    assert changes(new_room(), ("muc#roomconfig_whois", ["anyone"])) == {"whois": "anyone"}
    assert changes(new_room(whois="anyone"), ("muc#roomconfig_whois", ["moderators"])) == {
        "whois": "moderators"}
    for bad in (["nobody"], [], ["Anyone"]):
        assert "muc#roomconfig_whois" in refused(new_room(), ("muc#roomconfig_whois", bad)).text


@pytest.mark.parametrize("text,value", [("0", 0), ("5", 5), (" 30 ", 30), ("+3", 3)])
def test_history_length(text, value):
    assert changes(new_room(history_length=99), ("muc#roomconfig_historylength", [text])) == {
        "history_length": value}


def test_history_length_empty_means_default():
    room = new_room(history_length=3)
    assert changes(room, ("muc#roomconfig_historylength", [""])) == {"history_length": 20}
    assert changes(room, ("muc#roomconfig_historylength", [])) == {"history_length": 20}


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "1e3", "0x10"])
def test_history_length_refuses_non_integers_and_negatives(bad):
    error = refused(new_room(), ("muc#roomconfig_historylength", [bad]))
    assert "muc#roomconfig_historylength" in error.text


def test_presence_broadcast():
    var = "muc#roomconfig_presencebroadcast"
    room = new_room()
    assert changes(room, (var, ["moderator"])) == {
        "presence_broadcast": frozenset({Role.MODERATOR})}
    assert changes(room, (var, ["moderator", "participant", "visitor"])) == {}
    assert changes(room, (var, [])) == {"presence_broadcast": frozenset()}
    # "none": affiliated users who are away are shown too (Prosody)
    assert changes(room, (var, ["none", "moderator"])) == {
        "presence_broadcast": frozenset({Role.NONE, Role.MODERATOR})}
    assert "admin" in refused(room, (var, ["admin"])).text


def test_get_member_list():
    var = "muc#roomconfig_getmemberlist"
    room = new_room()
    assert changes(room, (var, ["participant", "moderator"])) == {
        "get_member_list": frozenset({Role.PARTICIPANT, Role.MODERATOR})}
    assert changes(room, (var, [])) == {}
    assert "none" in refused(room, (var, ["none"])).text
    assert "owner" in refused(room, (var, ["owner"])).text


@pytest.mark.parametrize("text,value", [("anyone", "anyone"), ("participants", "participants"),
                                        ("moderators", "moderators"), ("members", "members"),
                                        ("none", "none"),
                                        # other servers' names for the same choices
                                        ("visitor", "anyone"), ("participant", "participants"),
                                        ("moderator", "moderators"), ("affiliated", "members")])
def test_allow_pm(text, value):
    room = new_room(allow_private_messages="none" if value != "none" else "anyone")
    assert changes(room, ("muc#roomconfig_allowpm", [text])) == {
        "allow_private_messages": value}


@pytest.mark.parametrize("bad", [["everybody"], []])
def test_allow_pm_refuses_unknown(bad):
    assert "muc#roomconfig_allowpm" in refused(new_room(), ("muc#roomconfig_allowpm", bad)).text


@pytest.mark.parametrize("text,value", [("none", None), ("", None), ("42", 42), ("10", 10)])
def test_max_users(text, value):
    room = new_room(max_users=7)
    assert changes(room, ("muc#roomconfig_maxusers", [text])) == {"max_users": value}


@pytest.mark.parametrize("bad", ["0", "-5", "many"])
def test_max_users_refuses_non_positive(bad):
    assert "muc#roomconfig_maxusers" in refused(new_room(), ("muc#roomconfig_maxusers", [bad])).text


def owners_and_admins(room, *fields):
    result = parse_config_submission(submission(*fields), room)
    return result.owners, result.admins


def test_owner_and_admin_lists():
    room = new_room()
    assert owners_and_admins(room) == (None, None)
    assert owners_and_admins(
        room, ("muc#roomconfig_roomowners", ["owner@example.org", "b@x.org", "b@x.org"]),
        ("muc#roomconfig_roomadmins", [])) == (("owner@example.org", "b@x.org"), ())
    # JIDs are normalised; empty values (an empty text box) are skipped
    assert owners_and_admins(room, ("muc#roomconfig_roomadmins", ["", "A@X.Org"])) == (
        None, ("a@x.org",))


@pytest.mark.parametrize("bad", ["a@x.org/desk", "@x.org", "a@b@c"])
def test_owner_list_refuses_bad_jids(bad):
    error = refused(new_room(), ("muc#roomconfig_roomowners", [bad]))
    assert "muc#roomconfig_roomowners" in error.text


def test_refused_submission_leaves_nothing_half_done():
    room = new_room()
    before = room.config
    refused(room, ("muc#roomconfig_roomname", ["New"]), ("muc#roomconfig_whois", ["bad"]))
    assert room.config is before


# ---- default number of history messages (Prosody's defaulthistorymessages) --------
#
# The field exists only when RoomConfig can keep the option; both cases are
# exercised here whatever RoomConfig looks like today.

@dataclasses.dataclass(frozen=True)
class ConfigWithDefaultHistory(RoomConfig):
    default_history_messages: int = 20


@pytest.fixture
def with_default_history(monkeypatch):
    monkeypatch.setattr(config_form, "SUPPORTS_DEFAULT_HISTORY", True)

    def make(**options):
        return Room(ROOM, ConfigWithDefaultHistory(**options))
    return make


def test_default_history_not_offered_when_the_room_cannot_keep_it(monkeypatch):
    monkeypatch.setattr(config_form, "SUPPORTS_DEFAULT_HISTORY", False)
    room = new_room()
    assert "muc#roomconfig_defaulthistorymessages" not in [
        f.getAttribute("var") for f in fields_of(form_xml(room))]
    assert changes(room, ("muc#roomconfig_defaulthistorymessages", ["3"])) == {}


def test_default_history_follows_the_history_length(with_default_history):
    vars_ = [f.getAttribute("var") for f in fields_of(form_xml(with_default_history()))]
    position = vars_.index("muc#roomconfig_historylength")
    assert vars_[position + 1] == "muc#roomconfig_defaulthistorymessages"


def test_default_history_shown_and_parsed(with_default_history):
    room = with_default_history(default_history_messages=4)
    var = "muc#roomconfig_defaulthistorymessages"
    x = form_xml(room)
    assert values(x, var) == ["4"]
    assert field(x, var)["type"] == "text-single"
    assert next(field(x, var).elements(NS_VALIDATE, "validate"))["datatype"] == "xs:integer"
    assert changes(room, (var, ["3"])) == {"default_history_messages": 3}
    assert changes(room, (var, ["4"])) == {}
    assert changes(room, (var, [""])) == {"default_history_messages": 20}
    assert "integer" in refused(room, (var, ["x"])).text
    assert var in refused(room, (var, ["-1"])).text


def test_default_history_never_exceeds_the_history_length(with_default_history):
    room = with_default_history(history_length=5)
    var = "muc#roomconfig_defaulthistorymessages"
    assert changes(room, (var, ["50"])) == {"default_history_messages": 5}
    assert changes(room, (var, ["50"]), ("muc#roomconfig_historylength", ["8"])) == {
        "history_length": 8, "default_history_messages": 8}
