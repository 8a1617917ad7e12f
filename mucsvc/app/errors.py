"""What an operation reports when its one store write failed."""

from mucsvc.rooms.errors import MucError


class StoreFailed(MucError):
    """The store refused or failed the operation's write; the room was put
    back as it was and nobody was told of a change."""
