"""Building blocks for tests of a room's archive through a real Prosody.

The room archive is reached the way clients reach it: stanza ids on the
messages a room reflects (XEP-0359), Message Archive Management queries to
the room's JID (XEP-0313), moderation (XEP-0425) and self-retraction
(XEP-0424). Clients carry slixmpp's plugins for those (``ARCHIVE_PLUGINS``);
where a plugin cannot say what a test must send (the ``urn:xmpp:fasten:0``
form of moderation that Prosody's mod_muc_moderation speaks), the stanza is
written out.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import StanzaBase

from tests.integration.muc_scenarios import DELAY_NS
from tests.integration.stanzas import CLIENT_NS, MUC_USER_NS, describe
from tests.integration.xmpp_client import DEFAULT_TIMEOUT, StanzaErrorReply, StanzaTimeout

ARCHIVE_PLUGINS = ("xep_0359", "xep_0313", "xep_0424", "xep_0425")

SID_NS = "urn:xmpp:sid:0"
MAM_NS = "urn:xmpp:mam:2"
MAM_EXTENDED_NS = "urn:xmpp:mam:2#extended"
RSM_NS = "http://jabber.org/protocol/rsm"
FORWARD_NS = "urn:xmpp:forward:0"
FASTEN_NS = "urn:xmpp:fasten:0"
MODERATE_0_NS = "urn:xmpp:message-moderate:0"
RETRACT_0_NS = "urn:xmpp:message-retract:0"
RETRACT_1_NS = "urn:xmpp:message-retract:1"


# ---- stanza ids ----------------------------------------------------------------


def stanza_ids(stanza) -> list[tuple[str | None, str | None]]:
    """``(by, id)`` of every ``<stanza-id xmlns='urn:xmpp:sid:0'/>``, in order.

    Read from the XML: slixmpp's ``stanza['stanza_id']`` shows only the
    first one, and a forged one may come first.
    """
    return [
        (element.get("by"), element.get("id"))
        for element in stanza.xml.iterfind(f"{{{SID_NS}}}stanza-id")
    ]


def stanza_ids_by(stanza, room: str) -> list[str | None]:
    """The ids of the stanza-ids whose ``by`` is ``room`` (compared as JIDs)."""
    return [id_ for by, id_ in stanza_ids(stanza) if slixmpp.JID(by or "") == slixmpp.JID(room)]


def room_stanza_id(stanza, room: str) -> str:
    """The id of the single stanza-id ``room`` put on ``stanza``; fails when
    there is none or more than one."""
    ids = stanza_ids_by(stanza, room)
    assert len(ids) == 1 and ids[0], f"expected one stanza-id by {room}:\n{describe(stanza)}"
    return ids[0]


# ---- MAM ---------------------------------------------------------------------------


@dataclasses.dataclass
class ArchivePage:
    """One answer to a MAM query: the result messages in arrival order and the
    IQ that ended it (``<fin/>``)."""

    results: list[StanzaBase]
    fin_iq: StanzaBase

    @property
    def fin(self) -> ET.Element:
        fin = self.fin_iq.xml.find(f"{{{MAM_NS}}}fin")
        assert fin is not None, describe(self.fin_iq)
        return fin

    @property
    def complete(self) -> bool:
        return self.fin.get("complete") == "true"

    def rsm(self, name: str) -> str | None:
        """The text of ``<first/>``, ``<last/>`` or ``<count/>`` in the fin's RSM set."""
        return self.fin.findtext(f"{{{RSM_NS}}}set/{{{RSM_NS}}}{name}")

    @property
    def ids(self) -> list[str]:
        """The archive ids of the results (``<result id=.../>``), in order."""
        return [result["mam_result"]["id"] for result in self.results]

    @property
    def messages(self) -> list[ET.Element]:
        """The archived messages the results forward, in order."""
        return [archived_message(result) for result in self.results]

    @property
    def bodies(self) -> list[str | None]:
        return [message.findtext(f"{{{CLIENT_NS}}}body") for message in self.messages]

    def describe(self) -> str:
        return "\n".join(f"  {describe(stanza)}" for stanza in [*self.results, self.fin_iq])


def archived_message(result) -> ET.Element:
    """The ``<message/>`` forwarded in a MAM ``<result/>`` message."""
    message = result.xml.find(f"{{{MAM_NS}}}result/{{{FORWARD_NS}}}forwarded/{{{CLIENT_NS}}}message")
    assert message is not None, describe(result)
    return message


def archived_delay(result) -> ET.Element | None:
    """The ``<delay/>`` of a MAM result's ``<forwarded/>``."""
    return result.xml.find(f"{{{MAM_NS}}}result/{{{FORWARD_NS}}}forwarded/{{{DELAY_NS}}}delay")


