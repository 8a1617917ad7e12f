"""Outgoing stanzas: addressed per recipient, extended, stored and rebuilt."""

from mucsvc.protocol.fanout import Fanout, Outgoing


def test_addressing_escapes_the_recipient():
    message = Outgoing("message", (("from", 'r@m/n"&'), ("type", "groupchat")), "<body>hi</body>")
    assert message.to("a@b/c<") == ('<message to="a@b/c&lt;" from="r@m/n&quot;&amp;" '
                                    'type="groupchat"><body>hi</body></message>')


def test_extended_adds_last_children_to_empty_and_full_stanzas():
    assert Outgoing("presence", (("from", "x"),)).extended("<a/>").to("y") == \
        '<presence to="y" from="x"><a/></presence>'
    assert Outgoing("message", (), "<body>b</body>").extended("<d/>").to("y") == \
        '<message to="y"><body>b</body><d/></message>'


def test_text_round_trips():
    message = Outgoing("message", (("id", "1"),), "<body>to=\"x\"</body>")
    again = Outgoing.from_text(message.text)
    assert (again.kind, again.to("z")) == ("message", message.to("z"))


def test_a_broadcast_is_one_write_with_every_copy():
    writes = []
    fanout = Fanout(None, lambda kind, count, text: writes.append((kind, count, text)))
    fanout.to_jids(Outgoing("iq", (("type", "get"),)), ["a@b", "c@d"])
    assert writes == [("iq", 2, '<iq to="a@b" type="get"/><iq to="c@d" type="get"/>')]
    fanout.to_jids(Outgoing("iq"), [])
    assert len(writes) == 1
