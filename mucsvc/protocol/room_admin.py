"""``muc#admin``: changing roles by nick and affiliations by JID, and the lists
(XEP-0045 §8-9), the way Prosody reads the request."""

from __future__ import annotations

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.app.application import AffiliationItem, RoleItem
from mucsvc.protocol import namespaces
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms import Affiliation, Role, prep_nick
from mucsvc.rooms.errors import Forbidden, MucError

_QUERY = (("xmlns", namespaces.MUC_ADMIN),)


class AdminHandler:
    def __init__(self, context):
        self.context = context

    # ---- lists -------------------------------------------------------------------

    def get(self, iq, sender, room, query) -> None:
        item = _first_item(query)
        if item is None:
            raise Refusal("bad-request")
        affiliation, role = item.getAttribute("affiliation"), item.getAttribute("role")
        if affiliation and not role:
            wanted = _parse(Affiliation, affiliation)
            if not room.may_list_affiliation(sender, wanted):
                raise Forbidden(None)
            items = "".join(
                element("item", (("affiliation", wanted.value), ("jid", jid),
                                 ("nick", (data or {}).get("reserved_nickname"))),
                        _reason_element((data or {}).get("reason")))
                for jid, data in room.affiliation_list(wanted))
        elif role and not affiliation:
            wanted = _parse(Role, role)
            if not room.may_list_role(sender):
                raise Forbidden(None)
            items = "".join(
                element("item", (("affiliation", room.affiliation_of(o.bare_jid).value),
                                 ("role", o.role.value), ("jid", session), ("nick", o.nick)))
                for o in room.occupants_with_role(wanted) for session in o.sessions)
        else:
            raise Refusal("bad-request")
        self.context.send(iq_result(iq, element("query", _QUERY, items)))

    # ---- changes -----------------------------------------------------------------

    def set(self, iq, sender, room, query):
        """Every item is read before anything changes; then the whole batch
        is one operation: all applied, or none."""
        items = [i for i in query.elements() if i.name == "item"]
        if not items:
            raise Refusal("bad-request")
        changes = [self._change(item, room) for item in items]
        return self.context.app.change_roles_and_affiliations(
            room, sender, changes, acknowledge=lambda: self.context.send(iq_result(iq)))

    def _change(self, item, room):
        """One item as a `RoleItem` or `AffiliationItem` (Prosody's reading)."""
        jid = item.getAttribute("jid")
        nick = item.getAttribute("nick")
        affiliation = item.getAttribute("affiliation")
        role = item.getAttribute("role")
        if jid is not None:
            jid = _bare_jid(jid)
        if nick is not None:
            try:
                nick = prep_nick(nick)
            except MucError:
                raise Refusal("jid-malformed", "modify", "invalid nickname") from None
        if jid is None and nick is not None:
            # Some clients name the user by nick when changing an affiliation.
            occupant = room.occupant_by_nick(nick)
            if occupant is not None:
                jid = occupant.bare_jid
        elif role is not None and nick is None and jid is not None:
            occupant = next((o for o in room.occupants if o.bare_jid == jid), None)
            if occupant is not None:
                nick = occupant.nick
        reason = _reason(item)
        if affiliation is not None and jid is not None and role is None:
            # A nick given with an affiliation reserves it (Prosody).
            return AffiliationItem(jid, affiliation, reason, nick)
        if role is not None and nick is not None and affiliation is None:
            return RoleItem(nick, role, reason)
        raise Refusal("bad-request")


def _first_item(query):
    for item in query.elements():
        if item.name == "item":
            return item
    return None


def _parse(kind, value):
    try:
        return kind.parse(value)
    except MucError:
        raise Refusal("bad-request") from None


def _bare_jid(value: str) -> str:
    try:
        parsed = parse_jid(value)
    except InvalidJID:
        raise Refusal("jid-malformed", "modify") from None
    if parsed.resource is not None:
        raise Refusal("jid-malformed", "modify", "Bare JID expected, got full JID")
    return parsed.userhost()


def _reason(item):
    for child in item.elements():
        if child.name == "reason":
            return str(child)
    return None


def _reason_element(reason) -> str:
    """``<reason/>`` with the reason stored with an affiliation (a ban's),
    as ejabberd and Prosody list it; nothing when there is none."""
    return text_element("reason", reason) if isinstance(reason, str) and reason else ""
