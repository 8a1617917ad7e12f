"""The one JID parser: Twisted's stringprep where RFC 7622 and Twisted agree,
stricter where Twisted is lax, and one error for every malformed input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.words.protocols.jabber import jid as jabber_jid

from mucsvc.jid import InvalidJID, parse_jid

PIECES = st.sampled_from(["a", "B", "0", ".", "-", "_", "+", "@", "/", " ", "é", "&", "'", ":",
                          "example", "ORG", "\u00df", "\x01", "..", "\U0001F916", "x" * 70,
                          "@.", "./", "@/", ""])


def rfc_view(text):
    """Twisted's answer, after the checks RFC 7622 adds to it: no empty
    localpart, resource or domain label; one final dot of the domain dropped."""
    bare, slash, resource = text.partition("/")
    user, at, host = bare.partition("@")
    if not at:
        user, host = None, bare
    if at and not user or slash and not resource:
        return "InvalidJID"
    if host.endswith(".") and host != ".":
        host = host[:-1]
    if "" in host.split("."):
        return "InvalidJID"
    rebuilt = (f"{user}@" if at else "") + host + (f"/{resource}" if slash else "")
    try:
        parsed = jabber_jid.JID(rebuilt)
    except (jabber_jid.InvalidFormat, UnicodeError, IndexError, ValueError, RuntimeError):
        return "InvalidJID"
    return (parsed.user, parsed.host, parsed.resource)


def our_view(text):
    try:
        parsed = parse_jid(text)
    except InvalidJID:
        return "InvalidJID"
    return (parsed.user, parsed.host, parsed.resource)


@settings(max_examples=2000)
@given(st.lists(PIECES, min_size=1, max_size=8).map("".join))
def test_same_answer_as_twisted_with_rfc_checks(text):
    assert our_view(text) == rfc_view(text)


@settings(max_examples=500)
@given(st.text(max_size=40))
def test_any_text_parses_or_raises_invalid_jid(text):
    try:
        parse_jid(text)
    except InvalidJID:
        pass


@pytest.mark.parametrize("text", [
    "room@.example.org", "room@muc..localhost", "a@b..c", ".", "a@", "@muc.localhost",
    "a@b/", "/r", "", "a@b@c", "x" * 1024 + "@b",
])
def test_malformed(text):
    with pytest.raises(InvalidJID):
        parse_jid(text)


@pytest.mark.parametrize("value", [None, 3, b"a@b"])
def test_not_text(value):
    with pytest.raises(InvalidJID):
        parse_jid(value)


def test_final_dot_of_the_domain_is_dropped():
    assert parse_jid("Room@MUC.localhost./Nick").full() == "room@muc.localhost/Nick"


def test_full_and_bare_forms():
    address = parse_jid("Juliet@Example.COM/Balcony")
    assert (address.userhost(), address.full()) == ("juliet@example.com",
                                                    "juliet@example.com/Balcony")
    assert parse_jid("muc.example.org").full() == "muc.example.org"
