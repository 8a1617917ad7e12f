"""Reading scripts: header, statements, XML blocks, variables. No network."""

from __future__ import annotations

import re

import pytest

from tests.scansion.catalog import load, script_names
from tests.scansion.parser import (
    BARE_JID,
    FULL_JID,
    Action,
    ScriptSyntaxError,
    parse_script,
    substitute_variables,
)
from tests.scansion.runner import rewrite_muc_domain
from tests.scansion.stanzas import StanzaSyntaxError, parse_stanzas, to_xml

EXAMPLE = """\
# A title
# and a description

[Client] Romeo
\tjid: romeo@localhost/balcony
\tpassword: password

[Client] Juliet's phone
\tjid: juliet@localhost
\tpassword: s3cret

-----

# a comment between statements
Romeo connects

Juliet's phone connects

Romeo sends:
\t<message to="juliet@localhost" type="chat">
\t\t<body>Hi ${Juliet's phone's JID}</body>
\t</message>

\t<presence to="room@conference.localhost/Romeo"/>

Juliet's phone receives:
\t<message from="${Romeo's full JID}"/>
\t<presence/>

Romeo receives: nothing

Romeo disconnects
"""


def test_header_gives_title_and_clients():
    script = parse_script(EXAMPLE, source="example.scs")
    assert script.name == "example.scs"
    assert script.title == "A title"
    assert list(script.clients) == ["Romeo", "Juliet's phone"]
    romeo = script.clients["Romeo"]
    assert (romeo.username, romeo.domain, romeo.resource) == ("romeo", "localhost", "balcony")
    assert romeo.bare_jid == "romeo@localhost"
    phone = script.clients["Juliet's phone"]
    assert phone.resource is None
    assert phone.password == "s3cret"


def test_body_statements_in_order_with_their_lines():
    script = parse_script(EXAMPLE)
    assert [(step.line, step.client, step.action) for step in script.steps] == [
        (15, "Romeo", Action.CONNECT),
        (17, "Juliet's phone", Action.CONNECT),
        (19, "Romeo", Action.SEND),
        (26, "Juliet's phone", Action.RECEIVE),
        (30, "Romeo", Action.RECEIVE_NOTHING),
        (32, "Romeo", Action.DISCONNECT),
    ]


def test_a_block_holds_several_stanzas_in_order():
    send = parse_script(EXAMPLE).steps[2]
    stanzas = parse_stanzas(substitute_variables(send.xml, lambda name, kind: "x@y"))
    assert [to_xml(stanza) for stanza in stanzas] == [
        '<message to="juliet@localhost" type="chat"><body>Hi x@y</body></message>',
        '<presence to="room@conference.localhost/Romeo"/>',
    ]


def test_variables_name_the_client_and_the_kind_of_jid():
    receive = parse_script(EXAMPLE).steps[3]
    asked = []

    def resolve(name, kind):
        asked.append((name, kind))
        return "romeo@localhost/balcony"

    assert 'from="romeo@localhost/balcony"' in substitute_variables(receive.xml, resolve)
    assert asked == [("Romeo", FULL_JID)]
    send = parse_script(EXAMPLE).steps[2]
    substitute_variables(send.xml, resolve)
    assert asked[-1] == ("Juliet's phone", BARE_JID)


def test_substituted_values_are_escaped():
    xml = substitute_variables('<item jid="${A\'s JID}"/>', lambda name, kind: 'a"&<b')
    (item,) = parse_stanzas(xml)
    assert item.get("jid") == 'a"&<b'


def test_scansion_attributes_parse_without_a_declared_prefix():
    (presence,) = parse_stanzas(
        "<presence><x xmlns='http://jabber.org/protocol/muc#user' scansion:strict='false'/></presence>"
    )
    assert presence.tag == "{jabber:client}presence"
    assert "scansion:strict" in to_xml(presence)


def test_malformed_xml_is_reported_with_the_block():
    with pytest.raises(StanzaSyntaxError, match="<presence>"):
        parse_stanzas("<presence>")


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("Mercutio connects\n", "names no [Client]"),
        ("Romeo dances\n", "unknown action"),
        ("Romeo sends:\n\nRomeo disconnects\n", "has no XML"),
        ("Romeo sends:\n\t<message>${Tybalt's JID}</message>\n", "names no [Client]"),
        ("Romeo sends:\n\t<message>${Romeo's nick}</message>\n", "unknown ${...} variable"),
        ("\t<presence/>\n", "indented line outside"),
    ],
)
def test_syntax_errors_name_the_line(body, complaint):
    header = "[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: p\n-----\n"
    with pytest.raises(ScriptSyntaxError, match=f"bad.scs:5: .*{re.escape(complaint)}"):
        parse_script(header + body, source="bad.scs")


def test_a_client_without_password_is_rejected():
    with pytest.raises(ScriptSyntaxError, match="lacks password"):
        parse_script("[Client] Romeo\n\tjid: romeo@localhost\n-----\nRomeo connects\n")


def test_a_header_without_dashes_is_rejected():
    with pytest.raises(ScriptSyntaxError, match="no line of dashes"):
        parse_script("[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: p\n")
    with pytest.raises(ScriptSyntaxError, match=":4: unexpected line in the header"):
        parse_script("[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: p\nRomeo connects\n")


def test_all_seventeen_shipped_scripts_parse():
    names = script_names()
    assert len(names) == 17
    for name in names:
        script = load(name)
        assert script.steps, name
        for step in script.steps:
            if step.action in (Action.SEND, Action.RECEIVE):
                parse_stanzas(substitute_variables(step.xml, lambda who, kind: "u@localhost/r"))


def test_a_shipped_script_with_a_possessive_client_name():
    script = load("issue978-multi")
    assert set(script.clients) == {"Romeo", "Juliet", "Juliet's phone"}
    phone_steps = [step for step in script.steps if step.client == "Juliet's phone"]
    assert [step.action for step in phone_steps][:2] == [Action.CONNECT, Action.SEND]


def test_the_muc_domain_is_rewritten_in_jids_and_text():
    xml = (
        '<message from="room@conference.localhost/Romeo" to="conference.localhost">'
        "<body>room@conference.localhost invites you</body></message>"
    )
    rewritten = rewrite_muc_domain(xml, "muc.localhost")
    assert "conference.localhost" not in rewritten
    assert rewritten.count("muc.localhost") == 3
    assert rewrite_muc_domain(xml, "conference.localhost") == xml
    assert rewrite_muc_domain("x@myconference.localhost", "muc.localhost") == "x@myconference.localhost"
