"""The ``storage`` service: owns the room store for the life of the process."""

from twisted.application import service


class StorageService(service.Service):
    """Closes the store (and the archive) when the process stops, after the
    services using them."""

    def __init__(self, store, archive=None):
        self.store = store
        self.archive = archive

    def stopService(self):
        result = super().stopService()
        if not self.store.closed:
            self.store.close()
        if self.archive is not None:
            self.archive.close()
        return result
