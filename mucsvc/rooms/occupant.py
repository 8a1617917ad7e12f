"""An occupant: one nick in a room, held by one bare JID from one or more sessions.

A user may join the same nick from several clients (XEP-0045 §7.2 "multiple
sessions", as Prosody allows); each session keeps its own presence payload.
The occupant's *current* presence is that of the session that most recently
sent one: it is what the room shows of this occupant.
"""

import base64
import hashlib
import hmac

from mucsvc.rooms.roles import Role


def make_occupant_id(secret: bytes, room_jid: str, bare_jid: str) -> str:
    """XEP-0421 occupant id: stable for one user in one room, yet not
    derivable from the JID without the service's secret (unlike a plain
    hash, which anyone could compute from a guessed JID)."""
    message = room_jid.encode("utf-8") + b"\0" + bare_jid.encode("utf-8")
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class Occupant:
    """``sessions`` maps full JID -> opaque presence payload, in join order."""

    __slots__ = ("nick", "bare_jid", "role", "sessions", "occupant_id", "_current_jid")

    def __init__(self, nick: str, bare_jid: str, role: Role, occupant_id: str = ""):
        self.nick = nick
        self.bare_jid = bare_jid
        self.role = role
        self.occupant_id = occupant_id
        self.sessions: dict = {}
        self._current_jid: str | None = None

    def __repr__(self):
        return (f"Occupant(nick={self.nick!r}, bare_jid={self.bare_jid!r}, "
                f"role={self.role.value}, sessions={list(self.sessions)!r})")

    @property
    def presence(self):
        """The payload of the most recently updated session (None if none)."""
        jid = self._current_jid
        return None if jid is None else self.sessions[jid]

    @property
    def current_jid(self) -> str | None:
        """The full JID whose presence is `presence`."""
        return self._current_jid

    def set_session(self, full_jid: str, payload) -> None:
        """Add a session or update its presence; it becomes the current one."""
        self.sessions[full_jid] = payload
        self._current_jid = full_jid

    def remove_session(self, full_jid: str) -> None:
        """Forget a session; the current presence falls back to the most
        recently joined session still present."""
        del self.sessions[full_jid]
        if self._current_jid == full_jid:
            self._current_jid = next(reversed(self.sessions), None)
