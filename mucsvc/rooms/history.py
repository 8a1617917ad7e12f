"""The bounded discussion history a room replays to new occupants.

Entries are kept oldest first in a ring (``collections.deque`` with a
maximum length), so recording a message is O(1) and shrinking the limit
drops the oldest ones.  `History.select` implements the ``<history/>``
request of XEP-0045 §7.2.15.
"""

from collections import deque


class HistoryEntry:
    """One recorded groupchat message.

    ``payload`` is the opaque message the protocol layer will replay;
    ``chars`` is its serialized size as measured by the caller (used for
    ``maxchars``); ``stamp`` is when the room received it (seconds);
    ``seq`` its message number (its stanza id, see
    `mucsvc.storage.archive`; None for entries older than ids) and
    ``author`` the sender's bare JID (None if unknown): what moderation
    and retraction look a message up by.  ``retracted``: the payload is a
    tombstone (kept in memory only: after a restart the archive says so).
    """

    __slots__ = ("stamp", "nick", "payload", "chars", "seq", "author", "retracted")

    def __init__(self, stamp: float, nick: str, payload, chars: int = 0,
                 seq: int | None = None, author: str | None = None):
        self.stamp = stamp
        self.nick = nick
        self.payload = payload
        self.chars = chars
        self.seq = seq
        self.author = author
        self.retracted = False

    def __repr__(self):
        return f"HistoryEntry(stamp={self.stamp!r}, nick={self.nick!r}, chars={self.chars!r})"


class History:
    """At most ``limit`` entries, oldest first."""

    __slots__ = ("_entries",)

    def __init__(self, limit: int):
        self._entries = deque(maxlen=max(0, limit))

    @property
    def limit(self) -> int:
        return self._entries.maxlen

    def set_limit(self, limit: int) -> None:
        """Change the capacity; shrinking forgets the oldest entries."""
        limit = max(0, limit)
        if limit != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=limit)

    def append(self, entry: HistoryEntry) -> bool:
        """Record ``entry``; False when the room keeps no history at all."""
        if not self._entries.maxlen:
            return False
        self._entries.append(entry)
        return True

    def retract(self, entry: HistoryEntry, evicted: HistoryEntry | None) -> None:
        """Undo the `append` of ``entry`` (the newest), which pushed out
        ``evicted`` (None if nothing was): its store write failed."""
        entries = self._entries
        if entries and entries[-1] is entry:
            entries.pop()
            if evicted is not None:
                entries.appendleft(evicted)

    def next_evicted(self) -> HistoryEntry | None:
        """The entry the next `append` will push out, if any."""
        entries = self._entries
        return entries[0] if entries and len(entries) == entries.maxlen else None

    def clear(self) -> None:
        self._entries.clear()

    def find(self, seq: int) -> HistoryEntry | None:
        """The entry of message ``seq`` (newest first: what is moderated is
        usually recent)."""
        for entry in reversed(self._entries):
            if entry.seq == seq:
                return entry
        return None

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def select(self, maxstanzas: int | None = None, maxchars: int | None = None,
               seconds: float | None = None, since: float | None = None,
               now: float | None = None) -> list:
        """The entries to replay, oldest first.

        Every limit given applies and the most restrictive wins: at most
        ``maxstanzas`` entries, whose ``chars`` add up to at most
        ``maxchars``, received no earlier than ``now - seconds`` and no
        earlier than ``since``.  The newest entries are the ones kept.
        ``maxstanzas=0`` or ``maxchars=0`` asks for no history.  ``now`` is
        required with ``seconds``.
        """
        entries = self._entries
        if maxstanzas is None and maxchars is None and seconds is None and since is None:
            return list(entries)
        if (maxstanzas is not None and maxstanzas <= 0) or (maxchars is not None and maxchars <= 0):
            return []
        cutoff = since
        if seconds is not None:
            if now is None:
                raise ValueError("select(seconds=...) needs now")
            window_start = now - seconds
            cutoff = window_start if cutoff is None else max(cutoff, window_start)
        taken = 0
        chars = 0
        for entry in reversed(entries):
            if maxstanzas is not None and taken >= maxstanzas:
                break
            if cutoff is not None and entry.stamp < cutoff:
                break
            if maxchars is not None:
                chars += entry.chars
                if chars > maxchars:
                    break
            taken += 1
        if taken == 0:
            return []
        start = len(entries) - taken
        return [entries[i] for i in range(start, len(entries))]
