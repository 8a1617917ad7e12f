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

NOT_YET: dict[str, str] = {
    "muc_create_destroy": (
        "needs the ad-hoc command http://prosody.im/protocol/muc#destroy for service admins"
    ),
    "muc_members_only_deregister": (
        "needs jabber:iq:register <remove/>, which removes a member from a members-only room (321)"
    ),
    "muc_presence_probe": (
        "needs a probe of an absent member answered with unavailable presence naming the nick "
        "reserved through muc#admin"
    ),
    "muc_register": (
        "needs room registration (jabber:iq:register form and submit), reserved nicks, "
        "x-roomuser-item"
    ),
    "muc_show_offline": (
        "needs room registration (jabber:iq:register) and presence of absent members "
        "(presencebroadcast 'none')"
    ),
}


def _script_param(name: str):
    marks = []
    if name in NOT_YET:
        marks.append(pytest.mark.xfail(strict=True, raises=ScriptFailure, reason=NOT_YET[name]))
    return pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", [_script_param(name) for name in script_names()])
def test_script_passes_against_the_service(service, name):
    target = Target(service.prosody.c2s_port, muc_domain=service.jid)
    run_script(load(name), target)


def test_not_yet_table_names_only_shipped_scripts():
    assert set(NOT_YET) <= set(script_names())
