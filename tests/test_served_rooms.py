"""Which rooms a process serves behind ejabberd's slots: learnt from the
stanzas ejabberd gives it, and asked with a probe that ejabberd routes like
any stanza for the room (see `mucsvc.protocol.served_rooms`)."""

from __future__ import annotations

import pytest
from twisted.internet import task

from mucsvc.protocol.served_rooms import PROBE_PREFIX, NotConnected, ServedRooms
from tests.helpers import SERVICE, Wire, stanza, stanzas_in

ROOM = f"lounge@{SERVICE}"


class Net:
    """ServedRooms on a clock, its probes kept as sent."""

    def __init__(self, connected=True):
        self.clock = task.Clock()
        self.sent = []
        self.connected = connected
        self.served = ServedRooms(SERVICE, self.sent.append, self.clock, lambda: self.connected,
                                  timeout=2.0, nonce="ours")

    def probes(self):
        return stanzas_in(self.sent)

    def back(self, probe):
        """ejabberd routed ``probe`` to this process."""
        return self.served.is_probe(probe)


def results(d):
    seen = []
    d.addBoth(seen.append)
    return seen


def test_a_probe_that_comes_back_says_the_room_is_served_here_and_is_asked_once():
    net = Net()
    answer = results(net.served.probe(ROOM))
    (probe,) = net.probes()
    assert (probe.name, probe["type"], probe["from"], probe["to"]) == ("iq", "result", SERVICE, ROOM)
    assert probe["id"].startswith(PROBE_PREFIX + "ours-")
    assert answer == []
    assert net.back(probe) is True
    assert answer == [True] and net.served.served(ROOM) is True
    assert results(net.served.probe(ROOM)) == [True]
    assert len(net.probes()) == 1 and not net.clock.getDelayedCalls()


def test_a_probe_that_does_not_come_back_says_another_process_serves_the_room():
    net = Net()
    answer = results(net.served.probe(ROOM))
    net.clock.advance(1.9)
    assert answer == [] and net.served.served(ROOM) is None
    net.clock.advance(0.1)
    assert answer == [False] and net.served.served(ROOM) is False
    assert results(net.served.probe(ROOM)) == [False]
    assert len(net.probes()) == 1


def test_a_probe_back_late_still_counts():
    net = Net()
    results(net.served.probe(ROOM))
    (probe,) = net.probes()
    net.clock.advance(2)
    assert net.served.served(ROOM) is False
    assert net.back(probe) is True
    assert net.served.served(ROOM) is True


def test_questions_about_one_room_while_its_probe_is_out_share_its_answer():
    net = Net()
    first, second = results(net.served.probe(ROOM)), results(net.served.probe(ROOM))
    (probe,) = net.probes()
    net.back(probe)
    assert first == second == [True]


def test_without_the_component_link_nothing_can_be_asked():
    net = Net(connected=False)
    (failure,) = results(net.served.probe(ROOM))
    assert failure.check(NotConnected) and net.probes() == []
    net.served.mark(ROOM)  # a stanza for it arrived: no question
    assert results(net.served.probe(ROOM)) == [True]


def test_another_processs_probe_routed_here_says_the_room_is_served_here():
    net = Net()
    waiting = results(net.served.probe(ROOM))
    other = stanza(f"<iq type='result' from='{SERVICE}' to='{ROOM}' id='{PROBE_PREFIX}theirs-1'/>")
    assert net.back(other) is True
    assert net.served.served(ROOM) is True and waiting == [True]
    plain = stanza(f"<iq type='result' from='{SERVICE}' to='{ROOM}' id='disco-1'/>")
    assert net.back(plain) is False


def test_probing_every_room_asks_only_about_those_not_known():
    net = Net()
    net.served.mark(ROOM)
    net.served.probe_all([ROOM, f"garden@{SERVICE}", f"attic@{SERVICE}"])
    assert sorted(p["to"] for p in net.probes()) == [f"attic@{SERVICE}", f"garden@{SERVICE}"]
    net.connected = False
    net.served.probe_all([f"cellar@{SERVICE}"])  # refused quietly while down
    assert len(net.probes()) == 2


def test_each_room_found_served_is_told_as_soon_as_its_probe_is_back():
    net = Net()
    seen = []
    done = results(net.served.probe_all([ROOM, f"garden@{SERVICE}"], on_served=seen.append))
    probes = {p["to"]: p for p in net.probes()}
    net.back(probes[ROOM])
    assert seen == [ROOM] and done == []
    net.clock.advance(2)
    assert done == [[ROOM]] and seen == [ROOM]


class Rooms:
    def __init__(self):
        self.handled = []

    def handle(self, element, recipient):
        self.handled.append((element.name, recipient.userhost()))


def test_the_router_marks_every_room_a_stanza_reaches_and_keeps_probes_from_the_rooms():
    net = Net()
    rooms = Rooms()
    wire = Wire(rooms, served=net.served)
    wire.receive(f"<message from='a@example.org/x' to='Lounge@{SERVICE}' type='groupchat'>"
                 f"<body>hi</body></message>")
    assert net.served.served(ROOM) is True and rooms.handled == [("message", ROOM)]
    results(net.served.probe(f"garden@{SERVICE}"))
    (probe,) = net.probes()
    wire.receive(probe.toXml())
    assert net.served.served(f"garden@{SERVICE}") is True
    wire.receive(f"<iq type='result' from='{SERVICE}' to='attic@{SERVICE}' "
                 f"id='{PROBE_PREFIX}theirs-9'/>")
    assert rooms.handled == [("message", ROOM)] and wire.take() == []
    assert net.served.served(f"attic@{SERVICE}") is True


@pytest.mark.parametrize("frm", ["a@example.org/x", "example.org"])
def test_an_iq_result_from_anyone_else_is_not_taken_for_a_probe(frm):
    net = Net()
    rooms = Rooms()
    wire = Wire(rooms, served=net.served)
    wire.receive(f"<iq type='result' from='{frm}' to='{ROOM}' id='{PROBE_PREFIX}ours-1'/>")
    assert rooms.handled == [("iq", ROOM)]
