"""The service admins' ad-hoc commands, compatible with Prosody's nodes."""

from __future__ import annotations

from mucsvc.protocol.adhoc import Command, list_multi_form

DESTROY_NODE = "http://prosody.im/protocol/muc#destroy"


def destroy_rooms_command(muc, elsewhere=None) -> Command:
    """Prosody's "Destroy Rooms": pick rooms from a list, destroy them.
    ``elsewhere(room_jid)``: with several processes, whether another serves
    the room: such rooms are neither listed nor destroyed here."""

    def here(jid) -> bool:
        return elsewhere is None or not elsewhere(jid)

    def form(actor):
        return list_multi_form("Destroy rooms", "Select the rooms to destroy", DESTROY_NODE,
                               "rooms", "Rooms to destroy:",
                               sorted(room.jid for room in muc.rooms.rooms() if here(room.jid)))

    def run(actor, values):
        destroyed = [jid for jid in values.get("rooms", [])
                     if here(jid) and muc.app.destroy_by_service(jid)]
        return "The following rooms were destroyed:\n" + "\n".join(destroyed)

    return Command(DESTROY_NODE, "Destroy Rooms", form, run)
