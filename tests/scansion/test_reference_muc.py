"""Every script against Prosody's own MUC, which they were written for.

All of them must pass: that is the evidence that the player reads the
format and matches stanzas the way scansion does. The strictness probes
then show that the same run does fail when one expected detail inside a
namespaced element is wrong, so passing means something.
"""

from __future__ import annotations

import pytest

from tests.scansion.catalog import load, load_altered, script_names
from tests.scansion.parser import Action
from tests.scansion.runner import ScriptFailure, Target, run_script

pytestmark = pytest.mark.integration

# Failing on purpose: the right stanza arrives within milliseconds and is
# rejected, so a short wait keeps these tests quick without changing what
# they show (the failure message must list that stanza as passed over).
PROBE_TIMEOUT = 1.0


@pytest.mark.parametrize("name", script_names())
def test_script_passes_against_prosodys_muc(prosody, name):
    transcript = run_script(load(name), Target(prosody.c2s_port))
    assert transcript, "the script played no statement"


def _first_receive_line(name: str, client: str) -> int:
    script = load(name)
    return next(
        step.line
        for step in script.steps
        if step.client == client and step.action is Action.RECEIVE
    )


# issue505 starts with Romeo creating a room; Prosody answers with
#   <x xmlns='http://jabber.org/protocol/muc#user'>
#     <status code='201'/> <item jid=... affiliation='owner' role='moderator'/> <status code='110'/>
# Each probe changes that expectation so that Prosody's true answer no longer fits.
STRICTNESS_PROBES = {
    "status code changed": (
        "<status code='201'/>",
        "<status code='210'/>",
        "attribute code='201', expected '210'",
    ),
    "jid attribute left out of the item": (
        "<item jid=\"${Romeo's full JID}\" affiliation='owner' role='moderator'/>",
        "<item affiliation='owner' role='moderator'/>",
        "unexpected attribute jid=",
    ),
    "status 110 left out": (
        "<status code='110'/>",
        "",
        'unexpected child <status code="110"/>',
    ),
}


@pytest.mark.parametrize("probe", list(STRICTNESS_PROBES))
def test_an_altered_expectation_fails_against_prosodys_muc(prosody, probe):
    old, new, reason = STRICTNESS_PROBES[probe]
    altered = load_altered("issue505", old, new)

    with pytest.raises(ScriptFailure) as failure:
        run_script(altered, Target(prosody.c2s_port), receive_timeout=PROBE_TIMEOUT)

    message = str(failure.value)
    assert failure.value.step.line == _first_receive_line("issue505", "Romeo"), message
    assert "no matching stanza" in message
    # Prosody's real answer arrived, is shown, and was rejected for the altered detail.
    assert "received meanwhile, not matching" in message
    assert reason in message
