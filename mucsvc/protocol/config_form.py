"""The ``muc#roomconfig`` data form (XEP-0045 §10.2, XEP-0004).

`build_config_form` offers an owner the room's configuration, and
`parse_config_submission` turns the form the owner sends back into
`RoomConfig` changes.  Prosody 0.12 is the reference, field for field: the
same ``var``s, types, labels, section headings and order, so that clients
tuned against Prosody show the same dialog.  Options our rooms have but
Prosody 0.12 does not offer (private-message policy, occupant limit, who
may list members, the owner and admin lists) follow Prosody's fields under
their XEP-0045 names (later Prosody's name for "always allow private
messages to moderators", which XEP-0045 lacks).

Where Prosody silently ignores a value it cannot read (a boolean that is
neither ``0``/``1`` nor ``false``/``true``, a history length that is not an
integer, an unknown ``whois``) we refuse the whole submission with
`NotAcceptable` naming the field: a half-applied configuration that the
owner believes was saved is worse than an error.  What Prosody does with a
field that is present but has no value we do too: text fields are cleared,
booleans become false, the history length returns to its default.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from twisted.words.xish import domish
from wokkel import data_form

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol.forms import form_all_values
from mucsvc.protocol.refusal import Refusal
from mucsvc.rooms import (
    ALLOW_PM_VALUES, WHOIS_VALUES, Affiliation, NotAcceptable, Role, RoomConfig,
)

NS_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
NS_XDATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"

ROOMNAME = "muc#roomconfig_roomname"
ROOMDESC = "muc#roomconfig_roomdesc"
LANG = "muc#roomconfig_lang"
PERSISTENT = "muc#roomconfig_persistentroom"
PUBLIC = "muc#roomconfig_publicroom"
ROOMSECRET = "muc#roomconfig_roomsecret"
MEMBERSONLY = "muc#roomconfig_membersonly"
#: Prosody's own field: members may invite into a members-only room.  (The
#: standard ``muc#roomconfig_allowinvites`` appears only in disco#info.)
ALLOW_MEMBER_INVITES = "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites"
CHANGESUBJECT = "muc#roomconfig_changesubject"
MODERATED = "muc#roomconfig_moderatedroom"
WHOIS = "muc#roomconfig_whois"
HISTORYLENGTH = "muc#roomconfig_historylength"
DEFAULTHISTORY = "muc#roomconfig_defaulthistorymessages"
PRESENCEBROADCAST = "muc#roomconfig_presencebroadcast"
ALLOWPM = "muc#roomconfig_allowpm"
ALLOW_MODPM = "{xmpp:prosody.im}muc#allow_modpm"
ENABLEARCHIVING = "muc#roomconfig_enablearchiving"
MAXUSERS = "muc#roomconfig_maxusers"
GETMEMBERLIST = "muc#roomconfig_getmemberlist"
ROOMADMINS = "muc#roomconfig_roomadmins"
ROOMOWNERS = "muc#roomconfig_roomowners"

INSTRUCTIONS = "Complete and submit this form to configure the room."

#: Whether `RoomConfig` knows Prosody's "default number of history messages"
#: (sent to a joiner who asks for no particular history).  The field is only
#: offered, and only read, when the room can keep it.
SUPPORTS_DEFAULT_HISTORY = any(
    f.name == "default_history_messages" for f in dataclasses.fields(RoomConfig))

_DEFAULTS = RoomConfig()
_PROSODY_DEFAULT_HISTORY = 20
_MAXUSERS_CHOICES = (10, 20, 30, 50, 100)
_ROLE_ORDER = (Role.NONE, Role.VISITOR, Role.PARTICIPANT, Role.MODERATOR)
#: Values other implementations use for ``muc#roomconfig_allowpm``
#: (Prosody after 0.12 names roles), read as ours.
_ALLOWPM_ALIASES = {"visitor": "anyone", "everyone": "anyone", "participant": "participants",
                    "moderator": "moderators", "affiliated": "members"}
#: At most 18 digits: larger numbers mean nothing here, and Python refuses
#: to read numbers of thousands of digits (ValueError, not our answer).
_INTEGER = re.compile(r"\s*[+-]?\d{1,18}\s*\Z")


class FormField(data_form.Field):
    """A field rendered as Prosody renders it.

    wokkel writes booleans as ``true``/``false`` and drops labels outside
    forms of type "form"; Prosody writes ``1``/``0``, keeps labels and
    descriptions in results too, and declares integers with an XEP-0122
    ``<validate/>``.  Options, validation and ``<required/>`` belong to
    forms of type "form" only (``asForm``).  One deliberate difference: a
    false boolean is written as ``0`` where Prosody writes no value at all,
    so no client has to guess what an empty boolean means.
    """

    def __init__(self, fieldType="text-single", var=None, value=None, values=None,
                 options=None, label=None, desc=None, required=False, datatype=None):
        super().__init__(fieldType, var, value, values, options, label, desc, required)
        self.datatype = datatype

    def toElement(self, asForm=False):
        element = domish.Element((data_form.NS_X_DATA, "field"))
        element["type"] = self.fieldType
        if self.var is not None:
            element["var"] = self.var
        if self.label is not None:
            element["label"] = self.label
        if self.desc is not None:
            element.addElement("desc", content=self.desc)
        if asForm and self.datatype is not None:
            element.addElement((NS_XDATA_VALIDATE, "validate"))["datatype"] = self.datatype
        if asForm:
            for option in self.options:
                element.addChild(option.toElement())
        for value in self.values:
            element.addElement("value", content=_value_text(value))
        if asForm and self.required:
            element.addElement("required")
        return element


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if hasattr(value, "full"):
        return value.full()
    return str(value)


# ---- the form an owner fills in ---------------------------------------------

def build_config_form(room, actor_jid: str | None = None, *,
                      archiving: bool | None = None) -> data_form.Form:
    """The configuration form of ``room`` with its current values.

    ``archiving``: whether the room archives now, shown as Prosody's
    mod_muc_mam field; None leaves the field out (every room archives).

    ``actor_jid`` is the owner asking: every owner sees the same form today,
    but Prosody hides some options from non-admins when the service
    restricts them, and this is where that decision belongs.
    """
    config = room.config
    form = data_form.Form("form", title=f"Configuration for {room.jid}",
                          instructions=[INSTRUCTIONS], formNamespace=NS_ROOMCONFIG)
    fields = _prosody_fields(room, config)
    if archiving is not None:
        fields.append(FormField("boolean", ENABLEARCHIVING, archiving,
                                label="Enable archiving?"))
    for form_field in fields + _extra_fields(room, config):
        form.addField(form_field)
    return form


def _section(title: str) -> FormField:
    return FormField("fixed", value=title)


def _prosody_fields(room, config: RoomConfig) -> list:
    """Prosody 0.12's fields, in the order its hook priorities give them."""
    fields = [
        _section("Room information"),
        FormField("text-single", ROOMNAME, config.name, label="Title"),
        FormField("text-single", ROOMDESC, config.description, label="Description",
                  desc="A brief description of the room"),
        FormField("text-single", LANG, config.language,
                  label="Language tag for room (e.g. 'en', 'de', 'fr' etc.)",
                  desc="Indicate the primary language spoken in this room",
                  datatype="xs:language"),
        FormField("boolean", PERSISTENT, config.persistent,
                  label="Persistent (room should remain even when it is empty)",
                  desc="Rooms are automatically deleted when they are empty, "
                       "unless this option is enabled"),
        FormField("boolean", PUBLIC, config.public,
                  label="Include room information in public lists",
                  desc="Enable this to allow people to find the room"),
        _section("Access to the room"),
        FormField("text-private", ROOMSECRET, config.password or "", label="Password"),
        FormField("boolean", MEMBERSONLY, config.members_only,
                  label="Only allow members to join",
                  desc="Enable this to only allow access for room owners, admins and members"),
        FormField("boolean", ALLOW_MEMBER_INVITES, config.allow_invites,
                  label="Allow members to invite new members"),
        _section("Permissions in the room"),
        FormField("boolean", CHANGESUBJECT, config.change_subject,
                  label="Allow anyone to set the room's subject",
                  desc="Choose whether anyone, or only moderators, may set the room's subject"),
        FormField("boolean", MODERATED, config.moderated,
                  label="Moderated (require permission to speak)",
                  desc="In moderated rooms occupants must be given permission to speak "
                       "by a room moderator"),
        FormField("list-single", WHOIS, config.whois,
                  label="Addresses (JIDs) of room occupants may be viewed by:",
                  options=[data_form.Option("moderators", "Moderators only"),
                           data_form.Option("anyone", "Anyone")]),
        _section("Other options"),
        # The history the room actually keeps, as Prosody shows it: the
        # configured length bounded by the service's cap.
        FormField("text-single", HISTORYLENGTH, str(room.history.limit),
                  label="Maximum number of history messages returned by room",
                  desc="Specify the maximum number of previous messages that should be "
                       "sent to users when they join the room",
                  datatype="xs:integer"),
    ]
    if SUPPORTS_DEFAULT_HISTORY:
        fields.append(FormField(
            "text-single", DEFAULTHISTORY, str(config.default_history_messages),
            label="Default number of history messages returned by room",
            desc="Specify the number of previous messages sent to new users "
                 "when they join the room",
            datatype="xs:integer"))
    fields.append(FormField(
        "list-multi", PRESENCEBROADCAST,
        values=[role.value for role in _ROLE_ORDER if role in config.presence_broadcast],
        label="Only show participants with roles:",
        options=[data_form.Option(role, role)
                 for role in ("none", "visitor", "participant", "moderator")]))
    return fields


