"""The state of the component's link to the host server, and since when.

The component updates it; ``/health`` and metrics read it.  It holds no
reference to a socket so anything may depend on it.
"""

from __future__ import annotations

import datetime
from typing import Callable

UP = "up"
DOWN = "down"


class LinkState:
    """Up or down, the time of the last change, and how often it came back up."""

    def __init__(self, clock):
        self._clock = clock
        self.state = DOWN
        self.since = clock.seconds()
        self.connects = 0
        #: Why the last attempt to bring the link up failed (None once it is up).
        self.last_error: str | None = None
        self._observers: list[Callable[[str], None]] = []

    @property
    def is_up(self) -> bool:
        return self.state == UP

    @property
    def reconnects(self) -> int:
        """Links established after the first one."""
        return max(0, self.connects - 1)

    def went_up(self) -> None:
        self.connects += 1
        self.last_error = None
        self._change(UP)

    def failed(self, reason: str) -> None:
        """An attempt to bring the link up failed, for ``reason``."""
        self.last_error = reason

    def went_down(self) -> None:
        self._change(DOWN)

    def observe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(state)`` on every change."""
        self._observers.append(callback)

    def as_dict(self) -> dict:
        since = datetime.datetime.fromtimestamp(self.since, datetime.timezone.utc)
        return {
            "state": self.state,
            "since": since.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "reconnects": self.reconnects,
            **({"last_error": self.last_error} if self.last_error is not None else {}),
        }

    def _change(self, state: str) -> None:
        if state == self.state and state == DOWN:
            return
        self.state = state
        self.since = self._clock.seconds()
        for callback in list(self._observers):
            callback(state)
