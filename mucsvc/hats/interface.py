"""``IHatsService``: the hats API, as Prosody's mod_muc_hats_api offers it to
other modules, for other parts of this process.

Results are Deferreds so that callers are written the same way whatever the
implementation does; this service's are already fired when returned.
"""

from __future__ import annotations

from zope.interface import Interface


class IHatsService(Interface):
    """The hats of users affiliated with rooms of this service.

    JIDs may be ``str`` or ``twisted.words.protocols.jabber.jid.JID``; a
    user's full JID stands for its bare JID.  A hat id is an absolute URI;
    an attachment is a mapping with optional ``active`` (bool), ``required``
    (bool) and ``title`` (str); omitted booleans are false.

    Every method fails its Deferred with ``mucsvc.hats.HatsError``
    (or, when the change cannot be stored, ``mucsvc.app.errors.StoreFailed``):
    ``item-not-found`` "no such room" for a room not on this service,
    ``item-not-found`` "user not affiliated with room" unless the user is a
    member, admin or owner of it, ``bad-request`` for an invalid JID, hat id
    or attachment.  Nothing changes on error.  A change re-broadcasts the
    presence of the user's occupants in the room, showing the active hats.
    """

    def add_user_hat(user_jid, room_jid, hat_id, attachment=None):
        """Give the user the hat (replacing one with the same id);
        ``attachment`` defaults to ``{}``.  Fires with None."""

    def remove_user_hat(user_jid, room_jid, hat_id):
        """Take the hat off the user; a hat the user does not have is no
        error.  Fires with None."""

    def set_user_hats(user_jid, room_jid, hats):
        """Make ``hats`` (hat id -> attachment) exactly the user's hats.
        Fires with None."""

    def get_user_hats(user_jid, room_jid):
        """Fires with the user's hats: a new dict, hat id -> attachment
        (``active`` and ``required`` always present, ``title`` when set)."""

    def get_room_hats(room_jid):
        """Fires with the room's hats (XEP-0317 v0.3), a new list of
        ``{"uri", "title", "hue"}`` ordered by URI (``hue`` None when
        unset): the hats it defines, and those users wear that it does not
        define (with the title of the first wearer, by JID, that has one)."""

    def define_room_hat(room_jid, hat_id, title, hue=None):
        """Define the room's hat ``hat_id`` with a ``title`` (non-empty
        text) and a ``hue`` (degrees, 0 to under 360, or None), or give the
        hat a new title or hue; its wearers are shown again.  Fires with
        None."""

    def destroy_room_hat(room_jid, hat_id):
        """Forget the room's hat and take it off every user who has it;
        ``item-not-found`` "no such hat in the room" when the room neither
        defines it nor does anyone wear it.  Fires with None."""
