"""The fast JID parser agrees with Twisted's stringprep parser."""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.words.protocols.jabber import jid as jabber_jid

from mucsvc.protocol.jids import InvalidJID, parse_jid

PIECES = st.sampled_from(["a", "B", "0", ".", "-", "_", "+", "@", "/", " ", "é", "&", "'", ":",
                          "example", "ORG", "\u00df", "\x01", "..", "\U0001F916", "x" * 70])


def twisted_view(text):
    try:
        parsed = jabber_jid.JID(text)
    except InvalidJID as e:
        return type(e).__name__
    return (parsed.user, parsed.host, parsed.resource)


def our_view(text):
    try:
        parsed = parse_jid(text)
    except InvalidJID as e:
        return type(e).__name__
    return (parsed.user, parsed.host, parsed.resource)


@settings(max_examples=2000)
@given(st.lists(PIECES, min_size=1, max_size=8).map("".join))
def test_same_answer_as_twisted(text):
    assert our_view(text) == twisted_view(text)


def test_full_and_bare_forms():
    address = parse_jid("Juliet@Example.COM/Balcony")
    assert (address.userhost(), address.full()) == ("juliet@example.com",
                                                    "juliet@example.com/Balcony")
    assert parse_jid("muc.example.org").full() == "muc.example.org"
