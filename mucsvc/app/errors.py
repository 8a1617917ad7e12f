"""What an operation reports when its one store write failed."""

from mucsvc.rooms.errors import MucError


class StoreFailed(MucError):
    """The store refused or failed the operation's write; the room was put
    back as it was and nobody was told of a change."""


class StoreUnavailable(StoreFailed):
    """The store's database cannot be reached just now (the service keeps
    serving what it holds and reconnects by itself): try again later."""


def store_refusal(error) -> StoreFailed:
    """The `StoreFailed` that a store's ``error`` becomes."""
    from mucsvc.storage.pg_link import DatabaseUnavailable
    if isinstance(error, DatabaseUnavailable):
        return StoreUnavailable("The database is unreachable; try again later")
    return StoreFailed("The change could not be stored")
