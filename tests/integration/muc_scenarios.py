"""Building blocks for tests of rooms through a real Prosody.

Clients are :class:`~tests.integration.xmpp_client.XmppClient`; rooms are
``name@service`` and occupants ``name@service/Nick``. The helpers here
create and enter rooms the way a client does (XEP-0045 §7.2, §10.1.2),
administer them (§9, §10), read the MUC parts of what comes back, and call
the service's hats API.
"""

from __future__ import annotations

import asyncio
import json
from xml.etree import ElementTree as ET

import slixmpp

from tests.integration.stanzas import (
    CLIENT_NS,
    DISCO_INFO_NS,
    MUC_USER_NS,
    STANZA_ERROR_NS,
    describe,
    status_codes,
)
from tests.integration.xmpp_client import StanzaErrorReply

MUC_OWNER_NS = "http://jabber.org/protocol/muc#owner"
MUC_ADMIN_NS = "http://jabber.org/protocol/muc#admin"
HATS_NS = "urn:xmpp:hats:0"
DATA_FORMS_NS = "jabber:x:data"
DELAY_NS = "urn:xmpp:delay"
DISCO_ITEMS_NS = "http://jabber.org/protocol/disco#items"
PING_NS = "urn:xmpp:ping"
VERSION_NS = "jabber:iq:version"
VCARD_NS = "vcard-temp"
ROOMCONFIG_FORM = "http://jabber.org/protocol/muc#roomconfig"
ROOMINFO_FORM = "http://jabber.org/protocol/muc#roominfo"

INSTANT_ROOM = f"<query xmlns='{MUC_OWNER_NS}'><x xmlns='{DATA_FORMS_NS}' type='submit'/></query>"


def room_jid(service: str, name: str) -> str:
    return f"{name}@{service}"


def occupant(room: str, nick: str) -> str:
    return f"{room}/{nick}"


def bare(jid: str | None) -> str:
    return str(slixmpp.JID(jid or "").bare)


def config_submission(fields: dict[str, str]) -> ET.Element:
    """A ``muc#owner`` query submitting the room configuration ``fields``."""
    query = ET.Element(f"{{{MUC_OWNER_NS}}}query")
    form = ET.SubElement(query, f"{{{DATA_FORMS_NS}}}x", type="submit")
    for var, value in {"FORM_TYPE": ROOMCONFIG_FORM, **fields}.items():
        field = ET.SubElement(form, f"{{{DATA_FORMS_NS}}}field", var=var)
        ET.SubElement(field, f"{{{DATA_FORMS_NS}}}value").text = value
    return query


def owner_query() -> ET.Element:
    return ET.Element(f"{{{MUC_OWNER_NS}}}query")


def destroy_request(reason: str | None = None, venue: str | None = None) -> ET.Element:
    """A ``muc#owner`` destroy, with the reason and the alternate venue's JID."""
    query = ET.Element(f"{{{MUC_OWNER_NS}}}query")
    destroy = ET.SubElement(query, f"{{{MUC_OWNER_NS}}}destroy", {"jid": venue} if venue else {})
    if reason is not None:
        ET.SubElement(destroy, f"{{{MUC_OWNER_NS}}}reason").text = reason
    return query


def admin_item(**attributes) -> ET.Element:
    """A ``muc#admin`` query with one item; ``reason=`` becomes its child."""
    reason = attributes.pop("reason", None)
    query = ET.Element(f"{{{MUC_ADMIN_NS}}}query")
    item = ET.SubElement(query, f"{{{MUC_ADMIN_NS}}}item", attributes)
    if reason is not None:
        ET.SubElement(item, f"{{{MUC_ADMIN_NS}}}reason").text = reason
    return query


# ---- reading stanzas ---------------------------------------------------------


