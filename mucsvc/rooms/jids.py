"""The few JID string manipulations the domain needs.

JIDs reach the domain already parsed and normalised by the protocol layer,
so these are plain string splits, kept in one place.
"""


def bare(jid: str) -> str:
    """``user@host/res`` -> ``user@host`` (a bare JID is returned unchanged)."""
    slash = jid.find("/")
    return jid if slash < 0 else jid[:slash]


def domain(jid: str) -> str:
    """The host part of a JID (used for whole-server bans)."""
    jid = bare(jid)
    at = jid.find("@")
    return jid if at < 0 else jid[at + 1:]


def resource(jid: str) -> str | None:
    slash = jid.find("/")
    return None if slash < 0 else jid[slash + 1:]
