"""The service, run by twistd, linked to a real Prosody and reached through it.

One Prosody and one service for the whole module; no test here changes
either (the restart test lives in test_component_reconnect.py).
"""

import pytest

from tests.integration.stanzas import disco_features, disco_identities, error_condition
from tests.integration.xmpp_client import logged_in, run

MUC_FEATURE = "http://jabber.org/protocol/muc"
VERSION_NS = "jabber:iq:version"
ACCEPTED_LOG_LINE = "External component successfully authenticated"


@pytest.fixture(scope="module")
def alice(account):
    return account("alice")


def query(prosody, user, coroutine_function):
    """Log ``user`` in and run ``coroutine_function(client)``; return its result."""

    async def scenario():
        async with logged_in(prosody, user.user, user.password) as client:
            return await coroutine_function(client)

    return run(scenario())


def test_prosody_accepted_the_component(prosody, muc):
    status, body = muc.health()

    assert (status, body["component"]["state"]) == (200, "up"), muc.diagnostics()
    accepted = [line for line in prosody.log_text().splitlines() if ACCEPTED_LOG_LINE in line]
    assert accepted and f"{muc.jid}:component" in accepted[-1], muc.diagnostics()


def test_disco_info_of_the_service_through_prosody(prosody, muc, alice):
    info = query(prosody, alice, lambda client: client.disco_info(muc.jid))

    assert info.xml.get("from") == muc.jid
    assert ("conference", "text") in disco_identities(info), muc.diagnostics()
    assert MUC_FEATURE in disco_features(info), muc.diagnostics()


def test_ping_to_the_service_gets_a_result(prosody, muc, alice):
    reply = query(prosody, alice, lambda client: client.request(muc.jid, "<ping xmlns='urn:xmpp:ping'/>"))

    assert (reply.xml.get("type"), reply.xml.get("from")) == ("result", muc.jid)


def test_version_query_names_the_software_and_its_version(prosody, muc, alice):
    reply = query(prosody, alice, lambda client: client.request(muc.jid, f"<query xmlns='{VERSION_NS}'/>"))

    answer = reply.xml.find(f"{{{VERSION_NS}}}query")
    assert answer is not None, reply
    assert (answer.findtext(f"{{{VERSION_NS}}}name") or "").strip()
    assert (answer.findtext(f"{{{VERSION_NS}}}version") or "").strip()


def test_an_unknown_namespace_gets_service_unavailable(prosody, muc, alice):
    refusal = query(
        prosody,
        alice,
        lambda client: client.request_error(muc.jid, "<query xmlns='urn:example:no-such-thing'/>"),
    )

    assert refusal.xml.get("from") == muc.jid
    assert error_condition(refusal) == "service-unavailable", muc.diagnostics()
