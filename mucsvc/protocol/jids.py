"""Parsing JIDs from stanzas: fast for the common case, bounded in memory.

Stringprep (Twisted's, in pure Python) was the largest single cost of a join,
and Twisted's ``internJID`` caches every JID it ever parsed, forever: a slow
leak on a service that sees new users and resources all day.  Most addresses
are plain lowercase ASCII, for which every stringprep profile is the
identity; those are taken as they are, the rest go through Twisted's parser,
and a small LRU cache keeps the addresses that recur.
"""

from __future__ import annotations

import functools
import re

from twisted.words.protocols.jabber import jid as jabber_jid

# Twisted's parser also lets IndexError (an empty domain label) and
# ValueError escape for some malformed input.
InvalidJID = (jabber_jid.InvalidFormat, UnicodeError, IndexError, ValueError)

CACHE_SIZE = 4096

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


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_jid(text: str) -> Address:
    """The JID in ``text``; raises ``InvalidFormat`` (not cached) when malformed."""
    if len(text) <= 1023:
        plain = _PLAIN.match(text)
        if plain is not None:
            return Address(*plain.groups())
    parsed = jabber_jid.JID(text)
    return Address(parsed.user, parsed.host, parsed.resource)
