"""Stanzas to ``room@service`` and ``room@service/nick``: the MUC itself.

The router hands every such stanza to :meth:`RoomsHandler.handle`, which
finds the room, calls the presence, message or IQ handler, and turns a
refusal by the domain (a ``MucError``) into the stanza error it names.
"""

from __future__ import annotations

from twisted.logger import Logger

from mucsvc.protocol import namespaces
from mucsvc.protocol.config_form import build_config_form, parse_config_submission
from mucsvc.protocol.context import MucContext
from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol.errors import SERVICE_ERRORS
from mucsvc.protocol.replies import iq_result, refusal_reply
from mucsvc.protocol.room_admin import AdminHandler
from mucsvc.protocol.room_archive import ArchiveHandler
from mucsvc.protocol.room_register import NS_REGISTER, RegisterHandler
from mucsvc.protocol.room_iq import IqHandler
from mucsvc.protocol.room_messages import MessageHandler
from mucsvc.protocol.room_moderation import ModerationHandler
from mucsvc.protocol.room_presence import PresenceHandler
from mucsvc.protocol.room_vcard import VCardHandler
from mucsvc.protocol.roominfo_form import room_identity_name, roominfo_form
from mucsvc.protocol.stanzas import wants_reply
from mucsvc.protocol.throttling import is_signal, overactive_reply
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.xmltext import element
from mucsvc.rooms.permissions import may_configure
from mucsvc.rooms.errors import Forbidden, MucError, NoSuchRoom



