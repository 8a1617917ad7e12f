"""scansion's matching rules, stanza against stanza. No network."""

from __future__ import annotations

import pytest

from tests.scansion.matcher import matches, mismatch
from tests.scansion.stanzas import parse_stanzas

MUC_USER = "http://jabber.org/protocol/muc#user"

# What the scripts expect when Romeo creates a room.
ROOM_CREATED = f"""
<presence from='room@conference.localhost/Romeo'>
    <x xmlns='{MUC_USER}'>
        <status code='201'/>
        <item jid='romeo@localhost/r1' affiliation='owner' role='moderator'/>
        <status code='110'/>
    </x>
</presence>
"""


def stanza(xml: str):
    (element,) = parse_stanzas(xml)
    return element


def created(x_content: str, **presence_attributes) -> str:
    attributes = {"from": "room@conference.localhost/Romeo", **presence_attributes}
    shown = " ".join(f'{key}="{value}"' for key, value in attributes.items())
    return f"<presence {shown}><x xmlns='{MUC_USER}'>{x_content}</x></presence>"


ITEM = "<item jid='romeo@localhost/r1' affiliation='owner' role='moderator'/>"


def test_the_same_stanza_matches():
    received = stanza(created(f"<status code='201'/>{ITEM}<status code='110'/>"))
    assert mismatch(stanza(ROOM_CREATED), received) is None


# -- strict inside elements with their own namespace ---------------------------


def test_status_110_where_201_is_expected_fails():
    received = stanza(created(f"<status code='110'/>{ITEM}<status code='110'/>"))
    reason = mismatch(stanza(ROOM_CREATED), received)
    assert reason is not None
    assert "code='110', expected '201'" in reason


def test_an_extra_status_inside_muc_user_fails():
    received = stanza(created(f"<status code='201'/>{ITEM}<status code='110'/><status code='100'/>"))
    reason = mismatch(stanza(ROOM_CREATED), received)
    assert reason is not None
    assert 'unexpected child <status code="100"/>' in reason


def test_an_unlisted_jid_attribute_inside_muc_user_fails():
    expected = stanza(
        f"<presence><x xmlns='{MUC_USER}'><item affiliation='owner' role='moderator'/></x></presence>"
    )
    received = stanza(created(ITEM))
    reason = mismatch(expected, received)
    assert reason is not None
    assert "unexpected attribute jid='romeo@localhost/r1'" in reason


def test_a_missing_attribute_inside_muc_user_fails():
    received = stanza(
        created("<status code='201'/><item affiliation='owner' role='moderator'/><status code='110'/>")
    )
    assert "attribute jid='romeo@localhost/r1' missing" in mismatch(stanza(ROOM_CREATED), received)


def test_children_of_a_namespaced_element_must_keep_their_order():
    received = stanza(created(f"{ITEM}<status code='201'/><status code='110'/>"))
    assert not matches(stanza(ROOM_CREATED), received)


def test_a_missing_child_inside_muc_user_fails():
    received = stanza(created(f"<status code='201'/>{ITEM}"))
    assert "missing child <status code=\"110\"/>" in mismatch(stanza(ROOM_CREATED), received)


def test_strictness_reaches_grandchildren():
    expected = stanza(
        f"<presence><x xmlns='{MUC_USER}'>"
        "<item affiliation='member'><actor nick='Romeo'/></item></x></presence>"
    )
    received = stanza(
        f"<presence><x xmlns='{MUC_USER}'><item affiliation='member'>"
        "<actor nick='Romeo' jid='romeo@localhost/r1'/></item></x></presence>"
    )
    assert "unexpected attribute jid=" in mismatch(expected, received)


def test_text_inside_a_namespaced_element_is_compared():
    def delayed(inner: str, stamp: str = "x") -> str:
        return f"<message><delay xmlns='urn:xmpp:delay' stamp='{stamp}'>{inner}</delay></message>"

    expected = stanza(delayed("Offline", stamp="{scansion:any}"))
    assert matches(expected, stanza(delayed("Offline")))
    assert not matches(expected, stanza(delayed("Late")))
    assert not matches(expected, stanza(delayed("")))


def test_an_empty_strict_element_must_stay_empty():
    expected = stanza("<iq><query xmlns='http://jabber.org/protocol/disco#info' node='n'/></iq>")
    received = stanza(
        "<iq><query xmlns='http://jabber.org/protocol/disco#info' node='n'>"
        "<identity category='conference' type='text'/></query></iq>"
    )
    assert not matches(expected, received)


def test_the_namespace_is_part_of_the_name():
    expected = stanza("<presence><x xmlns='http://jabber.org/protocol/muc#user'/></presence>")
    assert not matches(expected, stanza("<presence><x xmlns='http://jabber.org/protocol/muc'/></presence>"))


# -- non-strict in jabber:client ------------------------------------------------


def test_extra_stanza_level_attributes_are_ignored():
    received = stanza(
        created(f"<status code='201'/>{ITEM}<status code='110'/>", to="romeo@localhost/r1", id="abc")
    )
    received.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    assert mismatch(stanza(ROOM_CREATED), received) is None


