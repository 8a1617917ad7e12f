"""The stanzas each workload writes, in batches, with the answers each batch must bring.

Users are ``uI@load.localhost/r`` with nick ``nI``; room ``K`` of a workload
is ``{prefix}K@{room domain}``.  A batch is ``(bytes, expected answers)``
where the answers are of the kind the :class:`~bench.xmpp.Pump` counts.
"""

from __future__ import annotations

from dataclasses import dataclass

USER_DOMAIN = "load.localhost"
MUC_NS = "http://jabber.org/protocol/muc"
OWNER_NS = "http://jabber.org/protocol/muc#owner"
BATCH_STANZAS = 32


@dataclass(frozen=True)
class Rooms:
    """``rooms`` rooms of ``occupants`` users each, at ``domain``."""

    prefix: str
    domain: str
    rooms: int
    occupants: int

    def room(self, k: int) -> str:
        return f"{self.prefix}{k}@{self.domain}"

    def user(self, k: int, j: int) -> int:
        return k * self.occupants + j

    @property
    def total(self) -> int:
        return self.rooms * self.occupants


def user_jid(i: int) -> str:
    return f"u{i}@{USER_DOMAIN}/r"


def _batched(stanzas):
    """Group ``(text, answers)`` pairs into writes of BATCH_STANZAS stanzas."""
    texts, answers = [], 0
    for text, expected in stanzas:
        texts.append(text)
        answers += expected
        if len(texts) >= BATCH_STANZAS:
            yield "".join(texts).encode("utf-8"), answers
            texts, answers = [], 0
    if texts:
        yield "".join(texts).encode("utf-8"), answers


def join_presence(rooms: Rooms, k: int, j: int) -> str:
    i = rooms.user(k, j)
    return (f"<presence from='{user_jid(i)}' to='{rooms.room(k)}/n{i}'>"
            f"<x xmlns='{MUC_NS}'/></presence>")


def instant_room(rooms: Rooms, k: int) -> str:
    """The creator accepts the default configuration (rooms are locked until then)."""
    i = rooms.user(k, 0)
    return (f"<iq from='{user_jid(i)}' to='{rooms.room(k)}' type='set' id='cfg{k}'>"
            f"<query xmlns='{OWNER_NS}'><x xmlns='jabber:x:data' type='submit'/></query></iq>")


def joins(rooms: Rooms, configure: bool = True, room_presence: int = 0):
    """Every occupant joins, round-robin over the rooms (the first joiner of
    every room, then the second, …). The k-th joiner of a room receives k
    presences and the k-1 already there one each: 2k-1 presences, and
    ``room_presence`` more from the room's bare JID (ejabberd's MUC sends
    each joiner one)."""
    def stanzas():
        for j in range(rooms.occupants):
            for k in range(rooms.rooms):
                text = join_presence(rooms, k, j)
                if j == 0 and configure:
                    text += instant_room(rooms, k)
                yield text, (2 * j + 1 + room_presence if configure else 1)
    return _batched(stanzas())


def joins_expected(rooms: Rooms, configure: bool = True, room_presence: int = 0) -> dict:
    """Presences for a real MUC: R x N^2 (plus ``room_presence`` per join);
    the echo answers each join once. A real MUC also sends each joiner the
    room subject (one message) and answers each room's configuration IQ."""
    if not configure:
        return {"presence": rooms.total}
    return {"presence": rooms.rooms * rooms.occupants ** 2 + room_presence * rooms.total,
            "message": rooms.total,
            "iq": rooms.rooms}


def groupchat(rooms: Rooms, k: int, j: int, n: int) -> str:
    i = rooms.user(k, j)
    return (f"<message from='{user_jid(i)}' to='{rooms.room(k)}' type='groupchat' id='m{i}-{n}'>"
            f"<body>Message {n} from user {i}: the quick brown fox jumps over the lazy dog."
            f"</body></message>")


def fanout(rooms: Rooms, messages: int):
    """Every occupant sends ``messages`` groupchat messages; each reaches all
    ``occupants`` of its room (the sender included)."""
    def stanzas():
        for n in range(messages):
            for k in range(rooms.rooms):
                for j in range(rooms.occupants):
                    yield groupchat(rooms, k, j, n), rooms.occupants
    return _batched(stanzas())


def fanout_expected(rooms: Rooms, messages: int) -> dict:
    return {"message": rooms.rooms * rooms.occupants * messages * rooms.occupants}


def room_messages(rooms: Rooms, per_room: int):
    """``per_room`` groupchat messages to each room, sent by its occupants in
    turn: the scaling workload, where only the room size varies."""
    def stanzas():
        for n in range(per_room):
            for k in range(rooms.rooms):
                yield groupchat(rooms, k, n % rooms.occupants, n), rooms.occupants
    return _batched(stanzas())


def room_messages_expected(rooms: Rooms, per_room: int) -> dict:
    return {"message": rooms.rooms * per_room * rooms.occupants}
