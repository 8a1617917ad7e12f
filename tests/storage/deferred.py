"""Running the synchronous contract suites against stores that answer with
Deferreds (PostgreSQL): `Synchronous` wraps a store so each call waits for
its Deferred, which the store's `DatabaseLink` fires through `Inline` in
the test's own thread, as the reactor would (``callFromThread``), so what
is tested is the same thread hand-over the service uses."""

from __future__ import annotations

import queue

from twisted.internet import defer, task
from twisted.python.failure import Failure
from zope.interface import directlyProvides, providedBy


class Inline:
    """Stands in for the reactor's ``callFromThread``: calls from the
    database thread wait in a queue until the test thread runs them."""

    def __init__(self):
        self.calls = queue.Queue()
        self.clock = task.Clock()

    def deliver(self, f, *args):
        self.calls.put((f, args))

    def wait(self, result, timeout: float = 30.0):
        if not isinstance(result, defer.Deferred):
            return result
        box = []
        result.addBoth(box.append)
        while not box:
            f, args = self.calls.get(timeout=timeout)
            f(*args)
        value = box[0]
        if isinstance(value, Failure):
            value.raiseException()
        return value


class Synchronous:
    """``wrapped``'s methods, each waiting for its result; the same interfaces."""

    def __init__(self, wrapped, inline: Inline):
        self.wrapped = wrapped
        self._inline = inline
        directlyProvides(self, *providedBy(wrapped))

    def __getattr__(self, name):
        value = getattr(self.wrapped, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            return self._inline.wait(value(*args, **kwargs))
        call.__name__ = name
        return call


def started_link(url: str, inline: Inline):
    """A `DatabaseLink` to ``url`` (schema brought up to date), started on
    ``inline``: every call returns a Deferred from then on."""
    from mucsvc.storage.pg_rooms import open_link
    link = open_link(url)
    link.start(inline.clock, inline.deliver)
    return link