def test_extra_children_of_jabber_client_elements_are_ignored():
    received = stanza(
        "<presence from='room@conference.localhost/Romeo'>"
        "<x xmlns='vcard-temp:x:update'><photo/></x>"
        "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='abc'/>"
        f"<x xmlns='{MUC_USER}'><status code='201'/>{ITEM}<status code='110'/></x>"
        "<status>Here</status>"
        "</presence>"
    )
    assert mismatch(stanza(ROOM_CREATED), received) is None


def test_extra_children_of_a_jabber_client_error_are_ignored():
    expected = stanza(
        "<presence type='error'><error type='auth'>"
        "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
    )
    received = stanza(
        "<presence type='error'><error type='auth' by='room@x'>"
        "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Password required</text></error></presence>"
    )
    assert mismatch(expected, received) is None


def test_expected_stanza_level_attributes_must_match():
    received = stanza(created(f"<status code='201'/>{ITEM}<status code='110'/>", type="unavailable"))
    assert matches(stanza(created(f"<status code='201'/>{ITEM}<status code='110'/>")), received)
    expected = stanza(created(f"<status code='201'/>{ITEM}<status code='110'/>", type="error"))
    assert "attribute type='unavailable', expected 'error'" in mismatch(expected, received)
    assert "attribute type='error' missing" in mismatch(expected, stanza(ROOM_CREATED))


def test_jabber_client_children_may_come_in_any_order():
    expected = stanza("<message><subject>Hi</subject><body>Hello</body></message>")
    assert matches(expected, stanza("<message><body>Hello</body><subject>Hi</subject></message>"))


def test_expected_text_of_a_jabber_client_child_must_match():
    expected = stanza("<message><body>Hello</body></message>")
    assert "text 'Bye', expected 'Hello'" in mismatch(expected, stanza("<message><body>Bye</body></message>"))


def test_each_expected_child_needs_a_received_child_of_its_own():
    expected = stanza("<message><body>Hello</body><body>Hello</body></message>")
    assert not matches(expected, stanza("<message><body>Hello</body></message>"))
    assert matches(expected, stanza("<message><body>Hello</body><body>Hello</body></message>"))


def test_a_missing_jabber_client_child_fails():
    expected = stanza("<message><subject/></message>")
    assert "missing child <subject/>" in mismatch(expected, stanza("<message><body>x</body></message>"))


def test_the_stanza_kind_must_match():
    assert "got <message> instead" in mismatch(stanza("<presence/>"), stanza("<message/>"))


# -- scansion:strict and {scansion:any} ---------------------------------------------


def test_strict_false_allows_any_order_and_extras_inside_muc_user():
    expected = stanza(
        f"<presence><x xmlns='{MUC_USER}' scansion:strict='false'>"
        f"<status code='110'/><status code='201'/></x></presence>"
    )
    received = stanza(created(f"<status code='201'/>{ITEM}<status code='110'/>"))
    assert mismatch(expected, received) is None


def test_strict_false_still_needs_every_expected_child():
    expected = stanza(
        f"<presence><x xmlns='{MUC_USER}' scansion:strict='false'><status code='172'/></x></presence>"
    )
    assert not matches(expected, stanza(created(f"<status code='201'/>{ITEM}")))


def test_strict_true_makes_a_jabber_client_element_strict():
    expected = stanza("<message scansion:strict='true'><body>Hello</body></message>")
    assert matches(expected, stanza("<message><body>Hello</body></message>"))
    assert not matches(expected, stanza("<message id='1'><body>Hello</body></message>"))
    assert not matches(expected, stanza("<message><body>Hello</body><thread>t</thread></message>"))


def test_any_value_accepts_every_value_but_not_absence():
    expected = stanza("<message><delay xmlns='urn:xmpp:delay' stamp='{scansion:any}'/></message>")
    stamped = "<message><delay xmlns='urn:xmpp:delay' stamp='2019-08-31T13:45:32Z'/></message>"
    assert matches(expected, stanza(stamped))
    assert "attribute stamp='{scansion:any}' missing" in mismatch(
        expected, stanza("<message><delay xmlns='urn:xmpp:delay'/></message>")
    )


def test_an_invalid_strict_value_is_a_script_error():
    expected = stanza("<message scansion:strict='yes'/>")
    with pytest.raises(ValueError, match="scansion:strict"):
        mismatch(expected, stanza("<message/>"))


def test_indentation_of_the_script_is_not_text():
    expected = stanza(
        """
        <iq type='result'>
            <query xmlns='jabber:iq:register'>
                <x xmlns='jabber:x:data' type='form'/>
            </query>
        </iq>
        """
    )
    received = stanza(
        "<iq type='result'><query xmlns='jabber:iq:register'>"
        "<x xmlns='jabber:x:data' type='form'/></query></iq>"
    )
    assert mismatch(expected, received) is None