def real_jids(message: ET.Element) -> list[str]:
    """The ``jid`` of every muc#user item in an archived message."""
    return [
        item.get("jid")
        for item in message.iterfind(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")
        if item.get("jid") is not None
    ]


def _query_iq(client, room: str, *, start, end, max_, after, before):
    """A MAM query IQ built with slixmpp's XEP-0313 and XEP-0059 stanzas.

    ``before=""`` asks for the last page (an empty ``<before/>``), which the
    plugin's ``retrieve`` cannot express: it stringifies every RSM value.
    """
    iq = client.xmpp.make_iq_set(ito=room)
    iq["mam"]["queryid"] = iq["id"]
    if start is not None:
        iq["mam"]["start"] = start
    if end is not None:
        iq["mam"]["end"] = end
    rsm = iq["mam"]["rsm"]
    if max_ is not None:
        rsm["max"] = str(max_)
    if after is not None:
        rsm["after"] = after
    if before is not None:
        rsm["before"] = True if before == "" else before
    if not rsm.xml.findall("*"):
        iq["mam"].xml.remove(rsm.xml)
    return iq


async def archive_query(
    client,
    room: str,
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    max: int | None = None,  # noqa: A002  (the RSM element's name)
    after: str | None = None,
    before: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ArchivePage:
    """Query ``room``'s archive; an error reply raises :class:`StanzaErrorReply`.

    The result messages are claimed from what ``client`` received (they come
    before the final IQ on the same stream).
    """
    iq = _query_iq(client, room, start=start, end=end, max_=max, after=after, before=before)
    query_id = iq["id"]
    try:
        reply = await iq.send(timeout=timeout)
    except IqError as error:
        raise StanzaErrorReply(error.iq) from None
    except IqTimeout:
        raise StanzaTimeout(f"{client.jid}: no answer within {timeout:g}s to\n{describe(iq)}") from None

    def is_result(stanza) -> bool:
        result = stanza.xml.find(f"{{{MAM_NS}}}result")
        return (
            stanza.xml.tag == f"{{{CLIENT_NS}}}message"
            and result is not None
            and result.get("queryid") == query_id
        )

    results = client.take(is_result)
    client.take(lambda stanza: stanza is reply)
    return ArchivePage(results, reply)


async def archive_refusal(client, room: str, **query) -> StanzaBase:
    """Send a MAM query that must be refused; return the error IQ."""
    try:
        page = await archive_query(client, room, **query)
    except StanzaErrorReply as refusal:
        client.take(lambda stanza: stanza is refusal.iq)
        return refusal.iq
    raise AssertionError(f"expected the archive query to be refused, got:\n{page.describe()}")


async def whole_archive(client, room: str) -> ArchivePage:
    """One query for all of a (small) archive; it must say it is complete."""
    page = await archive_query(client, room)
    assert page.complete, page.describe()
    return page


async def query_fields(client, room: str) -> dict[str, dict[str, str | None]]:
    """``var`` -> ``{"type": ..., "value": ...}`` of the room's MAM query form
    (``iq get`` of an empty ``<query xmlns='urn:xmpp:mam:2'/>``), through the
    plugin's ``get_fields``; an error reply raises :class:`StanzaErrorReply`."""
    try:
        form = await client.xmpp.plugin["xep_0313"].get_fields(jid=slixmpp.JID(room), timeout=DEFAULT_TIMEOUT)
    except IqError as error:
        raise StanzaErrorReply(error.iq) from None
    return {
        var: {"type": field["type"], "value": field.xml.findtext("{jabber:x:data}value")}
        for var, field in form.get_fields().items()
    }


# ---- conversation ------------------------------------------------------------------


async def say(sender, room: str, nick: str, text: str, *readers) -> str:
    """``sender`` says ``text`` in ``room`` as ``nick``; wait until the sender
    and each of ``readers`` got it, and return the room's stanza-id of it,
    the same for all of them."""
    sender.send_message(room, text)
    ids = set()
    for client in (sender, *readers):
        message = await client.expect_message(frm=f"{room}/{nick}", type="groupchat", body=text)
        ids.add(room_stanza_id(message, room))
    assert len(ids) == 1, f"{text!r} reached its readers with different stanza-ids: {sorted(ids)}"
    return ids.pop()


# ---- moderation: XEP-0425 v0.2, as mod_muc_moderation speaks it ----------------


def moderation_request(stanza_id: str, reason: str | None = None) -> ET.Element:
    """``<apply-to xmlns='urn:xmpp:fasten:0' id=...><moderate xmlns=
    'urn:xmpp:message-moderate:0'><retract xmlns='urn:xmpp:message-retract:0'/>
    <reason/></moderate></apply-to>``, the payload of the moderator's ``iq set``
    to the room (XEP-0425 v0.2; slixmpp's plugin sends v0.3, ``:1``)."""
    apply_to = ET.Element(f"{{{FASTEN_NS}}}apply-to", id=stanza_id)
    moderate = ET.SubElement(apply_to, f"{{{MODERATE_0_NS}}}moderate")
    ET.SubElement(moderate, f"{{{RETRACT_0_NS}}}retract")
    if reason is not None:
        ET.SubElement(moderate, f"{{{MODERATE_0_NS}}}reason").text = reason
    return apply_to


def moderated_of(message: ET.Element) -> ET.Element | None:
    """The ``<moderated xmlns='urn:xmpp:message-moderate:0'/>`` of an
    announcement (under ``<apply-to/>``) or of a tombstone (a direct child)."""
    announced = message.find(f"{{{FASTEN_NS}}}apply-to/{{{MODERATE_0_NS}}}moderated")
    return announced if announced is not None else message.find(f"{{{MODERATE_0_NS}}}moderated")


def is_retraction_announcement(stanza_id: str):
    """Predicate: the room's message that announces the moderation of ``stanza_id``."""

    def matches(stanza) -> bool:
        apply_to = stanza.xml.find(f"{{{FASTEN_NS}}}apply-to")
        return apply_to is not None and apply_to.get("id") == stanza_id

    return matches