def _extra_fields(room, config: RoomConfig) -> list:
    """XEP-0045 options our rooms have beyond Prosody 0.12's form."""
    max_users = config.max_users
    choices = sorted(set(_MAXUSERS_CHOICES) | ({max_users} if max_users else set()))
    return [
        FormField("list-single", ALLOWPM, config.allow_private_messages,
                  label="Allow private messages from",
                  options=[data_form.Option("anyone", "Everyone"),
                           data_form.Option("participants", "Participants"),
                           data_form.Option("moderators", "Moderators"),
                           data_form.Option("members", "Members"),
                           data_form.Option("none", "No one")]),
        FormField("boolean", ALLOW_MODPM, config.allow_modpm,
                  label="Always allow private messages to moderators"),
        FormField("list-single", MAXUSERS, "none" if max_users is None else str(max_users),
                  label="Maximum number of occupants",
                  options=[data_form.Option(str(n), str(n)) for n in choices]
                  + [data_form.Option("none", "No limit")]),
        FormField("list-multi", GETMEMBERLIST,
                  values=[role.value for role in _ROLE_ORDER if role in config.get_member_list],
                  label="Roles that may retrieve the member list (admins and owners always may)",
                  options=[data_form.Option(role.value, role.value) for role in _ROLE_ORDER]),
        FormField("jid-multi", ROOMADMINS,
                  values=[j for j, _ in room.affiliation_list(Affiliation.ADMIN)],
                  label="Room admins"),
        FormField("jid-multi", ROOMOWNERS,
                  values=[j for j, _ in room.affiliation_list(Affiliation.OWNER)],
                  label="Room owners"),
    ]


