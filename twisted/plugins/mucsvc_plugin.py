"""Twisted plugin that makes ``twistd muc`` available.

Listing plugins (``twistd --help``) imports this file, so it names the
service maker by module path only; ``mucsvc.tap`` is imported lazily when
``twistd muc`` actually runs.
"""

from twisted.application.service import ServiceMaker

mucService = ServiceMaker(
    "mucsvc",
    "mucsvc.tap",
    "XMPP Multi-User Chat service, connected as an external component",
    "muc",
)
