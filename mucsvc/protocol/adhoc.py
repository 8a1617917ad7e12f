"""XEP-0050 ad-hoc commands on the service JID, for service administrators.

Commands are one-step forms in the style of Prosody's: executing a command
without a form returns the form to fill (``status='executing'``); executing
it with a form (or submitting the form) runs it and completes with a note.
Prosody's clients and scripts send the filled form straight away, with no
session, and that works the same.  Only service admins may list or run them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

from wokkel import data_form

from mucsvc.protocol import namespaces
from mucsvc.protocol.forms import form_all_values
from mucsvc.protocol.payloads import child
from mucsvc.protocol.replies import error_reply, iq_result
from mucsvc.protocol.xmltext import element, text_element

NS_COMMANDS = "http://jabber.org/protocol/commands"


class CommandFailed(Exception):
    """The command ran but could not do what was asked: its text becomes an
    error note the client shows (the IQ itself succeeds, as in Prosody)."""


@dataclass
class Command:
    """``form(actor) -> data_form.Form`` to fill; ``run(actor, values) -> str``,
    the info note on success (raise `CommandFailed` for an error note)."""

    node: str
    name: str
    form: Callable
    run: Callable


class AdHocCommands:
    def __init__(self, send, service_jid: str, is_admin: Callable[[str], bool]):
        self.send = send
        self.service_jid = service_jid
        self.is_admin = is_admin
        self.commands: dict[str, Command] = {}

    def add(self, command: Command) -> None:
        self.commands[command.node] = command

    def items(self, requester: str) -> list:
        """disco#items of the commands node: only admins see the commands."""
        if not self.is_admin(requester):
            return []
        return [(self.service_jid, c.node, c.name) for c in self.commands.values()]

    def handle(self, iq, recipient) -> str:
        """An IQ ``<command/>`` to the service; returns the reply (text)."""
        request = child(iq, NS_COMMANDS, "command")
        node = request.getAttribute("node")
        command = self.commands.get(node)
        if iq.getAttribute("type") != "set" or command is None:
            return error_reply(iq, "item-not-found" if command is None else "bad-request", "cancel")
        sender = iq.getAttribute("from")
        if not self.is_admin(sender):
            return error_reply(iq, "forbidden", "auth")
        session = request.getAttribute("sessionid") or uuid.uuid4().hex
        action = request.getAttribute("action") or "execute"
        attrs = (("xmlns", NS_COMMANDS), ("node", node), ("sessionid", session))
        if action == "cancel":
            return iq_result(iq, element("command", attrs + (("status", "canceled"),)))
        form = child(request, namespaces.DATA_FORMS, "x")
        if form is None or form.getAttribute("type") in ("cancel", "form"):
            shown = command.form(sender).toElement().toXml()
            actions = element("actions", (("execute", "complete"),), element("complete"))
            return iq_result(iq, element("command", attrs + (("status", "executing"),),
                                         actions + shown))
        try:
            note = text_element("note", command.run(sender, form_all_values(form)),
                                (("type", "info"),))
        except CommandFailed as e:
            note = text_element("note", str(e), (("type", "error"),))
        return iq_result(iq, element("command", attrs + (("status", "completed"),), note))


def list_multi_form(title: str, instructions: str, form_type: str, var: str, label: str,
                    options) -> data_form.Form:
    form = data_form.Form("form", title=title, instructions=[instructions],
                          formNamespace=form_type)
    form.addField(data_form.Field("list-multi", var, label=label, required=True,
                                  options=[data_form.Option(o) for o in options]))
    return form
