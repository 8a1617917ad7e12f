"""Building blocks for tests of rooms through a real Prosody.

Clients are :class:`~tests.integration.xmpp_client.XmppClient`; rooms are
``name@service`` and occupants ``name@service/Nick``. The helpers here
create and enter rooms the way a client does (XEP-0045 §7.2, §10.1.2) and
read the MUC parts of what comes back.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

import slixmpp

from tests.integration.stanzas import CLIENT_NS, MUC_USER_NS, STANZA_ERROR_NS, describe, status_codes

MUC_OWNER_NS = "http://jabber.org/protocol/muc#owner"
DATA_FORMS_NS = "jabber:x:data"
DELAY_NS = "urn:xmpp:delay"
DISCO_ITEMS_NS = "http://jabber.org/protocol/disco#items"
PING_NS = "urn:xmpp:ping"
VERSION_NS = "jabber:iq:version"
VCARD_NS = "vcard-temp"
ROOMCONFIG_FORM = "http://jabber.org/protocol/muc#roomconfig"
ROOMINFO_FORM = "http://jabber.org/protocol/muc#roominfo"

INSTANT_ROOM = f"<query xmlns='{MUC_OWNER_NS}'><x xmlns='{DATA_FORMS_NS}' type='submit'/></query>"


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


def destroy_request(reason: str | None = None) -> ET.Element:
    query = ET.Element(f"{{{MUC_OWNER_NS}}}query")
    destroy = ET.SubElement(query, f"{{{MUC_OWNER_NS}}}destroy")
    if reason is not None:
        ET.SubElement(destroy, f"{{{MUC_OWNER_NS}}}reason").text = reason
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
