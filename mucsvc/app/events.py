"""What happened in a room, told to listeners after it was stored.

Each event is emitted once the operation's store write succeeded (or the
room is not stored), in the order the changes happened.  Events carry the
domain's outcome records unchanged; listeners render them (the XMPP
broadcaster) or count them (metrics).  Adding a feature that reacts to room
activity, such as an archive, means adding a listener, not touching the
handlers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class HistoryRequest:
    """What a joiner asked of the history (XEP-0045 §7.2.15); all None: defaults."""

    maxstanzas: int | None = None
    maxchars: int | None = None
    seconds: int | None = None
    since: float | None = None


@dataclass(slots=True)
class OccupantJoined:
    """A session entered (``outcome``: `Joined`), or resent its presence
    with a join (``outcome``: `PresenceUpdated` with ``resync``)."""

    room: object
    outcome: object
    session: str
    history: HistoryRequest | None


@dataclass(slots=True)
class PresenceChanged:
    room: object
    outcome: object  # PresenceUpdated


@dataclass(slots=True)
class NickChanged:
    room: object
    outcome: object  # rooms.NickChanged
    payload: str


@dataclass(slots=True)
class OccupantLeft:
    """A session left (``status`` None) or was dropped for an error stanza
    (``status``: the status text shown)."""

    room: object
    outcome: object  # Left
    prev_role: object
    status: str | None = None


@dataclass(slots=True)
class MessageBroadcast:
    """A groupchat message, rendered once by the edge (``message``), sent to
    every occupant; ``entry`` is its history record (None if not kept);
    ``record`` its `ArchivedMessage` (None when the room does not archive
    it)."""

    room: object
    message: object
    entry: object
    record: object = None


@dataclass(slots=True)
class MessageRetracted:
    """A message of the room was retracted (``retraction``: a `Retraction`):
    by a moderator, and ``notice`` is the room's announcement; or by its
    author, and ``notice`` is the author's retraction message, reflected
    as usual.  Like a `MessageBroadcast`, ``notice`` goes to every
    occupant, ``entry`` is its history record and ``record`` its
    `ArchivedMessage` (None when not kept)."""

    room: object
    retraction: object
    notice: object
    entry: object = None
    record: object = None


@dataclass(slots=True)
class RoomAnnouncement:
    """A message from the room itself (not from an occupant), on the
    service's authority: ``body`` to every occupant; not kept in history."""

    room: object
    body: str


@dataclass(slots=True)
class DirectInvitations:
    """Invitations to ``room`` sent by the service itself (XEP-0249) to
    ``users`` (bare JIDs), with an optional ``reason`` and ``password``."""

    room: object
    users: tuple
    reason: object = None
    password: object = None


@dataclass(slots=True)
class SubjectChanged:
    room: object
    outcome: object


@dataclass(slots=True)
class ConfigChanged:
    room: object
    outcome: object


@dataclass(slots=True)
class AvatarChanged:
    """The room's avatar changed (``outcome``: the domain's
    `AvatarChanged`): everyone in the room hears the new hash."""

    room: object
    outcome: object


@dataclass(slots=True)
class RoleChanged:
    room: object
    outcome: object


@dataclass(slots=True)
class AffiliationChanged:
    room: object
    outcome: object


@dataclass(slots=True)
class OccupantsRefreshed:
    """The occupants' presence changed without a role or affiliation change
    (new hats): shown again, without status codes."""

    room: object
    occupants: tuple


@dataclass(slots=True)
class RoomDestroyed:
    """The room is gone (``outcome``: `Destroyed`, whose occupants are told)."""

    outcome: object


@dataclass(slots=True)
class ServiceShutdown:
    """The service is stopping: ``evacuated`` is ``[(room, occupants)]``."""

    evacuated: tuple


@dataclass(slots=True)
class FormerOccupantsDismissed:
    """The sessions a process that died had in rooms now served here are
    told the room has gone away for them (status 332, as at a shutdown):
    ``dismissed`` is ``[(room, occupants)]``, occupants no longer in it."""

    dismissed: tuple


class Listeners:
    """The listeners of one application, called in the order added.

    A listener is a callable taking one event.  One that raises is logged
    and the others still run: a broken metrics counter must not keep a
    message from being delivered.
    """

    __slots__ = ("_listeners", "_log")

    def __init__(self, log):
        self._listeners: list = []
        self._log = log

    def add(self, listener) -> None:
        self._listeners.append(listener)

    def emit(self, event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                self._log.failure("listener {listener!r} failed on {event}",
                                  listener=listener, event=type(event).__name__)
