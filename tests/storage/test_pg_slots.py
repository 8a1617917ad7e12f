"""The component slot tokens on a real PostgreSQL database: at most
``count`` holders, an expired lease is free to claim, a renewal of a lease
that ran out or went to another holder fails, a release frees at once,
and processes claiming at the same moment never get the same token.

Leases that end "now" are leases of 0 seconds (or less): the database's
clock decides, and no test waits for it."""

from __future__ import annotations

import threading

import psycopg
import pytest

from mucsvc.storage import pg_slots
from mucsvc.storage.pg_rooms import PostgreSQLRoomStore


@pytest.fixture
def url(postgresql):
    url = postgresql.database()
    PostgreSQLRoomStore(url).close()  # the schema, as the service makes it
    return url


@pytest.fixture
def conn(url):
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def test_no_more_holders_than_tokens(conn):
    got = [pg_slots.claim(conn, f"p{n}", 3, 6) for n in range(4)]
    assert got == [1, 2, 3, None]
    assert pg_slots.holders(conn) == [(1, "p0", True), (2, "p1", True), (3, "p2", True)]


def test_an_expired_lease_is_claimed_and_its_old_holder_cannot_renew_it(conn):
    assert pg_slots.claim(conn, "old", 2, 6) == 1
    assert pg_slots.claim(conn, "dead", 2, -1) == 2  # its lease ran out
    assert pg_slots.claim(conn, "standby", 2, 6) == 2
    assert pg_slots.renew(conn, 2, "dead", 6) == pg_slots.LOST
    assert pg_slots.renew(conn, 2, "standby", 6) == pg_slots.HELD
    assert pg_slots.renew(conn, 1, "old", 6) == pg_slots.HELD


def test_a_holder_whose_lease_ran_out_cannot_renew_even_before_anyone_claims(conn):
    assert pg_slots.claim(conn, "slow", 1, -1) == 1
    assert pg_slots.renew(conn, 1, "slow", 6) == pg_slots.LOST


def test_a_release_frees_the_token_at_once_and_only_its_holders(conn):
    assert pg_slots.claim(conn, "a", 1, 60) == 1
    pg_slots.release(conn, 1, "someone else")
    assert pg_slots.claim(conn, "b", 1, 60) is None
    pg_slots.release(conn, 1, "a")
    assert pg_slots.claim(conn, "b", 1, 60) == 1


def test_fewer_slots_configured_than_rows_uses_only_the_first(conn):
    assert [pg_slots.claim(conn, f"p{n}", 3, 60) for n in range(3)] == [1, 2, 3]
    pg_slots.release(conn, 3, "p2")
    assert pg_slots.claim(conn, "q", 2, 60) is None


def test_processes_claiming_at_once_each_get_a_token_of_their_own(url):
    holders = 12
    results = [None] * holders
    barrier = threading.Barrier(holders)

    def claimer(n):
        with psycopg.connect(url, autocommit=True) as conn:
            barrier.wait()
            results[n] = pg_slots.claim(conn, f"p{n}", 5, 60)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(holders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    won = [slot for slot in results if slot is not None]
    assert sorted(won) == [1, 2, 3, 4, 5]


def test_a_former_holder_asks_the_present_one_to_reconnect_once(conn):
    assert pg_slots.claim(conn, "paused", 1, -1) == 1
    assert pg_slots.claim(conn, "successor", 1, 60) == 1
    pg_slots.ask_reconnect(conn, 1, "successor")  # never its own
    assert pg_slots.renew(conn, 1, "successor", 60) == pg_slots.HELD
    pg_slots.ask_reconnect(conn, 1, "paused")
    assert pg_slots.renew(conn, 1, "successor", 60) == pg_slots.RECONNECT
    pg_slots.release(conn, 1, "successor")
    assert pg_slots.claim(conn, "next", 1, 60) == 1
    assert pg_slots.renew(conn, 1, "next", 60) == pg_slots.HELD
