"""``POST /muc_kick`` against the running ``twistd muc``, with real clients
in a room behind Prosody: the kicked one is told (307 and 110, with the
reason), the others see it leave (307), and a wrong header changes nothing.
Also: the service refuses to start without the header configured.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.muc_process import KICK_AUTHORIZATION, MucProcess
from tests.integration.muc_scenarios import create_room, enter, from_room, occupant, settle, status_code_list
from tests.integration.prosody import ProsodyServer
from tests.integration.stanzas import MUC_USER_NS, describe
from tests.integration.xmpp_client import all_logged_in, run

USERS = ("alice", "bob")
WRONG_AUTHORIZATION = "Bearer not-the-configured-one"


def post_kick(muc, body, authorization=KICK_AUTHORIZATION):
    headers = {"Authorization": authorization} if authorization is not None else {}
    status, raw = muc.http("POST", "/muc_kick", json_body=body, headers=headers)
    return status, json.loads(raw)


def kick_counts(muc) -> dict[str, float]:
    """``mucsvc_http_kicks_total`` by result, scraped from ``/metrics``."""
    status, text = muc.http("GET", "/metrics")
    assert status == 200, text
    return {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(text.decode("utf-8"))
        for sample in family.samples
        if sample.name == "mucsvc_http_kicks_total"
    }


def reason_of(stanza) -> str | None:
    return stanza.xml.findtext(f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}item/{{{MUC_USER_NS}}}reason")


def unavailable_from(room):
    return lambda s: from_room(room)(s) and s.xml.get("type") == "unavailable"


def test_a_kick_over_http_reaches_both_clients_and_a_wrong_header_changes_nothing(prosody, muc, users):
    room = f"httpkick@{muc.jid}"
    before = kick_counts(muc)

    async def body(alice, bob):
        await create_room(alice, room, "Alice")
        await enter(bob, room, "Bob")
        await alice.expect_presence(frm=occupant(room, "Bob"), type=None)

        log_start = muc.log_offset()
        status, answer = await asyncio.to_thread(
            post_kick, muc, {"nickname": "Bob", "muc": room, "reason": "Spam"}, WRONG_AUTHORIZATION)
        assert (status, answer) == (401, {"error": "Authorization failed"})
        # Both are still in: each can speak, and nobody was told of a departure.
        bob.send_message(room, "still here")
        await alice.expect_message(frm=occupant(room, "Bob"), body="still here")
        await bob.expect_message(frm=occupant(room, "Bob"), body="still here")
        await settle(room, alice, bob)
        assert alice.unclaimed(unavailable_from(room)) == []
        assert bob.unclaimed(unavailable_from(room)) == []
        logged = muc.log_since(log_start)
        assert "POST /muc_kick" in logged and " 401 " in logged, logged
        assert WRONG_AUTHORIZATION not in logged and KICK_AUTHORIZATION not in logged, logged

        status, answer = await asyncio.to_thread(
            post_kick, muc, {"nickname": "Bob", "muc": room, "reason": "Spam"})
        assert (status, answer) == (200, {"kicked": "Bob", "muc": room})

        kicked = await bob.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        assert status_code_list(kicked) == [307, 110], describe(kicked)
        assert reason_of(kicked) == "Spam", describe(kicked)
        seen = await alice.expect_presence(frm=occupant(room, "Bob"), type="unavailable")
        assert status_code_list(seen) == [307], describe(seen)
        assert reason_of(seen) == "Spam", describe(seen)

        # Bob is out: a second kick finds nobody.
        status, answer = await asyncio.to_thread(post_kick, muc, {"nickname": "Bob", "muc": room})
        assert (status, answer) == (404, {"error": "Occupant not found: Bob"})

    async def main():
        async with all_logged_in(prosody, "alice", "bob") as clients:
            await body(*clients)

    run(main())
    after = kick_counts(muc)
    assert after["ok"] - before["ok"] == 1
    assert after["unauthorized"] - before["unauthorized"] == 1
    assert after["not_found"] - before["not_found"] == 1
    assert KICK_AUTHORIZATION not in muc.log_since(0)


def test_refusals_over_a_real_socket(muc):
    assert post_kick(muc, {"nickname": "Bob", "muc": f"nowhere@{muc.jid}"}) == (
        404, {"error": f"MUC not found: nowhere@{muc.jid}"})
    assert post_kick(muc, {"nickname": "Bob"}) == (400, {"error": "Missing nickname and/or MUC"})
    assert post_kick(muc, {"nickname": "Bob"}, authorization=None) == (401, {"error": "Authorization failed"})

    status, raw = muc.http("POST", "/muc_kick", json_body={"nickname": "x" * 70000, "muc": "a@b"},
                           headers={"Authorization": KICK_AUTHORIZATION})
    assert (status, json.loads(raw)) == (413, {"error": "Body too large (at most 65536 bytes)"})

    request = urllib.request.Request(f"{muc.base_url}/muc_kick", method="GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    with caught.value as error:
        assert error.code == 405
        assert error.headers.get_all("Allow") == ["POST"]
        assert error.headers["Content-Type"] == "application/json"
        assert json.loads(error.read()) == {"error": "Method not allowed"}


@pytest.mark.parametrize("value", [None, ""])
def test_the_service_refuses_to_start_without_a_kick_header(tmp_path, value):
    host = ProsodyServer(tmp_path / "prosody")  # configured, never started
    service = MucProcess(tmp_path / "muc", host, http_muc_kick_authorization_header=value)

    result = service.run_until_exit()

    output = result.stdout + result.stderr
    lines = [line for line in output.splitlines() if line.strip()]
    shown = f"exit status {result.returncode}\n{output}"
    assert result.returncode != 0, shown
    assert "Traceback" not in output, shown
    problem = "missing" if value is None else "empty"
    assert lines == [
        f"twistd muc: config key 'http_muc_kick_authorization_header': {problem}; "
        "some authorization must be configured for POST /muc_kick"
    ], shown
