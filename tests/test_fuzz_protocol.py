"""Generated stanzas against the protocol handlers (property-based).

Whatever arrives, no exception escapes a handler (the router would log it),
every IQ get/set from a real sender is answered (or relayed) exactly once,
stanzas without a valid sender get nothing back, every error carries exactly
one defined condition, and the rooms stay consistent after every stanza.
"""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher
from twisted.words.xish import domish

from mucsvc.muc import MUCService
from mucsvc.rooms import Role
from tests.helpers import SERVICE, Wire, stanzas_in

USERS = ["romeo@example.org/a", "juliet@example.org/b", "juliet@example.org/c",
         "admin@example.org/x", "nurse@example.net/k"]
ROOMS = [f"garden@{SERVICE}", f"tomb@{SERVICE}"]
NAMESPACES = [
    "http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#user",
    "http://jabber.org/protocol/muc#admin", "http://jabber.org/protocol/muc#owner",
    "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
    "jabber:x:data", "jabber:iq:register", "urn:xmpp:ping", "jabber:iq:version",
    "http://jabber.org/protocol/commands", "urn:xmpp:occupant-id:0", "urn:xmpp:delay",
    "vcard-temp", "vcard-temp:x:update", "urn:example:unknown", None,
]
NAMES = ["x", "query", "item", "destroy", "invite", "decline", "field", "value", "history",
         "password", "reason", "body", "subject", "status", "show", "ping", "command",
         "remove", "error", "service-unavailable", "thread", "delay", "actor", "occupant-id",
         "vCard", "PHOTO", "TYPE", "BINVAL", "EXTVAL", "photo"]
ATTRS = ["type", "var", "nick", "jid", "role", "affiliation", "node", "to", "code", "maxstanzas",
         "maxchars", "seconds", "since", "id", "action"]
VALUES = ["", "none", "member", "owner", "admin", "outcast", "moderator", "participant",
          "visitor", "submit", "form", "cancel", "result", "get", "set", "1", "0", "-5", "x" * 3000,
          "romeo@example.org", "a@b/c", "bad@@jid", "a@.b", "a@b..c", "@example.org",
          "romeo@example.org.", "romeo@example.org/", "\U0001F916", "FORM_TYPE", "romeo", "juliet",
          "http://jabber.org/protocol/muc#roomconfig", "muc#roomconfig_membersonly",
          "muc#roomconfig_persistentroom", "2000-01-01T00:00:00Z", "nonsense-date",
          "9" * 5000, "-" + "9" * 30, "image/png", "iVBORw0KGgo=", "R0lGODlh", "===="]

#: Malformed senders (empty labels, localparts, resources): never answered.
INVALID_SENDERS = ["not a jid@@", "a@.b", "r@b..c/x", "@example.org", "r@example.org/"]

text = st.text(alphabet=string.ascii_letters + " &<>'\"\u00e9\U0001F916", max_size=30)
value = st.one_of(st.sampled_from(VALUES), text)


@st.composite
def elements(draw, depth=0):
    name = draw(st.sampled_from(NAMES))
    uri = draw(st.sampled_from(NAMESPACES))
    element = domish.Element((uri, name))
    for attr in draw(st.lists(st.sampled_from(ATTRS), max_size=3, unique=True)):
        element[attr] = draw(value)
    if draw(st.booleans()):
        element.addContent(draw(value))
    if depth < 3:
        for child in draw(st.lists(elements(depth + 1), max_size=3)):
            element.addChild(child)
    if depth == 0 and draw(st.integers(0, 9)) == 0:
        # Sometimes a chain hundreds to thousands of levels deep.
        inner = element
        for _ in range(draw(st.integers(100, 2500))):
            inner = inner.addElement((uri, "n"))
    return element


