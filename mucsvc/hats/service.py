"""``HatsService``: the ``hats`` service of the process, implementing
``IHatsService`` over the rooms of the ``muc`` service.

It is a named child of the root ``MultiService`` (``tap.py``), so any other
Twisted service in the process finds it with
``self.parent.getServiceNamed("hats")``.  Changes go through the
application (`MucApplication.set_affiliation_data`); how hats look in
presence is the presence publisher's business (`mucsvc.protocol.hats_element`).
"""

from __future__ import annotations

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from mucsvc.hats.interface import IHatsService
from mucsvc.hats.wardrobe import Wardrobe


def _fired(operation, *args):
    """``operation(*args)`` as a Deferred: fired with its result, or its
    exception as the failure, or chained to the Deferred it returned (a
    store that answers later)."""
    return defer.maybeDeferred(operation, *args)


@implementer(IHatsService)
class HatsService(service.Service):
    """Hats of the users of ``muc`` (a ``MUCService``)."""

    def __init__(self, muc):
        self.wardrobe = Wardrobe(muc.app)

    def add_user_hat(self, user_jid, room_jid, hat_id, attachment=None):
        return _fired(self.wardrobe.add, user_jid, room_jid, hat_id, attachment)

    def remove_user_hat(self, user_jid, room_jid, hat_id):
        return _fired(self.wardrobe.remove, user_jid, room_jid, hat_id)

    def set_user_hats(self, user_jid, room_jid, hats):
        return _fired(self.wardrobe.set, user_jid, room_jid, hats)

    def get_user_hats(self, user_jid, room_jid):
        return _fired(self.wardrobe.hats, user_jid, room_jid)
