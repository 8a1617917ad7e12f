"""XEP-0313 (MAM, ``urn:xmpp:mam:2`` with ``#extended``) on a room's JID.

Three requests: the query form (``get`` of ``<query/>``), a query (``set``
of ``<query/>``: a form with ``start``/``end``/``with``/``before-id``/
``after-id``/``ids`` and XEP-0059 paging), and the archive's bounds
(``get`` of ``<metadata/>``).  A query answers with one ``<message/>`` per
result, then the IQ result with ``<fin/>``, as Prosody's mod_muc_mam does;
the result ids are the messages' live stanza ids.

``with`` takes an occupant JID (``room@service/nick``) and selects what
was sent under that nick; Prosody accepts the field but ignores it.
"""

from __future__ import annotations

from twisted.internet import defer

from mucsvc.jid import InvalidJID, parse_jid
from mucsvc.protocol import namespaces
from mucsvc.protocol.archive_render import result_message
from mucsvc.protocol.context import parse_xmpp_datetime, xmpp_datetime_us
from mucsvc.protocol.forms import form_all_values
from mucsvc.protocol.payloads import child
from mucsvc.protocol.refusal import Refusal
from mucsvc.protocol.replies import iq_result
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms import Role
from mucsvc.storage.archive import ArchiveItemNotFound, ArchiveQuery, seq_at, seq_of

#: Page size when the query names none (Prosody's).
DEFAULT_PAGE = 20

_FIELDS = (
    ("FORM_TYPE", "hidden"), ("with", "jid-single"), ("start", "text-single"),
    ("end", "text-single"), ("before-id", "text-single"), ("after-id", "text-single"),
    ("ids", "list-multi"),
)


def query_form() -> str:
    fields = []
    for var, kind in _FIELDS:
        attributes = [("var", var), ("type", kind)]
        content = text_element("value", namespaces.MAM) if var == "FORM_TYPE" else ""
        if var in ("start", "end"):
            content = element("validate", (("xmlns", "http://jabber.org/protocol/xdata-validate"),
                                           ("datatype", "xs:dateTime")))
        fields.append(element("field", tuple(attributes), content))
    return element("x", (("xmlns", namespaces.DATA_FORMS), ("type", "form")), "".join(fields))


