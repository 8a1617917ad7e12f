"""The component link survives the host server going away and coming back.

This module stops and restarts its Prosody, so it has a Prosody (and a
service) of its own: fixtures are per module.
"""

import re

from tests.integration.muc_process import MucProcess
from tests.integration.ports import wait_until
from tests.integration.stanzas import disco_identities
from tests.integration.xmpp_client import logged_in, run

# Failed attempts to let pass before Prosody comes back. With a backoff that
# starts near half a second and grows by ~1.6 but is capped at a few seconds,
# four failures take about five seconds and the next try comes within a few
# more; an uncapped exponential backoff (Twisted's default grows by e from
# one second) would already wait about twenty.
FAILED_ATTEMPTS = 4
OUTAGE_TIMEOUT = 30.0
# How soon after Prosody is back the link must be up again: the cap plus
# slack for a loaded machine.
RECONNECT_TIMEOUT = 10.0
NOTICE_TIMEOUT = 10.0

# The component logs each failed attempt with its reason and the next delay.
RETRY_LOG = re.compile(r"not up: .*; next attempt in (\d+(?:\.\d+)?) s")
ACCEPTED_LOG_LINE = "External component successfully authenticated"


def service_identities(prosody, muc, user):
    """disco#info identities of the service, asked by ``user`` through Prosody."""

    async def disco():
        async with logged_in(prosody, user) as client:
            return await client.disco_info(muc.jid)

    return disco_identities(run(disco()))


def test_health_goes_down_and_up_again_by_itself_when_prosody_restarts(prosody, muc, account):
    account("alice")
    status, body = muc.health()
    assert (status, body["component"]["state"]) == (200, "up"), muc.diagnostics()
    pid = muc.pid

    outage = muc.log_offset()
    prosody.stop()
    down = muc.wait_for_health(503, timeout=NOTICE_TIMEOUT)
    assert down["component"]["state"] == "down", down
    assert down["component"]["since"], down

    def retries():
        return [float(delay) for delay in RETRY_LOG.findall(muc.log_since(outage))]

    assert wait_until(lambda: len(retries()) >= FAILED_ATTEMPTS, OUTAGE_TIMEOUT), (
        f"fewer than {FAILED_ATTEMPTS} reconnect attempts logged within {OUTAGE_TIMEOUT:g}s "
        f"of Prosody stopping: {retries()}\n{muc.diagnostics()}"
    )

    prosody.start()
    up = muc.wait_for_health(200, timeout=RECONNECT_TIMEOUT)

    assert up["component"]["state"] == "up", up
    assert muc.pid == pid, "the service restarted instead of reconnecting\n" + muc.diagnostics()
    assert max(retries()) <= RECONNECT_TIMEOUT, f"retry delays grew to {retries()}"
    assert "cannot connect" in muc.log_since(outage), muc.diagnostics()
    assert ("conference", "text") in service_identities(prosody, muc, "alice"), muc.diagnostics()


def test_disco_info_works_again_after_a_one_call_restart(prosody, muc, account):
    """``ProsodyServer.restart`` as other tests use it: Prosody sees the link again."""
    account("alice")
    muc.wait_for_health(200, timeout=RECONNECT_TIMEOUT)
    accepted_before = prosody.log_text().count(ACCEPTED_LOG_LINE)

    prosody.restart()

    def accepted_again():
        return prosody.log_text().count(ACCEPTED_LOG_LINE) > accepted_before

    assert wait_until(accepted_again, RECONNECT_TIMEOUT), (
        f"Prosody did not accept the component again within {RECONNECT_TIMEOUT:g}s\n"
        + muc.diagnostics()
    )
    muc.wait_for_health(200, timeout=RECONNECT_TIMEOUT)
    assert ("conference", "text") in service_identities(prosody, muc, "alice"), muc.diagnostics()


def test_a_wrong_secret_says_so_and_backs_off(prosody, tmp_path):
    """Prosody accepts the socket and closes the stream: each attempt gets
    one line saying why, the delays grow, and /health shows the reason."""
    wrong = MucProcess(tmp_path / "wrong", prosody, component_secret="not-the-secret")
    wrong.write_config()
    wrong.start_unchecked()
    try:
        def delays():
            return [float(d) for d in RETRY_LOG.findall(wrong.log_since(0))]

        assert wait_until(lambda: len(delays()) >= 4, OUTAGE_TIMEOUT), wrong.diagnostics()
        found = delays()
        assert found[:4] == sorted(found[:4]) and found[3] > found[0], found
        assert "component_secret" in wrong.log_since(0)
        assert "will retry in" not in wrong.log_since(0)
        assert "not-the-secret" not in wrong.log_since(0)
        status, body = wrong.health()
        assert status == 503 and "component_secret" in body["component"]["last_error"], body
    finally:
        wrong.stop()
