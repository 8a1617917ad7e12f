from twisted.internet.task import Clock

from mucsvc.link import LinkState


def test_starts_down_and_tracks_changes():
    clock = Clock()
    clock.advance(100)
    link = LinkState(clock)
    seen = []
    link.observe(seen.append)
    assert not link.is_up and link.since == 100

    clock.advance(5)
    link.went_up()
    assert link.is_up and link.since == 105 and link.reconnects == 0

    clock.advance(5)
    link.went_down()
    link.went_down()  # a second "down" changes nothing
    assert link.since == 110

    clock.advance(1)
    link.went_up()
    assert link.reconnects == 1
    assert seen == ["up", "down", "up"]


def test_as_dict_is_json_ready():
    clock = Clock()
    clock.advance(0)
    link = LinkState(clock)
    assert link.as_dict() == {"state": "down", "since": "1970-01-01T00:00:00Z", "reconnects": 0}
