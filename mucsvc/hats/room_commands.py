"""A room's own hat commands (XEP-0317 v0.3, XEP-0050), addressed to the
room JID, for its owners and admins (service admins are owners
everywhere): list, create (or update), destroy, assign and unassign, on
the nodes and with the form fields of the XEP (``urn:xmpp:hats:commands:*``,
``hats#uri``, ``hats#title``, ``hats#hue``, ``hats#jid``), plus ejabberd's
``list-assigned``.  ejabberd's field names (``hat`` for the hat's URI) and
v0.2's (``accountjid``) are read too, so its clients work unchanged.

Each command is one step: executed without a form it answers the form to
fill (``executing``), or the list (``completed``); executed or completed
with a filled form it runs one `Wardrobe` operation and completes with a
note.  A refusal is an IQ error with the reason in its text, as ejabberd
answers: ``forbidden`` (not an owner or admin), ``bad-request`` (a field
missing or invalid), ``item-not-found`` (no such hat; a user who is not a
member, admin or owner), ``internal-server-error`` (the change could not
be stored: nothing changed).
"""

from __future__ import annotations

import uuid

from mucsvc.hats.errors import BAD_REQUEST, FORBIDDEN, HatsError
from mucsvc.protocol import namespaces
from mucsvc.protocol.forms import form_all_values
from mucsvc.protocol.payloads import child
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms.errors import NotAcceptable
from mucsvc.rooms.hat_definitions import hue_text, parse_hue
from mucsvc.rooms.permissions import may_manage_hats

NS_COMMANDS = "http://jabber.org/protocol/commands"
FORM_TYPE = "urn:xmpp:hats:commands"
LIST = "urn:xmpp:hats:commands:list"
CREATE = "urn:xmpp:hats:commands:create"
DESTROY = "urn:xmpp:hats:commands:destroy"
ASSIGN = "urn:xmpp:hats:commands:assign"
UNASSIGN = "urn:xmpp:hats:commands:unassign"
LIST_ASSIGNED = "urn:xmpp:hats:commands:list-assigned"

#: Node -> name, in the order they are listed (ejabberd's names).
NAMES = {
    CREATE: "Create a Hat",
    DESTROY: "Destroy a Hat",
    LIST: "List of Hats",
    ASSIGN: "Assign a hat to a user",
    UNASSIGN: "Remove a hat from a user",
    LIST_ASSIGNED: "List users with hats",
}

#: A form field -> the names it is read by, the XEP's first.
_URI = ("hats#uri", "hat")
_JID = ("hats#jid", "accountjid")
_TITLE = ("hats#title",)
_HUE = ("hats#hue",)

_ERROR_TYPES = {FORBIDDEN: "auth", BAD_REQUEST: "modify"}


