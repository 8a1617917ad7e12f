"""Hats (XEP-0317): labels such as "Teacher" that the service attaches to
affiliated users of a room and shows in their occupants' presence.

``IHatsService`` is the API other parts of the process use (the ad-hoc
commands, the HTTP API, any other Twisted service, which finds it with
``parent.getServiceNamed("hats")``); ``mucsvc.hats.service.HatsService``
implements it.  The data model of users' hats is that of Prosody's
mod_muc_hats_api; each room also has the hats it defines (XEP-0317 v0.3,
`mucsvc.rooms.hats`), with the room's own commands
(`mucsvc.hats.room_commands`).  Every front end goes through the one
`mucsvc.hats.wardrobe.Wardrobe`.
"""

from mucsvc.hats.errors import HatsError
from mucsvc.hats.interface import IHatsService

__all__ = ["HatsError", "IHatsService"]
