"""The memory store behaves exactly like the SQLite and the PostgreSQL
ones: the same random sequence of calls gives the same results, the same
errors and the same stored state after every call."""

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mucsvc.rooms import Affiliation, HistoryEntry, RoomConfig, Subject, Tombstone
from mucsvc.storage import MemoryRoomStore, SQLiteRoomStore, StoredRoom
from tests.storage.helpers import EVERY_FIELD_CHANGED, PERSISTENT, snapshot

rooms = st.sampled_from(["a@muc.example", "b@muc.example"])
users = st.sampled_from(["x@example.org", "y@example.org", "example.net", ""])
configs = st.sampled_from([PERSISTENT, EVERY_FIELD_CHANGED, RoomConfig()])
datas = st.sampled_from([None, {}, {"reason": "r"}, {"nick": "N", "hats": [{"uri": "u"}]},
                         {"bad": (1,)}])
entries = st.builds(HistoryEntry, st.floats(0, 1e9), st.sampled_from(["n", "é"]),
                    st.sampled_from(["<m/>", "<m>2</m>", b"<bytes/>"]), st.integers(0, 99),
                    st.sampled_from([None, 1, 2]))
subjects = st.builds(Subject, st.sampled_from(["", "topic"]), st.sampled_from([None, "nick"]),
                     st.one_of(st.none(), st.floats(0, 1e9)))

affiliations = st.sampled_from([*Affiliation, "owner"])

calls = st.one_of(
    st.tuples(st.just("save_room"), rooms, configs),
    st.tuples(st.just("delete_room"), rooms),
    st.tuples(st.just("set_affiliation"), rooms, users, affiliations, datas),
    st.tuples(st.just("save_subject"), rooms, subjects),
    st.tuples(st.just("append_history"), rooms, entries, st.integers(0, 3)),
    st.tuples(st.just("clear_history"), rooms),
    st.tuples(st.just("save_tombstone"), st.builds(
        Tombstone, rooms, st.one_of(st.floats(0, 1e9), st.just(float("nan"))),
        st.sampled_from([None, "why"]), st.sampled_from([None, "new@muc.example"]))),
    st.tuples(st.just("delete_tombstone"), rooms),
    st.tuples(st.just("retract_history"), rooms, st.sampled_from([1, 2, "1"]),
              st.sampled_from(["<t/>", b"<t/>"]), st.integers(-1, 9)),
    st.tuples(st.just("replace_room"), st.builds(
        StoredRoom, rooms, configs,
        st.dictionaries(users, st.tuples(affiliations, datas), max_size=2),
        subjects, st.lists(entries, max_size=3))),
)


def outcome(store, call):
    name, *args = call
    try:
        return ("returned", getattr(store, name)(*args))
    except Exception as e:  # the kind of error must match too
        return ("raised", type(e))


@pytest.fixture(scope="module")
def postgresql_store(postgresql):
    """One PostgreSQL store for every example, emptied before each."""
    from mucsvc.storage.pg_rooms import PostgreSQLRoomStore
    from tests.storage.deferred import Inline, Synchronous, started_link
    inline = Inline()
    store = Synchronous(PostgreSQLRoomStore(started_link(postgresql.database(), inline)), inline)
    yield store
    store.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(calls, max_size=25))
def test_same_calls_same_results(postgresql_store, sequence):
    memory, sqlite = MemoryRoomStore(), SQLiteRoomStore(":memory:")
    postgresql = postgresql_store
    postgresql._inline.wait(postgresql.wrapped.link.run(
        lambda conn: conn.execute("TRUNCATE muc_rooms, muc_tombstones CASCADE")))
    try:
        for call in sequence:
            expected = outcome(memory, call)
            assert outcome(sqlite, call) == expected, call
            assert outcome(postgresql, call) == expected, call
            assert snapshot(memory) == snapshot(sqlite) == snapshot(postgresql)
            assert memory.load_tombstones() == sqlite.load_tombstones() == \
                postgresql.load_tombstones()
    finally:
        sqlite.close()
