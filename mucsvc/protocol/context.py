"""What every room handler shares: the domain service, the clock, the senders."""

from __future__ import annotations

import datetime
import functools

from mucsvc.protocol.fanout import Fanout
from mucsvc.protocol.hats_element import HatsElements
from mucsvc.protocol.occupant_presence import PresencePublisher
from mucsvc.rooms.limits import SenderBudgets


class MucContext:
    """The ``app`` (the `MucApplication`: every change goes through it), its
    room registry ``service``, ``clock`` (an ``IReactorTime``), ``send``
    (raw XML text to the component link) and the broadcast helpers."""

    __slots__ = ("app", "service", "clock", "send", "fanout", "publisher", "domain", "throttle")

    def __init__(self, app, send, batch_send=None, hats=None):
        service = app.rooms
        clock = app.clock
        self.app = app
        self.service = service
        self.clock = clock
        self.send = send
        self.domain = service.domain
        self.fanout = Fanout(send, batch_send)
        limits = service.limits
        self.throttle = SenderBudgets(limits.event_rate, limits.burst_factor,
                                      limits.signal_rate, limits.signal_burst_factor)
        self.publisher = PresencePublisher(self.fanout, hats if hats is not None else HatsElements())

    def now(self) -> float:
        return self.clock.seconds()


def xmpp_datetime(stamp: float) -> str:
    """XEP-0082 date-time in UTC, as Prosody writes it (no fraction)."""
    return _whole_second(int(stamp))


def xmpp_datetime_us(seq: int) -> str:
    """XEP-0082 date-time in UTC with microseconds, of a message number
    (microseconds since the epoch), as ejabberd writes archive stamps.

    Archive results carry these rather than Prosody 0.12's whole seconds:
    a client that sorts what it fetched by time (Gajim 1.7 does, and pages
    its own cache with ``time <``) scrambles and even drops the messages of
    one busy second when all of them carry the same stamp."""
    second, micro = divmod(seq, 1_000_000)
    return f"{_whole_second(second)[:-1]}.{micro:06d}Z"


@functools.lru_cache(maxsize=4)
def _whole_second(second: int) -> str:
    # Every history message stamps the current second; format it once.
    return datetime.datetime.fromtimestamp(second, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def parse_xmpp_datetime(text: str) -> float | None:
    """XEP-0082 date-time to seconds since the epoch; None when malformed."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()
