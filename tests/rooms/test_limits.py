from mucsvc.rooms.limits import EventThrottle


def test_burst_then_rate():
    throttle = EventThrottle(rate=0.5, burst=6)  # 3 in hand, one more every 2 s
    assert [throttle.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert not throttle.allow("a", 1.0)
    assert throttle.allow("a", 2.5)
    assert not throttle.allow("a", 2.6)


def test_senders_have_their_own_buckets():
    throttle = EventThrottle(rate=1, burst=1)
    assert throttle.allow("a", 0.0) and not throttle.allow("a", 0.0)
    assert throttle.allow("b", 0.0)


def test_zero_rate_disables():
    throttle = EventThrottle(rate=0, burst=5)
    assert all(throttle.allow("a", 0.0) for _ in range(1000))
    assert len(throttle) == 0


def test_idle_buckets_are_forgotten():
    throttle = EventThrottle(rate=1, burst=10)
    throttle.allow("a", 0.0)
    throttle.allow("b", 5.0)
    assert throttle.forget_idle(10.0) == 1 and len(throttle) == 1
    assert throttle.forget_idle(15.0) == 1 and len(throttle) == 0


def test_signals_and_messages_spend_separate_budgets():
    from mucsvc.rooms.limits import SenderBudgets

    budgets = SenderBudgets(rate=1, burst=2, signal_rate=1, signal_burst=3)
    assert [budgets.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    # The messages' budget is spent; the signals' is whole.
    assert [budgets.allow("a", 0.0, signal=True) for _ in range(4)] == [True, True, True, False]
    assert len(budgets) == 2
    assert budgets.forget_idle(3.0) == 2 and len(budgets) == 0
