"""A standby process refuses the room APIs with 409.

With ``component_slots``, a process without a slot token (a standby) holds
no room in memory: an HTTP kick, moderation, hats or room-admin request
sent there would answer "no such room" for a room that exists, served by
another process.  It is refused instead, saying why; ``/health``,
``/metrics`` and ``/openapi.json`` answer as always.  (A holder cannot tell
cheaply which of the rooms it read belong to its slot: call the process
that serves the room, see the README.)
"""

from __future__ import annotations

from twisted.web import resource

from mucsvc.web.responses import json_error

ROOM_APIS = (b"/muc_admin", b"/muc_kick", b"/muc_moderate", b"/muc_hats")
REFUSAL = ("this process is a standby: it holds no component slot and serves no room; "
           "send the request to the process serving the room")


class StandbyRefusal(resource.Resource):
    """``inner`` (the Klein application's resource), with the room APIs
    answered 409 while ``slots`` (the `SlotService`) is a standby."""

    isLeaf = True

    def __init__(self, inner, slots):
        super().__init__()
        self.inner = inner
        self.slots = slots

    def render(self, request):
        if not self.slots.serving and request.path.startswith(ROOM_APIS):
            return json_error(request, 409, REFUSAL)
        return self.inner.render(request)
