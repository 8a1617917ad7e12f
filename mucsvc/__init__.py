"""mucsvc: an XMPP Multi-User Chat service that runs as an external component.

Importing the package installs the wokkel compatibility names first, so that
every module of the project may import wokkel freely.
"""

from mucsvc import wokkel_compat as _wokkel_compat  # noqa: F401  (side effect)

__version__ = "0.1.0"
