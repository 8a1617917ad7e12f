"""``HatsService``: the ``hats`` service of the process, implementing
``IHatsService`` over the rooms of the ``muc`` service.

It is a named child of the root ``MultiService`` (``tap.py``), so any other
Twisted service in the process finds it with
``self.parent.getServiceNamed("hats")``.  Changes go through the
application (`MucApplication.set_affiliation_data`, ``define_hat``,
``destroy_hat``), by way of the `Wardrobe`; how hats look in
presence is the presence publisher's business (`mucsvc.protocol.hats_element`).
"""

from __future__ import annotations

from twisted.application import service
from twisted.internet import defer
from zope.interface import implementer

from mucsvc.hats.interface import IHatsService
from mucsvc.hats.wardrobe import Wardrobe


def _read(operation, *args):
    """``operation(*args)`` as a Deferred: its result, or its exception as
    the failure."""
    return defer.maybeDeferred(operation, *args)


def _changed(operation, *args):
    """A change as a Deferred firing with None once it is stored (at once
    with a store that answers at once)."""
    return defer.maybeDeferred(operation, *args).addCallback(lambda _: None)


@implementer(IHatsService)
class HatsService(service.Service):
    """Hats of the users of ``muc`` (a ``MUCService``); ``elsewhere``: see
    `Wardrobe`."""

    def __init__(self, muc, elsewhere=None):
        self.wardrobe = Wardrobe(muc.app, elsewhere)

    def add_user_hat(self, user_jid, room_jid, hat_id, attachment=None):
        return _changed(self.wardrobe.add, user_jid, room_jid, hat_id, attachment)

    def remove_user_hat(self, user_jid, room_jid, hat_id):
        return _changed(self.wardrobe.remove, user_jid, room_jid, hat_id)

    def set_user_hats(self, user_jid, room_jid, hats):
        return _changed(self.wardrobe.set, user_jid, room_jid, hats)

    def get_user_hats(self, user_jid, room_jid):
        return _read(self.wardrobe.hats, user_jid, room_jid)

    def get_room_hats(self, room_jid):
        return _read(self.wardrobe.definitions, room_jid)

    def define_room_hat(self, room_jid, hat_id, title, hue=None):
        return _changed(self.wardrobe.define, room_jid, hat_id, title, hue)

    def destroy_room_hat(self, room_jid, hat_id):
        return _changed(self.wardrobe.destroy, room_jid, hat_id)
