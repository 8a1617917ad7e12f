import pytest

from mucsvc.rooms import InvisibleNick, NickInvalid, RoomNameInvalid, prep_nick, prep_room_node


def test_plain_nick_is_kept():
    assert prep_nick("Romeo") == "Romeo"


def test_nick_is_not_case_folded_but_normalised():
    assert prep_nick("ROMEO") == "ROMEO"
    assert prep_nick("\u212b") == "\u00c5"  # angstrom sign -> A with ring (NFKC)


def test_variation_selector_is_mapped_away():
    assert prep_nick("a\ufe0f") == "a"


@pytest.mark.parametrize("nick", [
    "\U0001F916",          # robot face: unassigned in Unicode 3.2
    "\U0001F916\ufe0f",    # as sent by clients, with a variation selector
    "bad\u0000nick",       # control character
    "\u05d0a",             # bidi violation
    "",
    "x" * 1024,
    "\u00e9" * 512,        # 1024 octets in UTF-8
])
def test_invalid_nicks_are_rejected(nick):
    with pytest.raises(NickInvalid):
        prep_nick(nick)


def test_longest_nick_is_accepted():
    assert prep_nick("x" * 1023) == "x" * 1023


def test_white_space_nick_is_invisible():
    with pytest.raises(InvisibleNick):
        prep_nick("   ")


def test_room_node_is_nodeprepped():
    assert prep_room_node("Room") == "room"


@pytest.mark.parametrize("node", ["a@b", "a b", "", "a/b", "\U0001F916", "x" * 1024])
def test_invalid_room_nodes_are_rejected(node):
    with pytest.raises(RoomNameInvalid):
        prep_room_node(node)