class ArchiveHandler:
    """The MAM requests of rooms; ``max_results`` caps a page (Prosody's
    ``max_archive_query_results``)."""

    def __init__(self, context, max_results: int = 50):
        self.context = context
        self.max_results = max_results

    def form(self, iq, sender, room, query) -> None:
        self.context.send(iq_result(iq, element("query", (("xmlns", namespaces.MAM),),
                                                query_form())))

    def query(self, iq, sender, room, query):
        """The page, sent at once, or once an archive that answers later
        did (then a Deferred the room handler refuses on failure)."""
        request = self._parse(query, room)
        try:
            page = self.context.app.archive_query(room, sender, request)
        except ArchiveItemNotFound:
            raise Refusal("item-not-found", "modify") from None
        if isinstance(page, defer.Deferred):
            return page.addCallbacks(lambda page: self._send_page(iq, sender, room, query, page),
                                     _not_found)
        self._send_page(iq, sender, room, query, page)
        return None

    def _send_page(self, iq, sender, room, query, page) -> None:
        query_id = query.getAttribute("queryid")
        real_jid = not room.config.anonymous or _is_moderator(room, sender)
        messages = page.messages
        if child(query, namespaces.MAM, "flip-page") is not None:
            messages = list(reversed(messages))
        send = self.context.send
        if messages:
            send("".join(result_message(sender, room.jid, query_id, m, real_jid=real_jid)
                         for m in messages))
        rsm = ""
        if messages:
            rsm += text_element("first", messages[0].sid) + text_element("last", messages[-1].sid)
        if page.count is not None:
            rsm += text_element("count", str(page.count))
        fin_attrs = [("xmlns", namespaces.MAM)]
        if page.complete:
            fin_attrs.append(("complete", "true"))
        fin = element("fin", tuple(fin_attrs), element("set", (("xmlns", namespaces.RSM),), rsm))
        send(iq_result(iq, fin))

    def metadata(self, iq, sender, room, query):
        bounds = self.context.app.archive_bounds(room, sender)
        if isinstance(bounds, defer.Deferred):
            return bounds.addCallback(lambda bounds: self._send_metadata(iq, bounds))
        self._send_metadata(iq, bounds)
        return None

    def _send_metadata(self, iq, bounds) -> None:
        content = ""
        if bounds is not None:
            first, last = bounds
            content = (element("start", (("id", first.sid), ("timestamp", xmpp_datetime_us(first.seq))))
                       + element("end", (("id", last.sid), ("timestamp", xmpp_datetime_us(last.seq)))))
        self.context.send(iq_result(iq, element("metadata", (("xmlns", namespaces.MAM),), content)))

    # ---- reading the request -------------------------------------------------------

    def _parse(self, query, room) -> ArchiveQuery:
        # The total is always given, as Prosody does (clients show progress).
        request = ArchiveQuery(max=min(DEFAULT_PAGE, self.max_results), count=True)
        form = child(query, namespaces.DATA_FORMS, "x")
        if form is not None:
            values = form_all_values(form)
            form_type = (values.get("FORM_TYPE") or [None])[0]
            if form_type != namespaces.MAM:
                raise Refusal("bad-request", "modify",
                              f"Unexpected FORM_TYPE, expected '{namespaces.MAM}'")
            _read_form(request, values, room)
        rsm = child(query, namespaces.RSM, "set")
        if rsm is not None:
            self._read_rsm(request, rsm)
        return request

    def _read_rsm(self, request, rsm) -> None:
        for part in rsm.elements(namespaces.RSM):
            text = str(part).strip()
            if part.name == "max":
                if not text.isdigit() or not text.isascii():
                    raise Refusal("bad-request", "modify", "max must be a non-negative number")
                request.max = min(int(text), self.max_results)
            elif part.name == "after":
                request.after = _existing_id(text)
            elif part.name == "before":
                if text:
                    request.before = _existing_id(text)
                request.last = True


def _read_form(request, values: dict, room) -> None:
    def single(var):
        found = values.get(var)
        return found[0].strip() if found else None

    start, end = single("start"), single("end")
    if start:
        request.start = seq_at(_datetime(start, "start"))
    if end:
        stamp = _datetime(end, "end")
        # A time given in whole seconds stands for all of that second (what
        # a client shows as 12:00:00); one with a fraction is exact.
        request.end = seq_at(stamp) if "." in end else seq_at(stamp + 1) - 1
    before, after = single("before-id"), single("after-id")
    if before:
        request.before = _existing_id(before)
    if after:
        request.after = _existing_id(after)
    ids = values.get("ids")
    if ids:
        request.ids = tuple(seq for seq in (seq_of(i.strip()) for i in ids) if seq is not None)
    with_ = single("with")
    if with_:
        try:
            jid = parse_jid(with_)
        except InvalidJID:
            raise Refusal("bad-request", "modify", "with must be a JID") from None
        if jid.userhost() != room.jid or not jid.resource:
            raise Refusal("bad-request", "modify", "with must be an occupant of this room")
        request.nick = jid.resource


def _datetime(text: str, var: str) -> float:
    stamp = parse_xmpp_datetime(text)
    if stamp is None:
        raise Refusal("bad-request", "modify", f"{var} must be an XEP-0082 date-time")
    return stamp


def _existing_id(text: str) -> int:
    """An id a page starts from: it must name a message, else item-not-found."""
    seq = seq_of(text)
    if seq is None:
        raise Refusal("item-not-found", "modify")
    return seq


def _not_found(failure):
    failure.trap(ArchiveItemNotFound)
    raise Refusal("item-not-found", "modify")


def _is_moderator(room, sender: str) -> bool:
    occupant = room.occupant_by_jid(sender)
    return occupant is not None and occupant.role is Role.MODERATOR
