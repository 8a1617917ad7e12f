"""Retracting a message of a room: by a moderator (XEP-0425) or by its
author (XEP-0424).

The rules are mod_muc_moderation's: a moderator is whoever has the
moderator role in the room, or would get it from their affiliation when
they are not in it (an owner or admin reading the archive from elsewhere);
their nick is the one they use, else the one they reserved.  A message's
author is the bare JID the room recorded with it (its occupant id is
derived from that JID), and only the author may retract it without being a
moderator.  The records here say who retracted what; the stanzas are the
edges'.
"""

from __future__ import annotations

from dataclasses import dataclass

from mucsvc.rooms import jids
from mucsvc.rooms.errors import Forbidden
from mucsvc.rooms.permissions import may_moderate_messages

NOT_A_MODERATOR = "You need a role of at least 'moderator'"  # mod_muc_moderation's words
NOT_THE_AUTHOR = "You can only retract your own messages"


@dataclass(frozen=True, slots=True)
class Moderator:
    """Who moderates.  ``jid`` None: the service itself (the HTTP API);
    ``nick`` None: no nick in the room (not in it, none reserved)."""

    jid: str | None = None
    nick: str | None = None
    occupant_id: str | None = None

    @property
    def is_service(self) -> bool:
        return self.jid is None


SERVICE_MODERATOR = Moderator()


@dataclass(frozen=True, slots=True)
class Retraction:
    """Message ``seq`` of the room was retracted at ``stamp``.

    ``moderator``: who moderated it (None: its author retracted it);
    ``reason``: the moderator's, if given; ``notice_id``/``notice_seq``: the
    ``id`` and stanza id of the message that tells the room (the
    moderation announcement, or the author's own retraction message);
    ``author``/``author_occupant_id``: whose message it was (None when the
    room did not record it).
    """

    seq: int
    stamp: float
    notice_id: str
    notice_seq: int
    moderator: Moderator | None = None
    reason: str | None = None
    author: str | None = None
    author_occupant_id: str | None = None

    @property
    def moderated(self) -> bool:
        return self.moderator is not None


def moderator_of(room, actor_jid: str | None) -> Moderator:
    """The `Moderator` ``actor_jid`` (a full JID; None: the service) acts
    as in ``room``; `Forbidden` for anyone without the moderator role."""
    if actor_jid is None:
        return SERVICE_MODERATOR
    bare = jids.bare(actor_jid)
    occupant = room.occupant_by_jid(actor_jid)
    if occupant is not None:
        role, nick = occupant.role, occupant.nick
    else:
        role = room.default_role_for(room.affiliation_of(actor_jid))
        nick = room.registered_nick(actor_jid)
    if not may_moderate_messages(role):
        raise Forbidden(NOT_A_MODERATOR)
    return Moderator(bare, nick, room.occupant_id_for(bare))


def check_author(sender_bare_jid: str, author: str | None) -> None:
    """`Forbidden` unless ``author`` (the bare JID recorded with a message)
    is the sender's."""
    if not author or author != sender_bare_jid:
        raise Forbidden(NOT_THE_AUTHOR)
