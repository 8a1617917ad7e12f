"""Give wokkel 18.0.0 the Twisted names that modern Twisted removed.

wokkel's last release imports Python 2 helpers from ``twisted.python.compat``
(gone since Twisted 21.2) and ``twisted.python.constants`` (gone since 24.11;
the same classes live on in the ``constantly`` package).  Rather than pin an
old Twisted, we put those names back before any wokkel module is imported.
``mucsvc/__init__.py`` imports this module, so importing anything from the
project is enough.  ``iteritems``/``itervalues`` still exist in Twisted but
warn on every call (wokkel calls them per stanza, and the warnings break
wokkel's own ``assertWarns`` tests), so they are replaced too.
"""

import importlib
import sys

import constantly
import twisted.python
from twisted.python import compat


def _iteritems(d):
    return iter(d.items())


def _itervalues(d):
    return iter(d.values())


_NAMES = {
    "_PY3": True,
    "unicode": str,
    "StringType": str,
    "iteritems": _iteritems,
    "itervalues": _itervalues,
}


def _deprecated_attributes(module) -> dict:
    try:
        return object.__getattribute__(module, "_deprecatedAttributes")
    except AttributeError:  # a plain module: nothing is deprecated through it
        return {}


def install():
    """Add the missing names; safe to call more than once."""
    # twisted.python.compat is wrapped in a proxy that warns on deprecated
    # names before it looks at the module; drop our names from its list.
    deprecated = _deprecated_attributes(compat)
    for name, value in _NAMES.items():
        deprecated.pop(name, None)
        setattr(compat, name, value)
    try:
        importlib.import_module("twisted.python.constants")
    except ImportError:
        sys.modules["twisted.python.constants"] = constantly
        setattr(twisted.python, "constants", constantly)


install()
