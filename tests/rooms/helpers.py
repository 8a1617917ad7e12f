"""Small builders shared by the room tests."""

from mucsvc.rooms import Room, RoomConfig

ROOM = "room@muc.example"
OWNER = "owner@example.org/desk"
ALICE = "alice@example.org/phone"
ALICE2 = "alice@example.org/laptop"
BOB = "bob@example.net/home"
CAROL = "carol@example.com/x"


def new_room(*, lock=False, admins=frozenset(), history_cap=None, **config) -> Room:
    """A room created by OWNER (nick "Owner") and, unless ``lock``, unlocked."""
    room = Room(ROOM, RoomConfig(), service_admins=admins, secret=b"k",
                history_cap=history_cap, lock_on_create=True)
    room.presence_available(OWNER, "Owner", 0.0, payload="owner-presence")
    if config or not lock:
        room.configure(OWNER, 0.0, **config)
    if lock:
        room.locked = True
        room.locked_at = 0.0
    return room


def join(room, full_jid, nick, now=1.0, **kwargs):
    return room.presence_available(full_jid, nick, now, payload=f"{nick}-presence", **kwargs)