# ---- reading the owner's answer ---------------------------------------------

class FormRejected(Refusal):
    """Not a room configuration submission at all (wrong form type or
    FORM_TYPE).  Prosody answers bad-request of type cancel: resending the
    same form cannot help."""

    def __init__(self, text=None):
        super().__init__("bad-request", "cancel", text)


@dataclass(frozen=True)
class Submission:
    """What an owner's ``muc#owner`` set asks for.

    ``config_changes``: keyword arguments for ``Room.configure`` (only the
    options whose submitted value differs from the room's; empty for an
    instant room).  ``owners``/``admins``: the complete new lists of bare
    JIDs when the form carried them, else None; the caller turns them into
    affiliation changes.  ``cancelled``: the owner cancelled (XEP-0045
    §10.1.3) and nothing else applies.
    """

    config_changes: dict = field(default_factory=dict)
    owners: tuple | None = None
    admins: tuple | None = None
    cancelled: bool = False


def parse_config_submission(form_element: domish.Element, room) -> Submission:
    """Read a ``jabber:x:data`` element sent to configure ``room``.

    Raises `FormRejected` (bad-request) for anything but a roomconfig
    submission or a cancellation, and `NotAcceptable` naming the field for a
    value the room cannot take.  Fields we do not offer are ignored, as
    Prosody does.
    """
    if (form_element.uri, form_element.name) != (data_form.NS_X_DATA, "x"):
        raise FormRejected("Not a data form")
    form_type = form_element.getAttribute("type")
    if form_type == "cancel":
        return Submission(cancelled=True)
    if form_type != "submit":
        raise FormRejected("Not a submitted form")
    if form_element.firstChildElement() is None:
        return Submission()  # instant room: accept the defaults
    submitted = form_all_values(form_element)
    if _single(submitted.get("FORM_TYPE"), "FORM_TYPE") != NS_ROOMCONFIG:
        raise FormRejected("Form is not of type room configuration")

    wanted = {}
    for var, (option, read) in _READERS.items():
        if var in submitted:
            wanted[option] = read(var, submitted[var])
    if SUPPORTS_DEFAULT_HISTORY and DEFAULTHISTORY in submitted:
        # Prosody never lets the default exceed what the room keeps.
        history_length = wanted.get("history_length", room.config.history_length)
        wanted["default_history_messages"] = min(
            _count(DEFAULTHISTORY, submitted[DEFAULTHISTORY], _PROSODY_DEFAULT_HISTORY),
            history_length)

    config = room.config
    changes = {option: value for option, value in wanted.items()
               if getattr(config, option) != value}
    return Submission(
        config_changes=changes,
        owners=_bare_jids(ROOMOWNERS, submitted[ROOMOWNERS]) if ROOMOWNERS in submitted else None,
        admins=_bare_jids(ROOMADMINS, submitted[ROOMADMINS]) if ROOMADMINS in submitted else None,
    )


