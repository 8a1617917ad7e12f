"""Rate limits: token buckets per sender (the caller picks the key: the
service uses the pair of occupant and room), so a flooding client is slowed
down and told so, while everyone else in every room goes on.

``rate`` events a second are earned back up to ``rate * burst`` in hand (at
least one), the way Prosody's mod_muc_limits reads ``muc_event_rate`` and
``muc_burst_factor``.  Time is a parameter; nothing here reads a clock.
"""

from __future__ import annotations


class EventThrottle:
    """``allow(sender, now)`` spends one token of ``sender``'s bucket."""

    __slots__ = ("rate", "capacity", "_buckets")

    def __init__(self, rate: float, burst: int):
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate * burst)
        self._buckets: dict = {}

    def allow(self, sender, now: float) -> bool:
        if self.rate <= 0:
            return True
        bucket = self._buckets.get(sender)
        if bucket is None:
            self._buckets[sender] = [self.capacity - 1.0, now]
            return True
        tokens = min(self.capacity, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    def forget_idle(self, now: float) -> int:
        """Drop the buckets that have filled up again (they are as good as
        new), so the table does not grow with every sender ever seen."""
        full_after = self.capacity / self.rate if self.rate > 0 else 0.0
        idle = [s for s, (_, last) in self._buckets.items() if now - last >= full_after]
        for sender in idle:
            del self._buckets[sender]
        return len(idle)

    def __len__(self):
        return len(self._buckets)


class SenderBudgets:
    """Two budgets per sender: one for what people read, one for signals.

    Messages with a body or a subject, and presence (joins, nick and status
    changes), spend the *message* budget.  Body-less messages (chat states,
    receipts, markers, reactions) spend a *signal* budget of their own:
    clients send one before each line typed or pasted (poezio sends
    ``<composing/>`` before every line), so sharing one budget halved what a
    person could say before being refused.  Signals are still limited, so
    that a flood of them is refused like any other.
    """

    __slots__ = ("messages", "signals", "limited")

    def __init__(self, rate: float, burst: int, signal_rate: float, signal_burst: int):
        self.messages = EventThrottle(rate, burst)
        self.signals = EventThrottle(signal_rate, signal_burst)
        #: False when neither budget limits anything: nothing to look at.
        self.limited = self.messages.rate > 0 or self.signals.rate > 0

    def allow(self, sender, now: float, signal: bool = False) -> bool:
        return (self.signals if signal else self.messages).allow(sender, now)

    def forget_idle(self, now: float) -> int:
        return self.messages.forget_idle(now) + self.signals.forget_idle(now)

    def __len__(self):
        return len(self.messages) + len(self.signals)
