"""``jabber:iq:register`` on a room: reserving a nickname (XEP-0045 §7.10),
with Prosody's form and answers."""

from __future__ import annotations

from wokkel import data_form

from mucsvc.protocol import namespaces
from mucsvc.protocol.payloads import child
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.forms import form_values
from mucsvc.protocol.xmltext import element, text_element

NS_REGISTER = "jabber:iq:register"
NS_MUC_REGISTER = "http://jabber.org/protocol/muc#register"
NICK_FIELD = "muc#register_roomnick"


def registration_form() -> str:
    form = data_form.Form("form", formNamespace=NS_MUC_REGISTER)
    form.addField(data_form.Field("text-single", NICK_FIELD, label="Nickname", required=True))
    return form.toElement().toXml()


class RegisterHandler:
    def __init__(self, context):
        self.context = context

    def get(self, iq, sender, room, query) -> None:
        room.may_register(sender)
        nick = room.registered_nick(sender)
        if nick is not None:
            content = element("registered") + text_element("username", nick)
        else:
            content = registration_form()
        self.context.send(iq_result(iq, element("query", (("xmlns", NS_REGISTER),), content)))

    def set(self, iq, sender, room, query):
        acknowledge = lambda: self.context.send(iq_result(iq))  # noqa: E731
        if child(query, NS_REGISTER, "remove") is not None:
            return self.context.app.unregister(room, sender, acknowledge)
        form = child(query, namespaces.DATA_FORMS, "x")
        if form is None:
            raise Refusal("bad-request", "modify", "Missing dataform")
        values = form_values(form)
        if values.get("FORM_TYPE") != NS_MUC_REGISTER:
            raise Refusal("bad-request", "modify", "Error in form")
        return self.context.app.register(room, sender, values.get(NICK_FIELD), acknowledge)

    def disco_nick(self, iq, sender, room) -> str:
        """The ``x-roomuser-item`` node: the asker's reserved nick, if any."""
        nick = room.registered_nick(sender)
        content = element("identity", (("category", "conference"), ("name", nick),
                                       ("type", "text"))) if nick else ""
        return element("query", (("xmlns", namespaces.DISCO_INFO), ("node", "x-roomuser-item")),
                       content)
