"""The ``storage`` service: owns the room store for the life of the process."""

from twisted.application import service


class StorageService(service.Service):
    """Closes the store when the process stops, after the services using it."""

    def __init__(self, store):
        self.store = store

    def stopService(self):
        result = super().stopService()
        if not self.store.closed:
            self.store.close()
        return result
