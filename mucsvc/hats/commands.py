"""The service admins' hat commands (XEP-0050), on the nodes of Prosody's
mod_muc_hats_adhoc so that the same clients and scripts work: "Add hat to a
user" (the hat is added active and required) and "Remove hat from a user".

Prosody completes a failed command with an *info* note; here the note is an
*error* (``CommandFailed``) so that clients show it as one.  The words are
Prosody's.
"""

from __future__ import annotations

from wokkel import data_form

from mucsvc.hats.errors import HatsError
from mucsvc.protocol.adhoc import Command, CommandFailed

ADD_NODE = "http://prosody.im/protocol/hats#add"
REMOVE_NODE = "http://prosody.im/protocol/hats#remove"

_USER = ("user", "jid-single", "User JID", True)
_ROOM = ("room", "jid-single", "Room JID", True)
_TITLE = ("title", "text-single", "Hat title", False)
_URI = ("uri", "text-single", "Hat URI", True)


def _form(node: str, title: str, instructions: str, fields) -> data_form.Form:
    form = data_form.Form("form", title=title, instructions=[instructions], formNamespace=node)
    for var, kind, label, required in fields:
        form.addField(data_form.Field(kind, var, label=label, required=required))
    return form


def _filled(values: dict, fields) -> dict:
    """The first value of each field; a missing required one fails the
    command with Prosody's message."""
    filled, missing = {}, []
    for var, _kind, _label, required in fields:
        value = next(iter(values.get(var) or ()), "").strip()
        if required and not value:
            missing.append(f"{var}: Required value missing")
        filled[var] = value
    if missing:
        raise CommandFailed("\n".join(missing))
    return filled


def add_hat_command(wardrobe) -> Command:
    fields = (_USER, _ROOM, _TITLE, _URI)

    def form(actor):
        return _form(ADD_NODE, "Add a hat", "Assign a hat to a room member", fields)

    def run(actor, values):
        filled = _filled(values, fields)
        attachment = {"active": True, "required": True}
        if filled["title"]:
            attachment["title"] = filled["title"]
        try:
            wardrobe.add(filled["user"], filled["room"], filled["uri"], attachment)
        except HatsError as e:
            raise CommandFailed(f"There was an error adding the hat: {e.text}") from None
        return "The hat has been added successfully"

    return Command(ADD_NODE, "Add hat to a user", form, run)


def remove_hat_command(wardrobe) -> Command:
    fields = (_USER, _ROOM, _URI)

    def form(actor):
        return _form(REMOVE_NODE, "Remove a hat", "Remove a hat from a room member", fields)

    def run(actor, values):
        filled = _filled(values, fields)
        try:
            wardrobe.remove(filled["user"], filled["room"], filled["uri"])
        except HatsError as e:
            raise CommandFailed(f"There was an error removing the hat: {e.text}") from None
        return "The hat has been removed successfully"

    return Command(REMOVE_NODE, "Remove hat from a user", form, run)


def hat_commands(hats) -> list:
    """Both commands, for ``AdHocCommands.add``; ``hats`` is the ``HatsService``."""
    return [add_hat_command(hats.wardrobe), remove_hat_command(hats.wardrobe)]
