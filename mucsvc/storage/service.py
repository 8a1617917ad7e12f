"""The ``storage`` service: owns the room store for the life of the process."""

from twisted.application import service
from twisted.internet import defer


class StorageService(service.Service):
    """Closes the store (and the archive) when the process stops, after the
    services using them.  ``link``: the `DatabaseLink` of a PostgreSQL
    store, started (calls return Deferreds from then on) when the service
    starts, after the rooms were loaded; None for SQLite and memory."""

    def __init__(self, store, archive=None, link=None, reactor=None, hold: bool = False):
        self.store = store
        self.archive = archive
        self.link = link
        self._reactor = reactor
        #: Leave the link in its waiting mode until `start_link` (a standby
        #: reads the rooms when it takes a component slot, not before).
        self.hold = hold

    def startService(self):
        super().startService()
        if not self.hold:
            self.start_link()

    def start_link(self) -> None:
        if self.link is not None and not self.link.started:
            reactor = self._reactor
            if reactor is None:
                from twisted.internet import reactor
            self.link.start(reactor, reactor.callFromThread)

    def database(self) -> dict | None:
        """The database link's state (``/health``, ``/metrics``), or None."""
        return None if self.link is None else self.link.as_dict()

    def stopService(self):
        super().stopService()
        closing = []
        if not self.store.closed:
            closing.append(self.store.close())
        if self.archive is not None:
            closing.append(self.archive.close())
        closing = [d for d in closing if isinstance(d, defer.Deferred)]
        if closing:
            return defer.gatherResults(closing).addCallback(lambda _: None)
        return None
