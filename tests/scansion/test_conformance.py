"""The conformance run: Prosody's MUC scripts played against this service.

Each script is played with ``conference.localhost`` rewritten to the
service's domain (``muc.localhost``), against a fresh Prosody with a fresh
``twistd muc`` linked to it: stanza for stanza, the service must do what
Prosody's own MUC does.

``NOT_YET`` lists the scripts the service does not pass yet and the feature
each one needs. The xfail is strict, and only a ``ScriptFailure`` (the
service answered wrongly or not at all) counts as the expected failure: a
harness problem (cannot log in, the service does not start) still fails
the test. When a feature lands and its script passes, the test turns red
until the script's line is removed from the table.
"""

from __future__ import annotations

import pytest

from tests.scansion.catalog import load, script_names
from tests.scansion.runner import ScriptFailure, Target, run_script

pytestmark = pytest.mark.integration

# script name -> "needs <feature>"; e.g.
#     "muc_register": "needs room registration (jabber:iq:register), reserved nicks",
# Empty: the service passes every script.
NOT_YET: dict[str, str] = {}


def _script_param(name: str):
    marks = []
    if name in NOT_YET:
        marks.append(pytest.mark.xfail(strict=True, raises=ScriptFailure, reason=NOT_YET[name]))
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_script_param(name) for name in script_names()])
def test_script_passes_against_the_service(service, name):
    target = Target(service.prosody.c2s_port, muc_domain=service.jid)
    transcript = run_script(load(name), target)
    assert any(service.jid in line for line in transcript), "no stanza went to the service"


def test_not_yet_table_names_only_shipped_scripts():
    assert set(NOT_YET) <= set(script_names())
