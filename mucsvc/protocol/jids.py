"""Parsing JIDs from stanzas, with a bounded cache.

Twisted's ``internJID`` caches every JID it ever parsed, forever: on a
service that sees new users and resources all day that is a slow leak.
The same few thousand addresses recur on a busy service, so a bounded LRU
cache keeps the speed and drops the leak.
"""

from __future__ import annotations

import functools

from twisted.words.protocols.jabber import jid as jabber_jid

InvalidJID = (jabber_jid.InvalidFormat, UnicodeError)

CACHE_SIZE = 16384


@functools.lru_cache(maxsize=CACHE_SIZE)
def parse_jid(text: str) -> jabber_jid.JID:
    """The JID in ``text``; raises ``InvalidFormat`` (not cached) when malformed."""
    return jabber_jid.JID(text)
