"""Domain errors: one class per reason a request is refused.

Each class names the XMPP stanza error it becomes (``condition`` and
``error_type``) so that the protocol layer keeps a single mapping table and
never has to know why the domain said no.  ``text`` is an optional human
explanation that may be sent along.
"""


class MucError(Exception):
    """Base class: a request the room or service refuses."""

    condition = "undefined-condition"
    error_type = "cancel"

    def __init__(self, text: str | None = None):
        super().__init__(text or self.condition)
        self.text = text


class NickConflict(MucError):
    """The nick is in use by another user (XEP-0045 §7.2.9)."""

    condition, error_type = "conflict", "cancel"


class NickInvalid(MucError):
    """The nick fails strict resourceprep, is empty or too long."""

    condition, error_type = "jid-malformed", "modify"


class InvisibleNick(MucError):
    """The nick is only white space (Prosody: "Invisible Nicknames are forbidden")."""

    condition, error_type = "not-allowed", "modify"


class RoomNameInvalid(MucError):
    """The room's localpart fails nodeprep."""

    condition, error_type = "jid-malformed", "modify"


class RoomLocked(MucError):
    """The room awaits its owner's configuration; to others it does not exist yet."""

    condition, error_type = "item-not-found", "cancel"


class JoinWithoutMucX(MucError):
    """Available presence from a non-occupant without the MUC ``<x/>``.

    Prosody treats it as a desynchronised client rather than a join and
    answers item-not-found ("You must join the room before sending presence
    updates"); the same answer is given to a room creation without ``<x/>``.
    """

    condition, error_type = "item-not-found", "cancel"


class NoSuchRoom(MucError):
    """No room by that JID on this service."""

    condition, error_type = "item-not-found", "cancel"


class NotOccupant(MucError):
    """The sender is not in the room (a message or IQ from outside)."""

    condition, error_type = "not-acceptable", "cancel"


class Forbidden(MucError):
    """Banned, or not allowed to speak, change the subject, configure…"""

    condition, error_type = "forbidden", "auth"


class NotAllowed(MucError):
    """The actor's affiliation or role does not permit the change."""

    condition, error_type = "not-allowed", "cancel"


class RoomCreationRestricted(MucError):
    """The service does not let this user create rooms."""

    condition, error_type = "not-allowed", "cancel"


class RegistrationRequired(MucError):
    """Members-only room and the user is not a member."""

    condition, error_type = "registration-required", "auth"


class PasswordRequired(MucError):
    """Missing or wrong room password."""

    condition, error_type = "not-authorized", "auth"


class TooManyRooms(MucError):
    """The service holds as many rooms as it is configured to."""

    condition, error_type = "resource-constraint", "wait"


class Overactive(MucError):
    """A sender went over its rate of messages and presence (with burst)."""

    condition, error_type = "policy-violation", "wait"


class TooLarge(MucError):
    """A message body or stanza over the service's size limits."""

    condition, error_type = "policy-violation", "modify"


class RoomFull(MucError):
    """The room reached its maximum number of occupants (XEP-0045 §7.2.11)."""

    condition, error_type = "service-unavailable", "wait"


class NoSuchOccupant(MucError):
    """No occupant with that nick."""

    condition, error_type = "item-not-found", "cancel"


class PrivateMessagesRestricted(MucError):
    """The room's allow-private-messages policy refuses this sender.

    Prosody (restrict_pm) answers policy-violation, which is more precise
    than XEP-0045's generic forbidden; we follow Prosody.
    """

    condition, error_type = "policy-violation", "cancel"


class BadRequest(MucError):
    condition, error_type = "bad-request", "modify"


class NotAcceptable(MucError):
    """A value the room cannot take (unknown role, bad configuration value)."""

    condition, error_type = "not-acceptable", "modify"


class Conflict(MucError):
    """The change would leave the room in an impossible state (no owner left)."""

    condition, error_type = "conflict", "cancel"
