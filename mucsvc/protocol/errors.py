"""The one table from refusals to stanza errors.

The domain and the application refuse with error classes that say why
(`mucsvc.rooms.errors`, `mucsvc.app.errors`) and carry no XMPP words; this
table says which stanza error each becomes, as Prosody answers it.  The
protocol layer's own refusals (`Refusal`) name their condition themselves.
"""

from __future__ import annotations

from mucsvc.app.errors import StoreFailed, StoreUnavailable
from mucsvc.protocol.refusal import Refusal
from mucsvc.rooms import errors as e

#: Error class -> (condition, type).  A subclass not listed takes its
#: nearest listed base's entry.
STANZA_ERRORS = {
    e.MucError: ("undefined-condition", "cancel"),
    e.NickConflict: ("conflict", "cancel"),
    e.NickInvalid: ("jid-malformed", "modify"),
    e.InvisibleNick: ("not-allowed", "modify"),
    e.RoomNameInvalid: ("jid-malformed", "modify"),
    e.RoomLocked: ("item-not-found", "cancel"),
    e.JoinWithoutMucX: ("item-not-found", "cancel"),
    e.NoSuchRoom: ("item-not-found", "cancel"),
    e.RoomGone: ("gone", "cancel"),
    e.NotOccupant: ("not-acceptable", "cancel"),
    e.Forbidden: ("forbidden", "auth"),
    e.NotAllowed: ("not-allowed", "cancel"),
    e.RoomCreationRestricted: ("not-allowed", "cancel"),
    e.RegistrationRequired: ("registration-required", "auth"),
    e.PasswordRequired: ("not-authorized", "auth"),
    e.TooManyRooms: ("resource-constraint", "wait"),
    e.TooManyRoomsOfUser: ("policy-violation", "cancel"),
    e.Overactive: ("policy-violation", "wait"),
    e.TooLarge: ("policy-violation", "modify"),
    e.RoomFull: ("service-unavailable", "wait"),
    e.NoSuchOccupant: ("item-not-found", "cancel"),
    e.NoSuchMessage: ("item-not-found", "modify"),  # mod_muc_moderation
    e.NoSuchHat: ("item-not-found", "cancel"),
    e.PrivateMessagesRestricted: ("policy-violation", "cancel"),
    e.BadRequest: ("bad-request", "modify"),
    e.NotAcceptable: ("not-acceptable", "modify"),
    e.Conflict: ("conflict", "cancel"),
    StoreFailed: ("internal-server-error", "wait"),
    StoreUnavailable: ("resource-constraint", "wait"),
}

#: Errors about a room's existence come from the service, as in Prosody.
SERVICE_ERRORS = (e.NoSuchRoom, e.RoomLocked, e.RoomNameInvalid, e.RoomCreationRestricted,
                  e.RoomGone)


def stanza_error(error) -> tuple:
    """``(condition, type, text)`` for a `MucError` or a `Refusal`."""
    if isinstance(error, Refusal):
        return error.condition, error.error_type, error.text
    for cls in type(error).__mro__:
        found = STANZA_ERRORS.get(cls)
        if found is not None:
            return found + (error.text,)
    raise TypeError(f"not a refusal: {error!r}")


def condition_text(error) -> str | None:
    """Text inside the condition element itself, where RFC 6120 gives it
    one: ``<gone/>`` holds the URI to go to instead, an XEP-0045 join URI
    of the destroyed room's alternate venue (§10.9), as Prosody sends it."""
    if isinstance(error, e.RoomGone) and error.alternate_venue:
        return f"xmpp:{error.alternate_venue}?join"
    return None
