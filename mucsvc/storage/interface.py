"""The room store as the rest of the service sees it, in the domain's terms.

Only persistent rooms are stored.  The protocol layer keeps the store in
step with the domain: it calls the store after each change to a
persistent room and acknowledges the client only once the call returned,
because every call is committed (durably, see `mucsvc.storage.sqlite`)
before it returns.  At start-up `load_rooms` gives back everything needed
to rebuild each stored room.

Which call goes with which change:

- a room becomes persistent (created so, or configured so): `replace_room`
  with its whole state, so a crash never leaves a stored room without its
  owners;
- a persistent room is reconfigured: `save_room`;
- it is destroyed or made temporary: `delete_room`;
- an affiliation changes: `set_affiliation` (``Affiliation.NONE`` removes);
- the subject changes: `save_subject`;
- the room's avatar changes: `save_avatar` (None removes it);
- a message is recorded in its history: `append_history` with the room's
  history limit; the history is emptied: `clear_history`; a message of the
  history is retracted (moderation, XEP-0425, or by its author, XEP-0424):
  `retract_history` with its tombstone.
- a persistent room is destroyed and leaves a tombstone
  (`mucsvc.rooms.tombstones`): `delete_room` and `save_tombstone` in one
  `apply`; the tombstone expires or a service admin recreates the room:
  `delete_tombstone`.  At start-up `load_tombstones` gives them back.

An operation that changes several things at once (a configuration form
with owner lists, a batch of affiliation changes, a room made persistent)
hands them to `apply` as `Write` records, committed in one transaction:
all or none.  The single-write methods are shorthands for `apply` of one.
`apply` may return a Deferred: the PostgreSQL store does once started
(`mucsvc.storage.pg_rooms`), for every method; the SQLite and memory
stores return plain values, so their hot path costs no Deferred.

Calls naming a room that is not stored raise `RoomNotStored` (except
`delete_room`, for which "already gone" is success).  Values go in and come
out as copies: mutating a returned object, or one handed in, never changes
what is stored.
"""

from dataclasses import dataclass, field

from zope.interface import Attribute, Interface

from mucsvc.rooms.avatar import Avatar
from mucsvc.rooms.config import RoomConfig
from mucsvc.rooms.outcomes import Subject


#: The methods of `IRoomStore` that a `Write` may name.
WRITE_METHODS = frozenset({"save_room", "replace_room", "delete_room", "set_affiliation",
                           "save_subject", "append_history", "clear_history",
                           "save_tombstone", "delete_tombstone", "retract_history",
                           "save_avatar"})


@dataclass(frozen=True, slots=True)
class Write:
    """One change for `IRoomStore.apply`: the store method and its arguments."""

    method: str
    args: tuple

    def __post_init__(self):
        if self.method not in WRITE_METHODS:
            raise ValueError(f"not a store write: {self.method!r}")


@dataclass(slots=True)
class StoredRoom:
    """Everything stored about one persistent room.

    ``affiliations``: bare JID (or a domain, for a server-wide ban) ->
    ``(Affiliation, data)``, where ``data`` is the free-form JSON-able dict
    kept with the affiliation (``reason``, a reserved nick, hats...).
    ``history``: `HistoryEntry` objects, oldest first, each ``payload`` the
    serialized stanza text.  ``avatar``: the room's `Avatar`, or None.
    """

    jid: str
    config: RoomConfig
    affiliations: dict = field(default_factory=dict)
    subject: Subject = field(default_factory=Subject)
    history: list = field(default_factory=list)
    avatar: Avatar | None = None

    @property
    def affiliation_levels(self) -> dict:
        """Bare JID -> `Affiliation`: ``Room(affiliations=...)``."""
        return {jid: aff for jid, (aff, _data) in self.affiliations.items()}

    @property
    def affiliation_data(self) -> dict:
        """Bare JID -> data dict, for entries with data:
        ``Room(affiliation_data=...)``."""
        return {jid: dict(data) for jid, (_aff, data) in self.affiliations.items() if data}


class IRoomStore(Interface):
    """Durable state of the persistent rooms of one MUC service."""

    def load_rooms():
        """Every stored room as a `StoredRoom`, sorted by room JID."""

    def save_room(room_jid, config):
        """Store ``config`` (a persistent `RoomConfig`) for ``room_jid``,
        creating the room if it is not stored; its other state is kept.
        `RoomNotPersistent` if ``config.persistent`` is False."""

    def replace_room(stored):
        """Store the `StoredRoom` ``stored`` whole, replacing anything stored
        for that room, in one transaction.  `RoomNotPersistent` as for
        `save_room`."""

    def delete_room(room_jid):
        """Forget the room and all its state; True if it was stored."""

    def set_affiliation(room_jid, user, affiliation, data=None):
        """Give ``user`` (bare JID or domain) ``affiliation`` with ``data``
        (a JSON-able dict, None for none), replacing what it had;
        ``Affiliation.NONE`` removes the user's entry and data.  Data that
        would not come back equal from JSON (tuples, non-text keys, NaN) is
        refused with `TypeError`/`ValueError`."""

    def save_subject(room_jid, subject):
        """Store the room's `Subject`."""

    def save_avatar(room_jid, avatar):
        """Store the room's `Avatar` (its media type and image bytes; the
        hash is the image's), replacing any; None removes it."""

    def append_history(room_jid, entry, limit):
        """Record ``entry`` (a `HistoryEntry` whose payload is text) as the
        newest, then keep only the ``limit`` newest entries (0 keeps none)."""

    def clear_history(room_jid):
        """Forget the room's history."""

    def load_tombstones():
        """Every stored `Tombstone`, sorted by room JID."""

    def save_tombstone(tombstone):
        """Store the `Tombstone` (replacing any for the same room).  It is
        independent of the rooms: a room and a tombstone of the same JID
        may both be stored, and deleting either keeps the other."""

    def delete_tombstone(room_jid):
        """Forget the room's tombstone; True if one was stored."""

    def retract_history(room_jid, seq, payload, chars):
        """Replace the payload and size of the history entry whose message
        number is ``seq`` with ``payload`` (text, a tombstone) and
        ``chars``; True if the history held such an entry, False if not
        (it may have been pushed out meanwhile: nothing to replace)."""

    def apply(writes):
        """Make every `Write` in ``writes`` in one transaction, in order: all
        of them, or none when any is refused or fails.  Returns the list of
        their results (or a Deferred firing with it)."""

    def close():
        """Release the store; any later call raises `StoreClosed`."""

    closed = Attribute("True once `close` was called.")
