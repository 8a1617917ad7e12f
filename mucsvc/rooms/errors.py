"""Domain errors: one class per reason a request is refused.

The classes say why, in the domain's words; which stanza error or HTTP
status each becomes is the edges' business (``mucsvc.protocol.errors``,
``mucsvc.web.responses``).  ``text`` is an optional human explanation that
may be sent along.
"""


class MucError(Exception):
    """Base class: a request the room or service refuses."""

    def __init__(self, text: str | None = None):
        super().__init__(text or type(self).__name__)
        self.text = text


class NickConflict(MucError):
    """The nick is in use by another user (XEP-0045 §7.2.9)."""


class NickInvalid(MucError):
    """The nick fails strict resourceprep, is empty or too long."""


class InvisibleNick(MucError):
    """The nick is only white space (Prosody: "Invisible Nicknames are forbidden")."""


class RoomNameInvalid(MucError):
    """The room's localpart fails nodeprep."""


class RoomLocked(MucError):
    """The room awaits its owner's configuration; to others it does not exist yet."""


class JoinWithoutMucX(MucError):
    """Available presence from a non-occupant without the MUC ``<x/>``.

    Prosody treats it as a desynchronised client rather than a join and
    answers item-not-found ("You must join the room before sending presence
    updates"); the same answer is given to a room creation without ``<x/>``.
    """


class RoomGone(MucError):
    """The room was destroyed and its tombstone stands (see
    `mucsvc.rooms.tombstones`): ``text`` is the reason given, and
    ``alternate_venue`` the room JID to go to instead, if any."""

    def __init__(self, text: str | None = None, alternate_venue: str | None = None):
        super().__init__(text)
        self.alternate_venue = alternate_venue


class NoSuchRoom(MucError):
    """No room by that JID on this service."""


class NotOccupant(MucError):
    """The sender is not in the room (a message or IQ from outside)."""


class Forbidden(MucError):
    """Banned, or not allowed to speak, change the subject, configure…"""


class NotAllowed(MucError):
    """The actor's affiliation or role does not permit the change."""


class RoomCreationRestricted(MucError):
    """The service does not let this user create rooms."""


class RegistrationRequired(MucError):
    """Members-only room and the user is not a member."""


class PasswordRequired(MucError):
    """Missing or wrong room password."""


class TooManyRooms(MucError):
    """The service holds as many rooms as it is configured to."""


class TooManyRoomsOfUser(TooManyRooms):
    """The user has created as many rooms as one user may (``max_rooms_per_user``)."""


class Overactive(MucError):
    """A sender went over its rate of messages and presence (with burst)."""


class TooLarge(MucError):
    """A message body or stanza over the service's size limits."""


class RoomFull(MucError):
    """The room reached its maximum number of occupants (XEP-0045 §7.2.11)."""


class NoSuchOccupant(MucError):
    """No occupant with that nick."""


class NoSuchMessage(MucError):
    """No message of the room has that stanza id (in its archive or history)."""


class NoSuchHat(MucError):
    """The room neither defines nor gives anyone a hat of that URI."""


class PrivateMessagesRestricted(MucError):
    """The room's allow-private-messages policy refuses this sender.

    Prosody (restrict_pm) answers policy-violation, which is more precise
    than XEP-0045's generic forbidden; we follow Prosody.
    """


class BadRequest(MucError):
    """A request that makes no sense (a role or affiliation that does not exist)."""


class NotAcceptable(MucError):
    """A value the room cannot take (unknown role, bad configuration value)."""


class Conflict(MucError):
    """The change would leave the room in an impossible state (no owner left)."""