def muc_items(stanza) -> list[dict[str, str]]:
    """Attributes of every ``muc#user`` item, in order."""
    return [
        dict(item.attrib)
        for item in stanza.xml.iterfind(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item")
    ]


def status_code_list(stanza) -> list[int]:
    """The MUC status codes in document order (``status_codes`` gives a set)."""
    return [
        int(status.get("code"))
        for status in stanza.xml.iterfind(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}status")
    ]


def admin_items(reply) -> list[dict[str, str]]:
    """The items of a ``muc#admin`` list reply."""
    return [dict(item.attrib) for item in reply.xml.iter(f"{{{MUC_ADMIN_NS}}}item")]


def owner_form(reply) -> dict[str, list[str]]:
    """``var`` -> values of the configuration form in a ``muc#owner`` reply."""
    form = reply.xml.find(f"{{{MUC_OWNER_NS}}}query/{{{DATA_FORMS_NS}}}x")
    assert form is not None, describe(reply)
    return {
        field.get("var"): [value.text or "" for value in field.iterfind(f"{{{DATA_FORMS_NS}}}value")]
        for field in form.iter(f"{{{DATA_FORMS_NS}}}field")
        if field.get("var")
    }


def hats_of(stanza) -> list[tuple[str, str | None]] | None:
    """``[(uri, title)]`` of the presence's hats element; None without one."""
    element = stanza.xml.find(f"{{{HATS_NS}}}hats")
    if element is None:
        return None
    return [(hat.get("uri"), hat.get("title")) for hat in element.iterfind(f"{{{HATS_NS}}}hat")]


def subject_of(stanza) -> str | None:
    """The ``<subject/>`` text of a message ('' when empty), None without one."""
    subject = stanza.xml.find(f"{{{CLIENT_NS}}}subject")
    if subject is None:
        return None
    return subject.text or ""


def body_of(stanza) -> str | None:
    return stanza.xml.findtext(f"{{{CLIENT_NS}}}body")


def is_subject_message(stanza) -> bool:
    return (
        stanza.xml.tag == f"{{{CLIENT_NS}}}message"
        and subject_of(stanza) is not None
        and body_of(stanza) is None
    )


def delay_of(stanza) -> ET.Element | None:
    return stanza.xml.find(f"{{{DELAY_NS}}}delay")


def error_by(stanza) -> str | None:
    error = stanza.xml.find(f"{{{CLIENT_NS}}}error")
    return error.get("by") if error is not None else None


def error_text(stanza) -> str | None:
    return stanza.xml.findtext(f"{{{CLIENT_NS}}}error/{{{STANZA_ERROR_NS}}}text")


def gone_uri(stanza) -> str | None:
    """The text of a ``gone`` error's condition: where to go instead."""
    return stanza.xml.findtext(f"{{{CLIENT_NS}}}error/{{{STANZA_ERROR_NS}}}gone")


def from_room(room: str):
    """Predicate: the stanza comes from ``room`` or one of its occupants."""
    wanted = bare(room)
    return lambda stanza: bare(stanza.xml.get("from")) == wanted


def room_traffic(client, room: str) -> list:
    """Every message and presence ``client`` received from ``room``, in arrival order."""
    return [
        stanza
        for stanza in client.received
        if from_room(room)(stanza) and stanza.xml.tag != f"{{{CLIENT_NS}}}iq"
    ]


def unclaimed_from(client, room):
    """What ``room`` sent ``client`` that no test step took, answers to our
    own IQs (e.g. ``sync``) left out."""

    def unexpected(stanza):
        answer = stanza.xml.tag == f"{{{CLIENT_NS}}}iq" and stanza.xml.get("type") in ("result", "error")
        return from_room(room)(stanza) and not answer

    return client.unclaimed(unexpected)


def summary(stanzas) -> str:
    return "\n".join(f"  {describe(stanza)}" for stanza in stanzas) or "  (none)"


# ---- conversations -------------------------------------------------------------


async def create_room(client, room: str, nick: str, *, instant: bool = True):
    """Create ``room`` as ``nick``; return the creator's own presence.

    Waits for the self-presence (201 and 110) and the empty subject; with
    ``instant`` the default configuration is then accepted, which unlocks
    the room.
    """
    me = occupant(room, nick)
    client.join(me)
    presence = await client.expect_self_presence(me, None)
    assert 201 in status_codes(presence), f"not a new room:\n{describe(presence)}"
    await client.expect_message(frm=room, type="groupchat", where=is_subject_message)
    if instant:
        await client.request(room, INSTANT_ROOM, type="set")
    return presence


async def enter(client, room: str, nick: str, *, max_history: int | None = None):
    """Join ``room`` as ``nick`` and wait for the self-presence and the subject,
    the last stanza of a join; return the self-presence."""
    me = occupant(room, nick)
    client.join(me, max_history=max_history)
    presence = await client.expect_self_presence(me, None)
    await client.expect_message(type="groupchat", where=lambda s: from_room(room)(s) and is_subject_message(s))
    return presence


async def settle(room: str, *clients) -> None:
    """Round-trip through ``room`` for each client: whatever the room sent them
    before has arrived."""
    for client in clients:
        await client.sync(room)


async def quiet(room: str, *clients) -> None:
    """Round-trip through ``room``, then nothing from it may be left unread."""
    await settle(room, *clients)
    for client in clients:
        assert unclaimed_from(client, room) == [], f"{client.jid}:\n{summary(unclaimed_from(client, room))}"


async def drain(room: str, *clients) -> None:
    """Round-trip through ``room`` and drop what arrived so far (presence bursts)."""
    await settle(room, *clients)
    for client in clients:
        client.forget_unclaimed()


async def join_and_read(client, room: str, nick: str):
    """Join (see :func:`enter`); return the self-presence and, in order, the
    room's messages up to the subject, the last of a join (the history
    comes before it)."""
    before = len(client.received)
    presence = await enter(client, room, nick)
    traffic = [s for s in client.received[before:] if from_room(room)(s) and s.xml.tag.endswith("message")]
    return presence, traffic


async def affiliation_list(client, room: str, affiliation: str) -> list[dict[str, str]]:
    """The items of ``room``'s list of ``affiliation`` (owner, admin, member, outcast)."""
    return admin_items(await client.request(room, admin_item(affiliation=affiliation)))


async def affiliations_of(client, room: str, *affiliations: str) -> dict[str, list[dict[str, str]]]:
    """``affiliation`` -> :func:`affiliation_list` for each of ``affiliations``."""
    return {affiliation: await affiliation_list(client, room, affiliation) for affiliation in affiliations}


async def room_name(client, room: str) -> str | None:
    """The name in ``room``'s disco#info identity; None without one."""
    info = await client.disco_info(room)
    identity = info.xml.find(f"{{{DISCO_INFO_NS}}}query/{{{DISCO_INFO_NS}}}identity")
    return identity.get("name") if identity is not None else None


async def assert_gone(client, room: str, outlived: str) -> None:
    """``room`` no longer exists: its disco#info gets ``item-not-found``.
    ``outlived`` names what it should not have survived, for the failure
    message."""
    try:
        info = await client.disco_info(room)
    except StanzaErrorReply as refusal:
        assert refusal.condition == "item-not-found", describe(refusal.iq)
    else:
        raise AssertionError(f"{room} outlived {outlived}:\n{describe(info)}")


# ---- the hats API (XEP-0317 over HTTP) ------------------------------------------------


async def hats_api(service, method: str, path: str, document=None) -> tuple[int, dict]:
    """One request to the hats API of ``service`` (a ``MucProcess``), with the
    authorization header it was configured with, off the event loop
    (urllib blocks)."""
    authorization = service.settings["http_muc_hats_authorization_header"]
    code, body = await asyncio.to_thread(service.http, method, path, json_body=document,
                                         headers={"Authorization": authorization})
    return code, json.loads(body)
