"""The slot lease's clock: claiming, renewing, fencing and releasing, with
a `task.Clock` and tokens whose database answers when the test says."""

from __future__ import annotations

import pytest
from twisted.internet import defer, task

from mucsvc.slot_lease import FENCED, HOLDING, STANDBY, STANDBY_ATTEMPT, STOPPED, SlotLease
from mucsvc.storage.pg_slots import HELD, LOST, RECONNECT

RENEWAL, LEASE = 2.0, 6.0


class Tokens:
    """Records every call; each returns a Deferred the test fires."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.pending: list[defer.Deferred] = []

    def _call(self, *what):
        self.calls.append(what)
        d = defer.Deferred()
        self.pending.append(d)
        return d

    def claim(self, holder):
        return self._call("claim", holder)

    def renew(self, slot, holder):
        return self._call("renew", slot, holder)

    def release(self, slot, holder):
        return self._call("release", slot, holder)

    def ask_reconnect(self, slot, holder):
        return self._call("ask_reconnect", slot, holder)

    def answer(self, result):
        self.pending.pop(0).callback(result)

    def fail(self, why="the database is unreachable"):
        self.pending.pop(0).errback(RuntimeError(why))

    def kinds(self):
        return [call[0] for call in self.calls]


@pytest.fixture
def setup():
    clock = task.Clock()
    tokens = Tokens()
    seen = {"acquired": [], "fenced": [], "reconnect": []}
    lease = SlotLease(tokens, clock, "host/1/ab", renewal=RENEWAL, lease=LEASE,
                      on_acquired=seen["acquired"].append, on_fenced=seen["fenced"].append,
                      on_reconnect=lambda: seen["reconnect"].append(1))
    return clock, tokens, lease, seen


def hold(clock, tokens, lease, slot=2):
    lease.start()
    clock.advance(0)
    tokens.answer(slot)
    assert lease.state == HOLDING


def test_it_claims_at_start_and_says_which_token(setup):
    clock, tokens, lease, seen = setup
    lease.start()
    assert tokens.calls == []  # not before the reactor runs
    clock.advance(0)
    assert tokens.calls == [("claim", "host/1/ab")]
    tokens.answer(3)
    assert lease.state == HOLDING and lease.slot == 3
    assert seen["acquired"] == [3]
    assert lease.as_dict() == {"state": "holding", "holder": "host/1/ab", "token": 3}


def test_with_every_token_held_it_stays_standby_and_tries_every_half_second(setup):
    clock, tokens, lease, seen = setup
    lease.start()
    clock.advance(0)
    tokens.answer(None)
    assert lease.state == STANDBY and seen["acquired"] == []
    assert lease.attempt == STANDBY_ATTEMPT == 0.5 < RENEWAL
    clock.advance(STANDBY_ATTEMPT - 0.01)
    assert tokens.kinds() == ["claim"]
    clock.advance(0.01)
    assert tokens.kinds() == ["claim", "claim"]
    tokens.answer(None)
    clock.advance(STANDBY_ATTEMPT)
    tokens.answer(1)  # a holder went away
    assert lease.state == HOLDING and seen["acquired"] == [1]
    clock.advance(RENEWAL)
    assert tokens.calls[-1] == ("renew", 1, "host/1/ab")


def test_a_standby_whose_database_fails_says_why_and_keeps_trying(setup):
    clock, tokens, lease, seen = setup
    lease.start()
    clock.advance(0)
    tokens.fail("connection refused")
    assert lease.state == STANDBY and lease.last_error == "connection refused"
    clock.advance(RENEWAL)
    tokens.answer(None)  # back, and every token held
    assert lease.state == STANDBY and lease.last_error is None
    clock.advance(RENEWAL)
    tokens.answer(2)
    assert lease.state == HOLDING and lease.last_error is None


def test_renewals_every_interval_keep_the_token(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    for _ in range(20):
        clock.advance(RENEWAL)
        assert tokens.calls[-1] == ("renew", 2, "host/1/ab")
        tokens.answer(HELD)
    assert lease.state == HOLDING and seen["fenced"] == []


def test_a_holder_that_cannot_renew_fences_itself_one_renewal_before_the_lease_ends(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)  # claimed at t=0: the database's lease ends at 6 at the earliest
    clock.advance(RENEWAL)
    tokens.fail()
    assert lease.state == HOLDING
    clock.advance(LEASE - 2 * RENEWAL - 0.01)
    assert seen["fenced"] == []
    clock.advance(0.01)  # t = lease - renewal = 4
    assert lease.state == FENCED and len(seen["fenced"]) == 1
    calls = len(tokens.calls)
    clock.advance(60)
    assert len(tokens.calls) == calls, "a fenced process must not claim again"


def test_a_renewal_that_never_answers_does_not_delay_fencing(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    clock.advance(RENEWAL)  # a renewal goes out and hangs (a database gone silent)
    clock.advance(RENEWAL)
    assert tokens.kinds() == ["claim", "renew"], "a second call must not pile up"
    clock.advance(LEASE - 2 * RENEWAL)
    assert lease.state == FENCED
    tokens.answer(HELD)  # far too late: no coming back
    assert lease.state == FENCED


def test_fencing_counts_from_the_start_of_the_last_renewal_that_succeeded(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    clock.advance(RENEWAL)  # t=2: renewal starts
    clock.advance(1.5)      # it answers at t=3.5: the lease counts from 2
    tokens.answer(HELD)
    clock.advance(0.5)      # t=4: the next renewal starts, and fails at once
    tokens.fail()
    clock.advance(1.99)     # just before t = 2 + (lease - renewal) = 6
    assert lease.state == HOLDING
    clock.advance(0.01)
    assert lease.state == FENCED


def test_fencing_goes_by_the_monotonic_clock_not_the_reactor(setup):
    clock, tokens, _, seen = setup
    elapsed = [0.0]
    lease = SlotLease(tokens, clock, "h", renewal=RENEWAL, lease=LEASE,
                      on_acquired=lambda slot: None, on_fenced=seen["fenced"].append,
                      monotonic=lambda: elapsed[0])
    hold(clock, tokens, lease)
    clock.advance(LEASE)  # the reactor's clock jumped; no time passed
    while tokens.pending:
        tokens.fail()
    assert lease.state == HOLDING
    elapsed[0] = LEASE - RENEWAL
    clock.advance(RENEWAL)
    assert lease.state == FENCED


def test_the_database_saying_not_yours_fences_at_once(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    clock.advance(RENEWAL)
    tokens.answer(LOST)
    assert lease.state == FENCED and "no longer ours" in seen["fenced"][0]


def test_a_clean_stop_releases_the_token_held(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease, slot=3)
    done = lease.stop()
    assert tokens.calls[-1] == ("release", 3, "host/1/ab")
    tokens.answer(None)
    assert done.called and lease.state == STOPPED
    clock.advance(60)
    assert tokens.kinds() == ["claim", "release"]


def test_a_standby_stopping_releases_nothing_and_a_late_claim_is_given_back(setup):
    clock, tokens, lease, seen = setup
    lease.start()
    clock.advance(0)
    done = lease.stop()
    assert done.called and tokens.kinds() == ["claim"]
    tokens.answer(1)  # the claim was on its way
    assert seen["acquired"] == [] and tokens.calls[-1] == ("release", 1, "host/1/ab")


def test_a_lease_must_outlast_two_renewals():
    with pytest.raises(ValueError):
        SlotLease(Tokens(), task.Clock(), "h", renewal=3, lease=6,
                  on_acquired=None, on_fenced=None)


def test_fenced_in_time_it_asks_no_one_to_reconnect(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    clock.advance(RENEWAL)
    tokens.fail()
    clock.advance(LEASE - 2 * RENEWAL)
    assert lease.state == FENCED and "ask_reconnect" not in tokens.kinds()


def test_a_holder_fenced_later_than_the_lease_asks_its_successor_to_reconnect(setup):
    clock, tokens, _, seen = setup
    elapsed = [0.0]
    lease = SlotLease(tokens, clock, "paused", renewal=RENEWAL, lease=LEASE,
                      on_acquired=lambda slot: None, on_fenced=seen["fenced"].append,
                      monotonic=lambda: elapsed[0])
    hold(clock, tokens, lease, slot=2)
    elapsed[0] = LEASE + 5  # SIGSTOP, then SIGCONT: nothing ran meanwhile
    clock.advance(RENEWAL)
    assert lease.state == FENCED
    assert tokens.calls[-1] == ("ask_reconnect", 2, "paused")


def test_asked_to_reconnect_the_holder_says_so_and_keeps_its_lease_meanwhile(setup):
    clock, tokens, lease, seen = setup
    hold(clock, tokens, lease)
    clock.advance(RENEWAL)
    tokens.answer(RECONNECT)
    assert seen["reconnect"] == [1] and lease.state == HOLDING


def test_rooms_that_take_most_of_the_lease_to_read_are_served_only_after_a_renewal():
    clock, tokens, elapsed = task.Clock(), Tokens(), [0.0]
    seen = []

    def read_for_a_long_time(slot):
        elapsed[0] += LEASE - 1  # 100,000 rooms, say: the reactor was blocked
    lease = SlotLease(tokens, clock, "h", renewal=RENEWAL, lease=LEASE,
                      on_acquired=read_for_a_long_time, on_fenced=seen.append,
                      on_ready=lambda: seen.append("ready"), monotonic=lambda: elapsed[0])
    lease.start()
    clock.advance(0)
    tokens.answer(1)
    assert seen == [] and tokens.kinds() == ["claim", "renew"]
    clock.advance(0)  # the fence timer, overdue, must not fence a process not serving yet
    assert lease.state == HOLDING and seen == []
    tokens.answer(HELD)
    assert seen == ["ready"] and lease.ready


def test_a_quick_read_is_served_at_once(setup):
    clock, tokens, _, _ = setup
    seen = []
    lease = SlotLease(tokens, clock, "h", renewal=RENEWAL, lease=LEASE,
                      on_acquired=lambda slot: None, on_fenced=seen.append,
                      on_ready=lambda: seen.append("ready"))
    hold(clock, tokens, lease)
    assert seen == ["ready"] and tokens.kinds() == ["claim"]


def test_a_long_read_whose_lease_ran_out_meanwhile_gives_up():
    clock, tokens, elapsed = task.Clock(), Tokens(), [0.0]
    seen = []

    def read(slot):
        elapsed[0] += LEASE + 1
    lease = SlotLease(tokens, clock, "h", renewal=RENEWAL, lease=LEASE, on_acquired=read,
                      on_fenced=seen.append, on_ready=lambda: seen.append("ready"),
                      monotonic=lambda: elapsed[0])
    lease.start()
    clock.advance(0)
    tokens.answer(1)
    tokens.answer(LOST)  # another process took it meanwhile
    assert lease.state == FENCED and "ready" not in seen


def test_once_ready_after_a_long_read_the_usual_window_applies_again():
    clock, tokens, elapsed = task.Clock(), Tokens(), [0.0]
    seen = []

    def read(slot):
        elapsed[0] += LEASE - 1
    lease = SlotLease(tokens, clock, "h", renewal=RENEWAL, lease=LEASE, on_acquired=read,
                      on_fenced=seen.append, monotonic=lambda: elapsed[0])
    lease.start()
    clock.advance(0)
    tokens.answer(1)
    tokens.answer(HELD)  # renewed at t=5: serving
    elapsed[0] += LEASE - RENEWAL - 0.01
    clock.advance(LEASE - RENEWAL - 0.01)
    assert lease.state == HOLDING
    elapsed[0] += 0.01
    clock.advance(0.01)
    assert lease.state == FENCED
