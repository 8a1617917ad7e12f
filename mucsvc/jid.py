"""The one JID parser: every address that comes from outside passes here.

Stanzas, HTTP bodies, hats calls, data forms and the config file all hand
the service JIDs; they are read here, once, with one error (`InvalidJID`)
for every way a JID can be malformed.  Twisted's parser alone is not
enough at a boundary: it raises ``IndexError`` for an empty domain label
(``room@.example.org``, ``a@b..c``), reads ``@host`` as ``host`` and
``a@b/`` as ``a@b``, all of which RFC 7622 forbids.  Like Prosody, a final
dot of the domain (the DNS root label) is dropped.

It is fast for the common case and bounded in memory.  Stringprep
(Twisted's, in pure Python) was the largest single cost of a join, and
Twisted's ``internJID`` caches every JID it ever parsed, forever.  Most
addresses are plain lowercase ASCII, for which every stringprep profile is
the identity; those are taken as they are, the rest go through Twisted's
preparation, and a small LRU cache keeps the addresses that recur.
"""

from __future__ import annotations

import functools
import re

from twisted.words.protocols.jabber import jid as jabber_jid

CACHE_SIZE = 4096

#: RFC 7622: each part is at most 1023 octets.
MAX_PART = 1023


class InvalidJID(ValueError):
    """A malformed JID; the message says what is wrong with it."""


# Lowercase ASCII that nodeprep and nameprep leave as they are (no characters
# nodeprep forbids, no empty domain labels), and a printable ASCII resource,
# which resourceprep leaves as it is.
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"  # what nameprep's STD3 rules allow
_PLAIN = re.compile(
    rf"(?:([a-z0-9._+\-]+)@)?({_LABEL}(?:\.{_LABEL})*)(?:/([\x20-\x7e]+))?\Z")


class Address:
    """A parsed, prepared JID: ``user`` and ``resource`` may be None."""

    __slots__ = ("user", "host", "resource")

    def __init__(self, user, host, resource):
        self.user, self.host, self.resource = user, host, resource

    def userhost(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def full(self) -> str:
        bare = self.userhost()
        return f"{bare}/{self.resource}" if self.resource is not None else bare

    def __eq__(self, other):
        return isinstance(other, Address) and (self.user, self.host, self.resource) == (
            other.user, other.host, other.resource)

    def __hash__(self):
        return hash((self.user, self.host, self.resource))

    def __repr__(self):
        return f"Address({self.full()!r})"


def parse_jid(text) -> Address:
    """The JID in ``text``, prepared; `InvalidJID` when it is not one."""
    if not isinstance(text, str):
        raise InvalidJID("a JID must be text")
    return _parse(text)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse(text: str) -> Address:
    # An exception is not cached: malformed input costs its full price.
    if len(text) <= MAX_PART:
        plain = _PLAIN.match(text)
        if plain is not None:
            return Address(*plain.groups())
    bare, slash, resource = text.partition("/")
    user, at, host = bare.rpartition("@")
    if not at:
        user = None
    elif not user:
        raise InvalidJID("empty localpart")
    if slash and not resource:
        raise InvalidJID("empty resource")
    if host.endswith(".") and host != ".":
        host = host[:-1]
    if not host:
        raise InvalidJID("domain required")
    if "" in host.split("."):
        raise InvalidJID("empty label in domain")
    try:
        user, host, resource = jabber_jid.prep(user, host, resource if slash else None)
    except (jabber_jid.InvalidFormat, UnicodeError, IndexError, ValueError) as e:
        raise InvalidJID(str(e) or "malformed") from None
    for part in (user, host, resource):
        if part is not None and len(part.encode("utf-8")) > MAX_PART:
            raise InvalidJID("a part is longer than 1023 bytes")
    return Address(user, host, resource)