class RoomsHandler:
    """Dispatches room stanzas; see the module docstring."""

    log = Logger()

    def __init__(self, app, send, secret: bytes, batch_send=None, hats=None,
                 max_archive_results: int = 50):
        self.context = MucContext(app, send, batch_send, hats)
        self.app = app
        self.presence = PresenceHandler(self.context)
        self.messages = MessageHandler(self.context, self.presence)
        self.iqs = IqHandler(self.context, secret)
        self.admin = AdminHandler(self.context)
        self.register = RegisterHandler(self.context)
        self.archive = ArchiveHandler(self.context, max_archive_results)
        self.moderation = ModerationHandler(self.context)
        self.vcard = VCardHandler(self.context)
        self.iqs.room_handlers.update({
            ("get", namespaces.VCARD, "vCard"): self.vcard.get,
            ("set", namespaces.VCARD, "vCard"): self.vcard.set,
            ("set", namespaces.MODERATE_1, "moderate"): self.moderation.moderate,
            ("set", namespaces.FASTEN, "apply-to"): self.moderation.apply_to,
            ("get", namespaces.MAM, "query"): self.archive.form,
            ("set", namespaces.MAM, "query"): self.archive.query,
            ("get", namespaces.MAM, "metadata"): self.archive.metadata,
            ("get", NS_REGISTER, "query"): self.register.get,
            ("set", NS_REGISTER, "query"): self.register.set,
            ("get", namespaces.MUC_ADMIN, "query"): self.admin.get,
            ("set", namespaces.MUC_ADMIN, "query"): self.admin.set,
            ("get", namespaces.DISCO_INFO, "query"): self.disco_info,
            ("get", namespaces.DISCO_ITEMS, "query"): self.disco_items,
            ("set", namespaces.MUC_OWNER, "query"): self.owner_set,
            ("get", namespaces.MUC_OWNER, "query"): self.owner_get,
        })
        #: Features every room advertises beyond its type's: hats are shown
        #: in presence whether or not anyone wears one; every room has a
        #: vCard for its avatar (XEP-0486).
        self.room_features: list = [namespaces.VCARD, namespaces.HATS, namespaces.STANZA_ID,
                                    namespaces.MODERATE_0, namespaces.MODERATE_1,
                                    namespaces.RETRACT_0, namespaces.RETRACT_1]
        #: disco#items nodes of rooms that other features answer: node ->
        #: callable(sender, room) returning the items (XML text).
        self.item_nodes: dict = {}
        #: disco#info nodes likewise: node -> callable(sender, room, node)
        #: returning the identities and features (XML text), or None for
        #: a node this sender may not see.
        self.info_nodes: dict = {}

    @property
    def service(self):
        return self.context.service

    def handle(self, stanza, recipient) -> None:
        sender = _sender(stanza)
        if sender is None:
            return
        room_jid = recipient.userhost()
        nick = recipient.resource
        try:
            if room_jid in self.service.tombstones:
                result = self._past_tombstone(stanza, sender, room_jid, nick)
            else:
                result = self._dispatch(stanza, sender, room_jid, nick)
        except (MucError, Refusal) as e:
            self._refuse(stanza, e, room_jid)
            return
        if getattr(type(result), "addErrback", None) is not None:
            # A Deferred: a store that answers later; refuse when it fails.
            # (Looked up on the type: isinstance against Deferred, an ABC,
            # costs more than the rest of this check on every stanza.)
            result.addErrback(self._refuse_later, stanza, room_jid)

    def _past_tombstone(self, stanza, sender, room_jid, nick):
        """A destroyed room's tombstone answers every stanza ``gone`` (an
        error stanza: silence), before rate limits or room lookup, as
        Prosody does; a service admin's available presence goes on to
        recreate the room, and once the tombstone has expired (deleted on
        the way) the stanza is handled as if the room never existed."""
        creating = stanza.name == "presence" and stanza.getAttribute("type") is None
        lifted = self.app.pass_tombstone(room_jid, sender, creating)
        if getattr(type(lifted), "addCallback", None) is not None:
            return lifted.addCallback(lambda _: self._dispatch(stanza, sender, room_jid, nick))
        return self._dispatch(stanza, sender, room_jid, nick)

    def _refuse_later(self, failure, stanza, room_jid) -> None:
        failure.trap(MucError, Refusal)
        self._refuse(stanza, failure.value, room_jid)

    def _refuse(self, stanza, error, room_jid) -> None:
        if not wants_reply(stanza):
            return
        by = self.context.domain if isinstance(error, SERVICE_ERRORS) else room_jid
        self.context.send(refusal_reply(stanza, error, by=by))

    def _dispatch(self, stanza, sender, room_jid, nick):
        name = stanza.name
        if name != "iq" and stanza.getAttribute("type") not in ("unavailable", "error"):
            # One bucket per occupant and room: joining many rooms at once
            # (bookmarks) is not a flood; talking fast in one room may be.
            # Chat states and other body-less messages have their own.
            throttle = self.context.throttle
            if throttle.limited and not throttle.allow((sender, room_jid), self.context.now(),
                                                       is_signal(stanza)):
                if wants_reply(stanza):
                    self.context.send(overactive_reply(stanza, room_jid,
                                                       self.service.limits.max_chars))
                return None
        if name == "presence":
            return self.presence.handle(stanza, sender, room_jid, nick)
        room = self.service.room(room_jid)
        if room is None:
            if stanza.getAttribute("type") != "error":
                raise NoSuchRoom(None)
            return
        if name == "message":
            if nick is None:
                return self.messages.to_room(stanza, sender, room)
            return self.messages.to_occupant(stanza, sender, room, nick)
        if name == "iq":
            if nick is None:
                return self.iqs.to_room(stanza, sender, room)
            return self.iqs.to_occupant(stanza, sender, room, nick)
        return None

    # ---- discovery -----------------------------------------------------------------

    def disco_info(self, iq, sender, room, query) -> None:
        node = query.getAttribute("node")
        if node == "x-roomuser-item":
            self.context.send(iq_result(iq, self.register.disco_nick(iq, sender, room)))
            return
        if node:
            answer = self.info_nodes.get(node)
            content = answer(sender, room, node) if answer is not None else None
            if content is None:
                raise Refusal("item-not-found")
            self.context.send(iq_result(iq, element(
                "query", (("xmlns", namespaces.DISCO_INFO), ("node", node)), content)))
            return
        content = element("identity", (("category", "conference"), ("type", "text"),
                                       ("name", room_identity_name(room))))
        features = [namespaces.MUC, namespaces.MUC_STABLE_ID, namespaces.MUC_SELF_PING,
                    namespaces.MUC_REQUEST, namespaces.DISCO_INFO, namespaces.DISCO_ITEMS,
                    namespaces.OCCUPANT_ID, NS_REGISTER]
        features += [f for f in room.features() if f != namespaces.MUC]
        features += self.room_features
        if self.app.archives(room):
            features += [namespaces.MAM, namespaces.MAM_EXTENDED, namespaces.RETRACT_TOMBSTONE]
        content += "".join(element("feature", (("var", f),)) for f in features)
        content += roominfo_form(room).toElement().toXml()
        self.context.send(iq_result(iq, element("query", (("xmlns", namespaces.DISCO_INFO),),
                                                content)))

    def disco_items(self, iq, sender, room, query) -> None:
        # Prosody lists no occupants: their nicks are not everyone's business.
        node = query.getAttribute("node")
        answer = self.item_nodes.get(node) if node else None
        if answer is None:
            self.context.send(iq_result(iq, element("query", (("xmlns", namespaces.DISCO_ITEMS),))))
            return
        self.context.send(iq_result(iq, element(
            "query", (("xmlns", namespaces.DISCO_ITEMS), ("node", node)), answer(sender, room))))

    # ---- owner ---------------------------------------------------------------------

    def owner_get(self, iq, sender, room, query) -> None:
        if not may_configure(room.affiliation_of(sender)):
            raise Forbidden("Only owners can configure rooms")
        archiving = None
        if self.app.archive is not None and not self.service.limits.log_all_rooms:
            archiving = self.app.archives(room)
        form = build_config_form(room, sender, archiving=archiving).toElement().toXml()
        self.context.send(iq_result(iq, element("query", (("xmlns", namespaces.MUC_OWNER),), form)))

    def owner_set(self, iq, sender, room, query):
        first = None
        for first in query.elements():
            break
        if first is None:
            raise Refusal("bad-request", "modify")
        if first.name == "destroy" and first.uri == namespaces.MUC_OWNER:
            return self.destroy(iq, sender, room, first)
        if first.name == "x" and first.uri == namespaces.DATA_FORMS:
            return self.configure(iq, sender, room, first)
        raise Refusal("service-unavailable")

    def configure(self, iq, sender, room, form):
        if not may_configure(room.affiliation_of(sender)):
            raise Forbidden("Only owners can configure rooms")
        submission = parse_config_submission(form, room)
        if submission.cancelled:
            self.context.send(iq_result(iq))
            return None
        changes = submission.config_changes
        if "archiving" in changes and changes["archiving"] == self.app.archives(room):
            # The form showed the effective value: sent back, it changes nothing.
            del changes["archiving"]
        return self.app.configure(room, sender, changes,
                                  owners=submission.owners, admins=submission.admins,
                                  acknowledge=lambda: self.context.send(iq_result(iq)))

    def destroy(self, iq, sender, room, destroy):
        return self.app.destroy(room, sender, reason=_text_of(destroy, "reason"),
                                alternate_venue=destroy.getAttribute("jid"),
                                password=_text_of(destroy, "password"),
                                acknowledge=lambda: self.context.send(iq_result(iq)))


def _sender(stanza) -> str | None:
    frm = stanza.getAttribute("from")
    if not frm:
        return None
    try:
        return parse_jid(frm).full()
    except InvalidJID:
        return None


def _text_of(element_, name):
    for c in element_.elements():
        if c.name == name:
            return str(c)
    return None
