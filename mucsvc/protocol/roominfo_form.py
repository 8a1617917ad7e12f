"""What a room says about itself in disco#info (XEP-0045 §6.4).

The ``muc#roominfo`` result form carries the facts a client shows before
joining: name, description, language, how many people are inside, whether
occupants may change the subject or invite.  The fields are Prosody 0.12's
(its ``muc-disco#info`` hooks), so clients see what they see there; one
addition, ``muc#roominfo_changesubject``, is the name XEP-0045's registry
gives the subject permission (Prosody 0.12 reports it only under the
``muc#roomconfig_`` name, later versions under this one).  A room with
hats adds XEP-0317 v0.3's ``hats#hash``, as ejabberd does, and a room with
an avatar XEP-0486's ``muc#roominfo_avatarhash`` (Prosody 13, ejabberd).
"""

from __future__ import annotations

from wokkel import data_form

from mucsvc.protocol.config_form import ALLOW_MEMBER_INVITES, CHANGESUBJECT, ROOMNAME, FormField
from mucsvc.rooms.hat_definitions import hats_hash

NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"

OCCUPANTS = "muc#roominfo_occupants"
DESCRIPTION = "muc#roominfo_description"
LANG = "muc#roominfo_lang"
ALLOWINVITES = "muc#roomconfig_allowinvites"
ROOMINFO_CHANGESUBJECT = "muc#roominfo_changesubject"
HATS_HASH = "hats#hash"
AVATARHASH = "muc#roominfo_avatarhash"


def roominfo_form(room) -> data_form.Form:
    """The ``muc#roominfo`` form (type "result") for ``room``'s disco#info."""
    info = room.info()
    config = room.config
    form = data_form.Form("result", formNamespace=NS_ROOMINFO)
    for form_field in (
        FormField("text-single", OCCUPANTS, str(info.occupants), label="Number of occupants"),
        FormField("text-single", ROOMNAME, info.name, label="Title"),
        FormField("text-single", DESCRIPTION, info.description, label="Description"),
        FormField("text-single", LANG, info.language),
        FormField("boolean", ALLOW_MEMBER_INVITES, config.allow_invites,
                  label="Allow members to invite new members"),
        # Who may invite, as a client should read it: anyone in an open
        # room; in a members-only room only if members may invite.
        FormField("boolean", ALLOWINVITES, not config.members_only or config.allow_invites,
                  label="Allow users to invite other users"),
        FormField("boolean", CHANGESUBJECT, info.change_subject),
        FormField("boolean", ROOMINFO_CHANGESUBJECT, info.change_subject),
    ):
        form.addField(form_field)
    hats = room.hat_definitions()
    if hats:
        # XEP-0317 v0.3: a client whose copy of the list differs fetches it again.
        form.addField(FormField("text-single", HATS_HASH, hats_hash(hats), label="Hats hash"))
    if info.avatar_hash is not None:
        # XEP-0486: the SHA-1 of the room's avatar, in a list (a room might
        # offer several); only while it has one, as ejabberd sends it.
        form.addField(FormField("text-multi", AVATARHASH, values=[info.avatar_hash],
                                label="Avatar hash"))
    return form


def room_identity_name(room) -> str:
    """The ``name`` of the room's ``conference``/``text`` identity: its
    configured name, else its localpart, so that a client always has
    something better than a bare address to show."""
    if room.config.name:
        return room.config.name
    node, at, _ = room.jid.partition("@")
    return node if at else room.jid
