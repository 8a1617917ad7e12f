"""wokkel 18.0.0 works on today's Twisted once mucsvc is imported."""

import importlib
import sys
import warnings

import pytest

import mucsvc  # noqa: F401

WOKKEL_MODULES_USED = [
    "wokkel.component",
    "wokkel.data_form",
    "wokkel.delay",
    "wokkel.disco",
    "wokkel.generic",
    "wokkel.iwokkel",
    "wokkel.muc",
    "wokkel.ping",
    "wokkel.subprotocols",
    "wokkel.xmppim",
    "wokkel.test.helpers",
]


@pytest.mark.parametrize("name", WOKKEL_MODULES_USED)
def test_wokkel_module_imports(name):
    module = importlib.import_module(name)
    assert module.__name__ == name


def test_constants_come_from_constantly():
    import constantly
    from twisted.python import constants

    assert constants.Values is constantly.Values


def test_compat_helpers_do_not_warn():
    """wokkel calls these per stanza; Twisted's deprecated versions warn each time."""
    from twisted.python import compat

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(compat.iteritems({"a": 1})) == [("a", 1)]
        assert list(compat.itervalues({"a": 1})) == [1]
        assert compat.unicode is str and compat.StringType is str and compat._PY3


def test_install_is_idempotent():
    from mucsvc import wokkel_compat

    wokkel_compat.install()
    wokkel_compat.install()
    assert "twisted.python.constants" in sys.modules
