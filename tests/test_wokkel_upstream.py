"""wokkel's own test suites for the modules we rely on, run under our compat shim.

The classes are imported here so that pytest collects them.  Upstream failures
that are not ours to fix are listed by name and marked as strict expected
failures, so they show up as xfail in every run instead of being skipped
silently, and turn into a failure if they start to pass.
"""

import pytest

import mucsvc  # noqa: F401  (must precede the wokkel imports)

from wokkel.test.test_component import *  # noqa: F401,F403
from wokkel.test.test_data_form import *  # noqa: F401,F403
from wokkel.test.test_disco import *  # noqa: F401,F403
from wokkel.test.test_generic import *  # noqa: F401,F403
from wokkel.test.test_muc import *  # noqa: F401,F403
from wokkel.test.test_subprotocols import *  # noqa: F401,F403
from wokkel.test.test_xmppim import *  # noqa: F401,F403
from wokkel.test import test_component as _test_component


def _without_jitter(method):
    """Run ``method`` with ReconnectingClientFactory's random jitter off.

    test_stopServiceNoReconnect advances a clock by exactly the initial
    reconnect delay, which Twisted randomises, so upstream it passes or fails
    by chance; with no jitter it fails every time, for the reason below.
    """
    import functools

    from twisted.internet.protocol import ReconnectingClientFactory

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = ReconnectingClientFactory.jitter
        ReconnectingClientFactory.jitter = 0
        try:
            return method(self, *args, **kwargs)
        finally:
            ReconnectingClientFactory.jitter = saved

    return wrapper


_test_component.ComponentTest.test_stopServiceNoReconnect = _without_jitter(
    _test_component.ComponentTest.test_stopServiceNoReconnect)

KNOWN_UPSTREAM_FAILURES = {
    (_test_component.ComponentTest, "test_stopServiceNoReconnect"): (
        "wokkel's FakeConnector has no transport; Twisted >= 22 asserts one in "
        "stopConnecting (mucsvc.component.MUCComponent.stopService copes)"
    ),
}


def _expect_failures(known):
    for (case, name), reason in known.items():
        method = pytest.mark.xfail(strict=True, reason=reason)(getattr(case, name))
        setattr(case, name, method)


_expect_failures(KNOWN_UPSTREAM_FAILURES)
