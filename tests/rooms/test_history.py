import pytest

from mucsvc.rooms import History, HistoryEntry


def filled(n=10, limit=20, chars=100):
    """Entries m0..m{n-1} stamped 0, 10, 20, ... seconds."""
    h = History(limit)
    for i in range(n):
        h.append(HistoryEntry(stamp=i * 10.0, nick="n", payload=f"m{i}", chars=chars))
    return h


def payloads(entries):
    return [e.payload for e in entries]


def test_keeps_at_most_limit_entries_dropping_oldest():
    h = filled(25, limit=20)
    assert len(h) == 20
    assert payloads(h)[0] == "m5" and payloads(h)[-1] == "m24"


def test_zero_limit_records_nothing():
    h = History(0)
    assert h.append(HistoryEntry(0.0, "n", "m", 1)) is False
    assert len(h) == 0


def test_shrinking_drops_the_oldest_and_growing_keeps_all():
    h = filled(10)
    h.set_limit(3)
    assert payloads(h) == ["m7", "m8", "m9"]
    h.set_limit(50)
    assert payloads(h) == ["m7", "m8", "m9"] and h.limit == 50


def test_select_without_limits_returns_everything_oldest_first():
    assert payloads(filled(5).select()) == ["m0", "m1", "m2", "m3", "m4"]


def test_maxstanzas_keeps_the_newest():
    assert payloads(filled(5).select(maxstanzas=2)) == ["m3", "m4"]
    assert payloads(filled(5).select(maxstanzas=99)) == payloads(filled(5))


@pytest.mark.parametrize("kwargs", [{"maxstanzas": 0}, {"maxchars": 0}, {"maxstanzas": -1}])
def test_zero_means_no_history(kwargs):
    assert filled(5).select(**kwargs) == []


def test_maxchars_counts_whole_entries():
    h = filled(5, chars=100)
    assert payloads(h.select(maxchars=250)) == ["m3", "m4"]
    assert payloads(h.select(maxchars=300)) == ["m2", "m3", "m4"]
    assert h.select(maxchars=99) == []


def test_seconds_is_relative_to_now():
    # stamps 0..40; now=45: the last 20 seconds are stamps >= 25
    assert payloads(filled(5).select(seconds=20, now=45.0)) == ["m3", "m4"]
    assert payloads(filled(5).select(seconds=5, now=40.0)) == ["m4"]


def test_seconds_needs_now():
    with pytest.raises(ValueError):
        filled(5).select(seconds=20)


def test_since_is_inclusive():
    assert payloads(filled(5).select(since=30.0)) == ["m3", "m4"]
    assert filled(5).select(since=41.0) == []


@pytest.mark.parametrize("kwargs, expected", [
    ({"maxstanzas": 3, "maxchars": 150}, ["m4"]),               # chars stricter
    ({"maxstanzas": 1, "maxchars": 1000}, ["m4"]),              # stanzas stricter
    ({"maxstanzas": 4, "since": 30.0}, ["m3", "m4"]),          # since stricter
    ({"seconds": 100, "now": 40.0, "since": 20.0}, ["m2", "m3", "m4"]),  # later cutoff wins
    ({"seconds": 10, "now": 40.0, "since": 0.0}, ["m3", "m4"]),
    ({"maxstanzas": 2, "maxchars": 1000, "seconds": 1000, "now": 40.0}, ["m3", "m4"]),
])
def test_most_restrictive_limit_wins(kwargs, expected):
    assert payloads(filled(5, chars=100).select(**kwargs)) == expected


def test_clear():
    h = filled(3)
    h.clear()
    assert h.select() == []