def _single(values, var: str) -> str | None:
    """The one value of a single-valued field; None when it has none."""
    if not values:
        return None
    if len(values) > 1:
        raise NotAcceptable(f"{var} takes a single value")
    return values[0]


def _text(var, values) -> str:
    return _single(values, var) or ""


def _password(var, values) -> str | None:
    return _single(values, var) or None


def _boolean(var, values) -> bool:
    value = _single(values, var)
    if value is None or value in ("0", "false"):
        return False
    if value in ("1", "true"):
        return True
    raise NotAcceptable(f"{var}: {_shown(value)} is not a boolean (use 0, 1, false or true)")


def _whois(var, values) -> str:
    value = _single(values, var)
    if value not in WHOIS_VALUES:
        raise NotAcceptable(f"{var} must be one of {', '.join(sorted(WHOIS_VALUES))}")
    return value


def _shown(value: str) -> str:
    """``value`` as an error text may quote it: short."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _count(var, values, default: int) -> int:
    """A non-negative integer; an empty field means the default."""
    value = _single(values, var)
    if value is None or not value.strip():
        return default
    if not _INTEGER.match(value):
        raise NotAcceptable(f"{var}: {_shown(value)} is not an integer")
    number = int(value)
    if number < 0:
        raise NotAcceptable(f"{var} must not be negative")
    return number


def _history_length(var, values) -> int:
    return _count(var, values, _DEFAULTS.history_length)


def _roles(var, values, allowed) -> frozenset:
    """Role names -> roles (``none`` in presence broadcast means: show the
    affiliated users who are not in the room, as Prosody does)."""
    roles = set()
    for value in values:
        if value not in allowed:
            raise NotAcceptable(f"{var}: {_shown(value)} is not one of {', '.join(allowed)}")
        roles.add(Role(value))
    return frozenset(roles)


def _presence_broadcast(var, values) -> frozenset:
    return _roles(var, values, ("none", "visitor", "participant", "moderator"))


def _member_list_roles(var, values) -> frozenset:
    return _roles(var, values, ("visitor", "participant", "moderator"))


def _allow_pm(var, values) -> str:
    value = _single(values, var)
    value = _ALLOWPM_ALIASES.get(value, value)
    if value not in ALLOW_PM_VALUES:
        raise NotAcceptable(f"{var} must be one of {', '.join(sorted(ALLOW_PM_VALUES))}")
    return value


def _max_users(var, values) -> int | None:
    value = _single(values, var)
    if value is None or value.strip() in ("", "none"):
        return None
    if not _INTEGER.match(value) or int(value) < 1:
        raise NotAcceptable(f"{var}: {_shown(value)} is neither a positive number nor none")
    return int(value)


def _bare_jids(var, values) -> tuple:
    """Normalised bare JIDs, in the order given, without repeats (empty
    values, which some clients send for an empty list, are skipped)."""
    result = []
    for value in values:
        if not value.strip():
            continue
        try:
            parsed = parse_jid(value.strip())
        except InvalidJID:
            raise NotAcceptable(f"{var}: {_shown(value)} is not a valid JID") from None
        if parsed.resource is not None:
            raise NotAcceptable(f"{var}: bare JID expected, got {_shown(value)}")
        bare = parsed.userhost()
        if bare not in result:
            result.append(bare)
    return tuple(result)


#: Field ``var`` -> (`RoomConfig` option, reader of its submitted values).
_READERS = {
    ROOMNAME: ("name", _text),
    ROOMDESC: ("description", _text),
    LANG: ("language", _text),
    PERSISTENT: ("persistent", _boolean),
    PUBLIC: ("public", _boolean),
    ROOMSECRET: ("password", _password),
    MEMBERSONLY: ("members_only", _boolean),
    ALLOW_MEMBER_INVITES: ("allow_invites", _boolean),
    CHANGESUBJECT: ("change_subject", _boolean),
    MODERATED: ("moderated", _boolean),
    WHOIS: ("whois", _whois),
    HISTORYLENGTH: ("history_length", _history_length),
    PRESENCEBROADCAST: ("presence_broadcast", _presence_broadcast),
    ALLOWPM: ("allow_private_messages", _allow_pm),
    ALLOW_MODPM: ("allow_modpm", _boolean),
    ENABLEARCHIVING: ("archiving", _boolean),
    MAXUSERS: ("max_users", _max_users),
    GETMEMBERLIST: ("get_member_list", _member_list_roles),
}
