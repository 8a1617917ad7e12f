"""The service on PostgreSQL (``storage = "postgresql://…"``), against a
real Prosody with real clients: a persistent room with its configuration,
affiliations and archive survives a restart; with the database stopped a
change it cannot store is refused (resource-constraint) and ``/health``
says so; once the database is back the service reconnects by itself and
changes are accepted again.  The database is a throwaway cluster of the
test run (`tests.postgresql`), stopped and started by the test."""

from __future__ import annotations

import pytest

from tests.integration.archive_scenarios import ARCHIVE_PLUGINS, archive_query
from tests.integration.muc_scenarios import (
    admin_item, config_submission, error_text, occupant, room_name,
)
from tests.integration.ports import wait_until
from tests.integration.stanzas import describe, error_condition
from tests.integration.test_persistence import check_restored, furnish, leave
from tests.integration.xmpp_client import all_logged_in, run

pytestmark = pytest.mark.integration

#: The accounts this module logs in (the `users` fixture registers them).
USERS = ("alice", "bob", "carol")


@pytest.fixture
def scenario(prosody, users):
    """As the shared ``scenario``, with the archive plugins on every client."""

    def play(body, *names):
        async def main():
            async with all_logged_in(prosody, *names, plugins=ARCHIVE_PLUGINS) as clients:
                await body(*clients)

        run(main())

    return play


def test_rooms_live_in_postgresql_and_a_lost_database_refuses_changes(
        scenario, own_service, postgresql):
    service = own_service(storage=postgresql.database())
    room = f"kept@{service.jid}"

    async def body(alice, bob, carol):
        form = await furnish(alice, bob, room, name="Kept Room")
        await alice.request(
            room, admin_item(jid=carol.bare_jid, affiliation="outcast", reason="Spam"), type="set")
        await leave(bob, room, "Bob")
        await leave(alice, room, "Alice")

        service.stop_cleanly()
        service.start()

        await check_restored(alice, bob, carol, service.jid, room, name="Kept Room", form=form)
        page = await archive_query(alice, room)
        assert page.bodies == ["zeroth", "first", "second"], page.ids

        # The database goes away: what is in memory is still served, but a
        # change the service cannot store is refused, never acknowledged.
        postgresql.stop()
        try:
            refused = await alice.request_error(
                room, config_submission({"muc#roomconfig_roomname": "Renamed"}), type="set")
            assert error_condition(refused) == "resource-constraint", describe(refused)
            assert error_text(refused), describe(refused)
            assert await room_name(bob, room) == "Kept Room"
            alice.send_message(room, "not stored")
            bounced = await alice.expect_message(frm=room, type="error")
            assert error_condition(bounced) == "resource-constraint", describe(bounced)
            status, health = service.health()
            assert status == 503 and health["database"]["state"] == "down", health
            assert health["component"]["state"] == "up", health
        finally:
            if not postgresql.running():  # the next tests need it
                postgresql.start()

        # Back: the service reconnects by itself, and changes are taken again.
        assert wait_until(lambda: service.health()[0] == 200, timeout=40), service.health()
        health = service.health()[1]["database"]
        assert health["state"] == "up" and health["reconnects"] >= 1, health
        await alice.request(
            room, config_submission({"muc#roomconfig_roomname": "Renamed"}), type="set")
        assert await room_name(bob, room) == "Renamed"
        alice.send_message(room, "stored again")
        await bob.expect_message(frm=occupant(room, "Alice"), body="stored again")

        service.stop_cleanly()
        service.start()
        assert await room_name(bob, room) == "Renamed"
        page = await archive_query(bob, room)
        assert page.bodies[-1] == "stored again", page.ids
        assert "Unhandled error" not in service.log_since(0), service.log_tail()

    scenario(body, "alice", "bob", "carol")