@st.composite
def stanzas(draw):
    name = draw(st.sampled_from(["presence", "message", "iq", "iq", "presence"]))
    stanza = domish.Element(("jabber:client", name))
    kind = draw(st.sampled_from([None, "get", "set", "result", "error", "groupchat", "chat",
                                 "normal", "unavailable", "probe", "subscribe", "bogus"]))
    if kind is not None:
        stanza["type"] = kind
    room = draw(st.sampled_from(ROOMS))
    stanza["to"] = draw(st.sampled_from([
        room, f"{room}/romeo", f"{room}/juliet", f"{room}/\U0001F916", f"{room}/",
        SERVICE, f"{SERVICE}/res", "other.example.org", "bad@@to", "", f"{room}/ ", "x@.example.org",
        f"{room}.", "@" + SERVICE, f"{room}/a/b"]))
    sender = draw(st.sampled_from(USERS + ["", "example.org"] + INVALID_SENDERS))
    if sender:
        stanza["from"] = sender
    if draw(st.booleans()):
        stanza["id"] = draw(st.sampled_from(["a", "b", "", "x" * 200]))
    for child in draw(st.lists(elements(), max_size=4)):
        stanza.addChild(child)
    return stanza


JOINS = [
    f"<presence xmlns='jabber:client' from='{USERS[0]}' to='{ROOMS[0]}/romeo'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
    f"<iq xmlns='jabber:client' type='set' id='i' from='{USERS[0]}' to='{ROOMS[0]}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>",
    f"<presence xmlns='jabber:client' from='{USERS[1]}' to='{ROOMS[0]}/juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
]


def check_rooms(muc):
    """The invariants every room keeps, whatever happened."""
    for room in muc.rooms.rooms():
        by_jid = room._by_jid
        seen = set()
        for nick, occupant in room._by_nick.items():
            assert occupant.nick == nick
            assert occupant.sessions, f"{nick} has no session"
            assert occupant.role is not Role.NONE
            for session in occupant.sessions:
                assert by_jid.get(session) is occupant
                seen.add(session)
        assert seen == set(by_jid)
        if room.is_empty and not room.config.persistent:
            assert False, f"empty temporary room {room.jid} kept"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stanzas(), min_size=1, max_size=12))
def test_generated_stanzas_never_break_the_service(generated):
    failures = []

    def observe(event):
        if event.get("log_failure") is not None or event.get("isError"):
            failures.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        sent = []
        muc = MUCService(SERVICE, sent.append, Clock(), admins=["admin@example.org"])
        wire = Wire(rooms=muc.handler)
        for xml in JOINS:
            wire.receive(xml)
        wire.take()
        del sent[:]
        for stanza in generated:
            wire.manager.stub.send(stanza)
            out = stanzas_in(sent + wire.take())
            del sent[:]
            for reply in out:
                if reply.getAttribute("type") == "error":
                    error = next(e for e in reply.elements() if e.name == "error")
                    conditions = [c.name for c in error.elements()
                                  if c.uri == "urn:ietf:params:xml:ns:xmpp-stanzas" and c.name != "text"]
                    assert len(conditions) == 1, reply.toXml()
            if stanza.getAttribute("from") in [None] + INVALID_SENDERS:
                # Nobody to answer (the host server never routes such a stanza).
                assert out == [], (stanza.toXml(), [r.toXml() for r in out])
            elif stanza.name == "iq" and stanza.getAttribute("type") in ("get", "set"):
                answers = [r for r in out if r.name == "iq" and r.getAttribute("id") == stanza.getAttribute("id")
                           and r.getAttribute("type") in ("result", "error")
                           and r.getAttribute("to") == stanza.getAttribute("from")]
                relayed = [r for r in out if r.name == "iq" and r.getAttribute("type") in ("get", "set")]
                assert len(answers) + len(relayed) == 1, (stanza.toXml(), [r.toXml() for r in out])
            check_rooms(muc)
    finally:
        globalLogPublisher.removeObserver(observe)
    assert not failures, failures[0]