class RoomHatCommands:
    """The commands of every room; ``wardrobe`` is the hats service's
    `Wardrobe`, ``send`` the component's."""

    def __init__(self, wardrobe, send):
        self.wardrobe = wardrobe
        self.send = send

    def install(self, rooms_handler) -> None:
        """Answer the commands and their discovery in ``rooms_handler``'s rooms."""
        rooms_handler.iqs.room_handlers[("set", NS_COMMANDS, "command")] = self.handle
        rooms_handler.room_features.append(NS_COMMANDS)
        rooms_handler.item_nodes[NS_COMMANDS] = self.items
        for node in NAMES:
            rooms_handler.info_nodes[node] = self.info

    # ---- discovery -----------------------------------------------------------

    def items(self, sender, room) -> str:
        """disco#items of the commands node: the hat commands, for the
        room's owners and admins only."""
        if not may_manage_hats(room.affiliation_of(sender)):
            return ""
        return "".join(element("item", (("jid", room.jid), ("node", node), ("name", name)))
                       for node, name in NAMES.items())

    def info(self, sender, room, node) -> str | None:
        """disco#info of a command node (None: not for this requester)."""
        if not may_manage_hats(room.affiliation_of(sender)):
            return None
        return (element("identity", (("category", "automation"), ("type", "command-node"),
                                     ("name", NAMES[node])))
                + element("feature", (("var", NS_COMMANDS),))
                + element("feature", (("var", namespaces.DATA_FORMS),)))

    # ---- running -------------------------------------------------------------

    def handle(self, iq, sender, room, request):
        node = request.getAttribute("node")
        if node not in NAMES:
            raise Refusal("item-not-found", "cancel", "No such command")
        if not may_manage_hats(room.affiliation_of(sender)):
            raise Refusal("forbidden", "auth", "Only owners and admins of the room manage its hats")
        action = request.getAttribute("action")
        if action not in (None, "execute", "complete", "cancel"):
            # One-step commands: there is no previous or next stage.
            raise Refusal("bad-request", "modify", "Incorrect value of 'action' attribute")
        session = request.getAttribute("sessionid") or uuid.uuid4().hex
        head = (("xmlns", NS_COMMANDS), ("node", node), ("sessionid", session))
        form = child(request, namespaces.DATA_FORMS, "x")
        if action == "cancel" or (
                form is not None and form.getAttribute("type") == "cancel"):
            self.send(iq_result(iq, element("command", head + (("status", "canceled"),))))
            return None
        try:
            if node in (LIST, LIST_ASSIGNED):
                listing = self._list(room, sender) if node == LIST else self._assigned(room, sender)
                self.send(iq_result(iq, element("command", head + (("status", "completed"),),
                                                listing)))
                return None
            if form is None or form.getAttribute("type") != "submit":
                actions = element("actions", (("execute", "complete"),), element("complete"))
                self.send(iq_result(iq, element("command", head + (("status", "executing"),),
                                                actions + self._form(node, room))))
                return None
            note, result = self._run(node, room, sender, form_all_values(form))
        except HatsError as e:
            raise _refusal(e) from None

        def completed(_):
            self.send(iq_result(iq, element("command", head + (("status", "completed"),),
                                            text_element("note", note, (("type", "info"),)))))
        if getattr(type(result), "addCallback", None) is not None:
            return result.addCallbacks(completed, _refused_later)
        completed(result)
        return None

    def _run(self, node, room, sender, values):
        """``(note, what the operation returned)``."""
        wardrobe = self.wardrobe
        if node == CREATE:
            uri, title, hue = _required(values, _URI), _required(values, _TITLE), _value(values, _HUE)
            try:
                hue = parse_hue(hue)
            except NotAcceptable as e:
                raise HatsError(BAD_REQUEST, e.text) from None
            return ("The hat has been created",
                    wardrobe.define(room.jid, uri, title, hue, actor=sender))
        if node == DESTROY:
            return ("The hat has been destroyed",
                    wardrobe.destroy(room.jid, _required(values, _URI), actor=sender))
        user, uri = _required(values, _JID), _required(values, _URI)
        if node == ASSIGN:
            return ("The hat has been assigned",
                    wardrobe.assign(user, room.jid, uri, actor=sender))
        return ("The hat has been removed",
                wardrobe.unassign(user, room.jid, uri, actor=sender))

    # ---- forms ---------------------------------------------------------------

    def _form(self, node, room) -> str:
        hats = self.wardrobe.definitions(room.jid)
        choice = "".join(element("option", (("label", hat["title"] or hat["uri"]),),
                                 text_element("value", hat["uri"])) for hat in hats)
        if node == CREATE:
            fields = (_field("hats#uri", "text-single", "Hat URI", required=True)
                      + _field("hats#title", "text-single", "Hat title", required=True)
                      + _field("hats#hue", "text-single", "Hat hue (degrees, 0 to 360)"))
            title, instructions = "Create a Hat", "Fill out this form to create or update a hat."
        elif node == DESTROY:
            fields = _field("hats#uri", "list-single", "The hat", required=True, content=choice)
            title, instructions = "Destroy a Hat", "Choose the hat to destroy."
        else:
            fields = (_field("hats#jid", "jid-single", "User address", required=True)
                      + _field("hats#uri", "list-single", "The hat", required=True, content=choice))
            title = NAMES[node]
            instructions = ("Fill out this form to assign a hat." if node == ASSIGN
                            else "Fill out this form to remove a hat from a user.")
        return element("x", (("xmlns", namespaces.DATA_FORMS), ("type", "form")),
                       text_element("title", title) + text_element("instructions", instructions)
                       + _field("FORM_TYPE", "hidden", None, value=FORM_TYPE) + fields)

    def _list(self, room, sender) -> str:
        hats = self.wardrobe.definitions(room.jid, actor=sender)
        reported = ("hats#uri", "Hat URI"), ("hats#title", "Hat title"), ("hats#hue", "Hat hue")
        return _result("List of Hats", reported, (
            (("hats#uri", hat["uri"]), ("hats#title", hat["title"]),
             ("hats#hue", _hue(hat["hue"]))) for hat in hats))

    def _assigned(self, room, sender) -> str:
        assigned = self.wardrobe.assigned(room.jid, actor=sender)
        reported = (("hats#jid", "User address"), ("hats#uri", "Hat URI"),
                    ("hats#title", "Hat title"), ("hats#hue", "Hat hue"))
        return _result("List users with hats", reported, (
            (("hats#jid", user), ("hats#uri", hat["uri"]), ("hats#title", hat["title"]),
             ("hats#hue", _hue(hat["hue"]))) for user, hat in assigned))


def _hue(hue) -> str:
    return "" if hue is None else hue_text(hue)


def _value(values, names) -> str:
    for name in names:
        found = values.get(name)
        if found:
            return found[0].strip()
    return ""


def _required(values, names) -> str:
    value = _value(values, names)
    if not value:
        raise HatsError(BAD_REQUEST, f"{names[0]}: Required value missing")
    return value


def _field(var, kind, label, required=False, value=None, content="") -> str:
    inner = content
    if value is not None:
        inner = text_element("value", value) + inner
    if required:
        inner += element("required")
    return element("field", (("var", var), ("type", kind), ("label", label)), inner)


def _result(title, reported, rows) -> str:
    """A result form with one item per row (XEP-0004 §3.4)."""
    head = "".join(element("field", (("var", var), ("label", label))) for var, label in reported)
    items = "".join(
        element("item", (), "".join(
            element("field", (("var", var),), text_element("value", value) if value else "")
            for var, value in row))
        for row in rows)
    return element("x", (("xmlns", namespaces.DATA_FORMS), ("type", "result")),
                   text_element("title", title) + element("reported", (), head) + items)


def _refusal(error: HatsError) -> Refusal:
    return Refusal(error.condition, _ERROR_TYPES.get(error.condition, "cancel"), error.text)


def _refused_later(failure):
    failure.trap(HatsError)
    raise _refusal(failure.value)
