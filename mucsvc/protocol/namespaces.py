"""XML namespaces the MUC speaks, in one place."""

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"
MUC_REQUEST = "http://jabber.org/protocol/muc#request"
MUC_STABLE_ID = "http://jabber.org/protocol/muc#stable_id"
MUC_SELF_PING = "http://jabber.org/protocol/muc#self-ping-optimization"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DATA_FORMS = "jabber:x:data"
DELAY = "urn:xmpp:delay"
LEGACY_DELAY = "jabber:x:delay"
OCCUPANT_ID = "urn:xmpp:occupant-id:0"
PING = "urn:xmpp:ping"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
HINTS = "urn:xmpp:hints"
HATS = "urn:xmpp:hats:0"
LEGACY_HATS = "xmpp:prosody.im/protocol/hats:1"
XML = "http://www.w3.org/XML/1998/namespace"
CLIENT = "jabber:client"
MAM = "urn:xmpp:mam:2"
MAM_EXTENDED = "urn:xmpp:mam:2#extended"
RSM = "http://jabber.org/protocol/rsm"
FORWARD = "urn:xmpp:forward:0"

#: Elements in these namespaces belong to the service: a client's copy is
#: dropped from what it sends, so nobody can spoof status codes, real JIDs,
#: occupant ids or hats.
STANZA_ID = "urn:xmpp:sid:0"
SERVICE_OWNED = frozenset({MUC, MUC_USER, OCCUPANT_ID, HATS, LEGACY_HATS})

# Retraction: by a message's author (XEP-0424) and by moderators (XEP-0425),
# each in its current version and the one older clients still speak.
FASTEN = "urn:xmpp:fasten:0"
RETRACT_0 = "urn:xmpp:message-retract:0"
RETRACT_1 = "urn:xmpp:message-retract:1"
RETRACT_TOMBSTONE = "urn:xmpp:message-retract:1#tombstone"
MODERATE_0 = "urn:xmpp:message-moderate:0"
MODERATE_1 = "urn:xmpp:message-moderate:1"
DIRECT_INVITATION = "jabber:x:conference"  # XEP-0249

# Room avatars (XEP-0486): the room's vCard (XEP-0054) and the hash of its
# photo in presence (XEP-0153).
VCARD = "vcard-temp"
VCARD_UPDATE = "vcard-temp:x:update"
