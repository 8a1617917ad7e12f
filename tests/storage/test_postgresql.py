"""What only the PostgreSQL backend has: its schema versions and
migrations (two processes starting at once), the secret shared by every
process of one database, the archive's (room, seq) key, the setting that
selects it, and the link: a lost connection refuses calls until the
reconnection, which runs on the link's clock with a growing delay."""

from __future__ import annotations

import queue
import threading
from types import SimpleNamespace

import psycopg
import pytest

from mucsvc.rooms import Affiliation, RoomConfig
from mucsvc.storage import SchemaTooNew, backends, pg_schema
from mucsvc.storage.archive import ArchivedMessage, ArchiveQuery
from mucsvc.storage.pg_archive import PostgreSQLArchive
from mucsvc.storage.pg_link import FIRST_RETRY, DatabaseUnavailable
from mucsvc.storage.pg_rooms import PostgreSQLRoomStore
from mucsvc.storage.pg_secret import DatabaseSecret
from tests.storage.deferred import Inline, Synchronous, started_link

ROOM = "lounge@muc.example"
PERSISTENT = RoomConfig(persistent=True)


def version(url) -> int:
    with psycopg.connect(url) as conn:
        return pg_schema.version_of(conn)


def tables(url) -> set:
    with psycopg.connect(url) as conn:
        return {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


# ---- schema ---------------------------------------------------------------------


def test_a_new_database_gets_every_table_at_the_current_version(postgresql):
    url = postgresql.database()
    PostgreSQLRoomStore(url).close()
    assert version(url) == pg_schema.current_version() == 5
    assert {"muc_rooms", "muc_affiliations", "muc_history", "muc_tombstones",
            "muc_service_secret", "muc_archive", "muc_archive_rooms",
            "muc_archive_dropped", "muc_avatars", "muc_component_slots",
            "muc_occupants", "mucsvc_schema"} <= tables(url)


def test_a_version_1_database_migrates_keeping_its_rooms(postgresql):
    url = postgresql.database()
    with psycopg.connect(url, autocommit=True) as conn:
        assert pg_schema.migrate(conn, pg_schema.MIGRATIONS[:1]) == 1
    assert "muc_archive" not in tables(url)
    with psycopg.connect(url, autocommit=True) as conn:  # a room the v1 code wrote
        conn.execute("INSERT INTO muc_rooms (jid, config) VALUES (%s, %s)",
                     (ROOM, '{"persistent": true, "name": "Old"}'))
    store = PostgreSQLRoomStore(url)
    try:
        assert [(r.jid, r.config.name, r.avatar) for r in store.load_rooms()] == [
            (ROOM, "Old", None)]
        assert version(url) == pg_schema.current_version()
    finally:
        store.close()


def test_a_database_from_a_newer_version_is_refused_untouched(postgresql):
    url = postgresql.database()
    PostgreSQLRoomStore(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE mucsvc_schema SET version = 99")
    with pytest.raises(SchemaTooNew):
        PostgreSQLRoomStore(url)
    assert version(url) == 99


def test_two_processes_starting_at_once_run_each_step_once(postgresql):
    url = postgresql.database()
    ran = []

    def slow_v1(conn):
        ran.append("v1")
        conn.execute("SELECT pg_sleep(0.3)")
        pg_schema.MIGRATIONS[0](conn)

    steps = [slow_v1, lambda conn: (ran.append("v2"), pg_schema.MIGRATIONS[1](conn))]
    results, errors = [], []

    def start():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                results.append(pg_schema.migrate(conn, steps))
        except Exception as e:  # pragma: no cover - shown by the assert
            errors.append(e)
    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [2, 2] and ran == ["v1", "v2"]


# ---- the setting and the secret ----------------------------------------------------


@pytest.mark.parametrize("form", ["url", "postgres", "keywords"])
def test_the_storage_setting_selects_postgresql(postgresql, form):
    url = postgresql.database()
    name = url.rsplit("/", 1)[1]
    setting = {"url": url, "postgres": url.replace("postgresql://", "postgres://"),
               "keywords": postgresql.keywords(name)}[form]
    store = backends.open_store(setting)
    archive = backends.open_archive(setting, store)
    try:
        assert isinstance(store, PostgreSQLRoomStore) and isinstance(archive, PostgreSQLArchive)
        assert archive.link is store.link
        source = backends.secret_source(setting, None, store)
        assert isinstance(source, DatabaseSecret)
        assert len(backends.load_secret(store, source)) == 32
    finally:
        archive.close()
        store.close()
    assert store.link.closed


def test_a_file_path_is_not_a_database():
    assert not backends.is_postgresql("/var/lib/mucsvc/rooms.sqlite")
    assert not backends.is_postgresql("memory:")
    assert backends.is_postgresql("host=db dbname=muc")


def test_the_secret_is_made_once_and_shared_by_every_process(postgresql):
    url = postgresql.database()
    first, second = PostgreSQLRoomStore(url), PostgreSQLRoomStore(url)
    try:
        secrets = []
        threads = [threading.Thread(target=lambda s=s: secrets.append(
            DatabaseSecret(s.link).service_secret())) for s in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(secrets) == 2 and secrets[0] == secrets[1] and len(secrets[0]) == 32
        assert DatabaseSecret(first.link).service_secret() == secrets[0]
    finally:
        first.close()
        second.close()


def test_an_unreachable_database_is_a_clear_error_at_start(postgresql):
    with pytest.raises(DatabaseUnavailable, match="cannot connect"):
        PostgreSQLRoomStore(postgresql.url("postgres").replace(str(postgresql.port), "1"))


# ---- the archive's key -------------------------------------------------------------


def message(seq, room=ROOM, body="hi", nick="romeo"):
    return ArchivedMessage(seq, room, nick, f"{nick}@example.org", f"<message><body>{body}"
                           "</body></message>")


@pytest.fixture
def archive(postgresql):
    inline = Inline()
    archive = Synchronous(PostgreSQLArchive(started_link(postgresql.database(), inline)), inline)
    yield archive
    archive.close()


def test_two_rooms_may_hold_the_same_number(archive):
    archive.append([message(5, ROOM), message(5, "garden@muc.example")])
    assert [m.seq for m in archive.query(ROOM, ArchiveQuery()).messages] == [5]
    assert [m.seq for m in archive.query("garden@muc.example", ArchiveQuery()).messages] == [5]


def test_a_number_the_room_already_has_is_stored_under_the_next_free_one(archive):
    archive.append([message(10, body="first"), message(20, body="second")])
    # A clock behind, the very same microsecond, another author.
    archive.append([message(10, body="again", nick="juliet")])
    page = archive.query(ROOM, ArchiveQuery(count=True))
    assert [(m.seq, m.payload.count("again")) for m in page.messages] == [(10, 0), (20, 0),
                                                                          (21, 1)]
    assert page.count == 3


def test_a_number_taken_by_the_same_author_is_that_message_and_is_not_stored_twice(archive):
    # The process a room moved to recovered message 10 from the history
    # (its text rebuilt); the batch of the process before arrives after.
    archive.append([message(10, body="rebuilt")])
    archive.append([message(10, body="live"), message(11, body="next")])
    page = archive.query(ROOM, ArchiveQuery(count=True))
    assert [(m.seq, "live" in m.payload) for m in page.messages] == [(10, True), (11, False)]
    assert page.count == 2


def test_a_number_below_the_newest_is_stored_in_its_place(archive):
    archive.append([message(10), message(30)])
    archive.append([message(20)])  # the room moved to a process whose clock is behind
    assert [m.seq for m in archive.query(ROOM, ArchiveQuery()).messages] == [10, 20, 30]


# ---- losing the connection ----------------------------------------------------------


def test_occupant_lists_are_kept_per_holder_and_read_by_the_next(postgresql):
    from mucsvc.storage.pg_occupants import OccupantLists
    inline = Inline()
    link = started_link(postgresql.database(), inline)
    lists = OccupantLists(link)
    garden, attic = "garden@muc.example", "attic@muc.example"
    try:
        inline.wait(lists.replace("dead", {garden: [("a@x/1", "Alice"), ("b@x/2", "Bob")],
                                           attic: [("c@x/3", "Carol")]}))
        inline.wait(lists.replace("dead", {garden: [("b@x/2", "Bob")]}))  # Alice left
        inline.wait(lists.replace("alive", {attic: [("d@x/4", "Dan")]}))
        assert inline.wait(lists.former("new", [garden])) == [(garden, "b@x/2", "Bob")]
        assert inline.wait(lists.former("alive", [attic])) == [(attic, "c@x/3", "Carol")]
        assert inline.wait(lists.forget("alive", [attic])) == 1  # the dead one's, not mine
        assert inline.wait(lists.former("new", [attic, garden])) == [
            (attic, "d@x/4", "Dan"), (garden, "b@x/2", "Bob")]
        inline.wait(lists.replace("dead", {garden: []}))
        assert inline.wait(lists.former("new", [garden])) == []
        assert inline.wait(lists.clear("alive")) == 1
        assert inline.wait(lists.former("new", [attic, garden])) == []
    finally:
        inline.wait(link.close())


def terminate_connections(postgresql, url):
    name = url.rsplit("/", 1)[1]
    postgresql.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     f" WHERE datname = '{name}' AND pid <> pg_backend_pid()")


@pytest.fixture
def linked(postgresql):
    """A room store on a started link to a fresh database, its Deferreds
    fired in the test's thread (``inline``); ``postgresql``: the cluster."""
    url = postgresql.database()
    inline = Inline()
    link = started_link(url, inline)
    store = Synchronous(PostgreSQLRoomStore(link), inline)
    yield SimpleNamespace(postgresql=postgresql, url=url, inline=inline, link=link, store=store)
    store.close()


def test_a_connection_lost_between_calls_is_replaced_without_a_refusal(linked):
    store, link = linked.store, linked.link
    store.save_room(ROOM, PERSISTENT)
    terminate_connections(linked.postgresql, linked.url)  # the server restarted, say
    store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)
    assert (link.state, link.reconnects) == ("up", 1)
    assert store.load_rooms()[0].affiliations == {"a@example.org": (Affiliation.OWNER, {})}


def test_a_connection_lost_during_a_call_refuses_it_and_the_link_goes_down(linked):
    store, link, inline = linked.store, linked.link, linked.inline
    store.save_room(ROOM, PERSISTENT)
    inline.clock.advance(7)

    def dies(conn):
        conn.execute("INSERT INTO muc_tombstones (jid, expires_at) VALUES ('x@y', 1)")
        conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    with pytest.raises(DatabaseUnavailable):
        inline.wait(link.run(dies))
    assert (link.state, link.since, link.reconnects) == ("down", 7.0, 0)
    assert link.as_dict()["since"] == "1970-01-01T00:00:07Z"
    assert "lost the database" in link.as_dict()["last_error"]
    with pytest.raises(DatabaseUnavailable):  # refused at once while down
        store.load_rooms()
    inline.clock.advance(FIRST_RETRY)  # the reconnection
    _settled(inline)
    assert (link.state, link.since, link.reconnects) == ("up", 7.0 + FIRST_RETRY, 1)
    assert store.load_tombstones() == []  # nothing of the refused call was kept
    store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)
    assert store.load_rooms()[0].affiliations == {"a@example.org": (Affiliation.OWNER, {})}


class LosesTheCommitAnswer:
    """A psycopg connection whose next COMMIT is sent (``armed`` True) or
    not (False), after which the connection dies before any answer is
    read: what a server restart or a cut cable at that moment looks like
    to the client."""

    def __init__(self, conn):
        self._conn = conn
        self.armed = None

    def execute(self, query, *args, **kwargs):
        if query == "COMMIT" and self.armed is not None:
            sent, self.armed = self.armed, None
            if sent:
                self._conn.execute(query)
            self._conn.close()
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return self._conn.execute(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.fixture
def losing(linked):
    """``linked``, its connections `LosesTheCommitAnswer` (``made``, newest last)."""
    link = linked.link
    linked.made = []

    def connect(conninfo):
        linked.made.append(LosesTheCommitAnswer(psycopg.connect(conninfo, autocommit=True)))
        return linked.made[-1]
    link._connect = connect
    link._thread.submit(link._drop_connection).result()
    link._broken = False
    linked.store.save_room(ROOM, PERSISTENT)
    return linked


def test_a_commit_whose_answer_is_lost_but_that_took_is_acknowledged(losing):
    losing.made[-1].armed = True
    losing.store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)  # no refusal
    assert (losing.link.state, len(losing.made)) == ("up", 2)
    assert losing.store.load_rooms()[0].affiliations == {
        "a@example.org": (Affiliation.OWNER, {})}


def test_a_commit_lost_before_it_reached_the_server_is_refused_and_nothing_is_kept(losing):
    losing.made[-1].armed = False
    with pytest.raises(DatabaseUnavailable, match="lost the database"):
        losing.store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)
    losing.inline.clock.advance(FIRST_RETRY)
    _settled(losing.inline)
    assert losing.link.state == "up"
    assert losing.store.load_rooms()[0].affiliations == {}


def test_a_commit_in_doubt_while_the_database_stays_away_says_it_may_have_been_stored(losing):
    losing.made[-1].armed = True
    link = losing.link
    real = link._connect

    def refused(conninfo):
        raise psycopg.OperationalError("connection refused")
    link._connect = refused
    with pytest.raises(DatabaseUnavailable, match="may have been stored"):
        losing.store.set_affiliation(ROOM, "a@example.org", Affiliation.OWNER)
    assert link.state == "down"
    link._connect = real
    losing.inline.clock.advance(FIRST_RETRY)
    _settled(losing.inline)
    # It did take: after the next start the rooms are what the database holds.
    assert losing.store.load_rooms()[0].affiliations == {
        "a@example.org": (Affiliation.OWNER, {})}


def _settled(inline):
    """Run the next thing the database thread hands back (the reconnection's
    answer), if one comes within 10 s."""
    try:
        f, args = inline.calls.get(timeout=10)
    except queue.Empty:
        return
    f(*args)


def test_reconnection_backs_off_while_the_database_stays_away(postgresql):
    inline = Inline()
    link = started_link(postgresql.database(), inline)
    attempts = []
    failing = True

    def connect(conninfo):
        attempts.append(inline.clock.seconds())
        if failing:
            raise psycopg.OperationalError("connection refused")
        return psycopg.connect(conninfo, autocommit=True)
    try:
        link._connect = connect
        link._thread.submit(link._drop_connection).result()
        with pytest.raises(DatabaseUnavailable):
            inline.wait(link.run(lambda conn: None))
        for _ in range(4):
            inline.clock.advance(link._delay)
            _settled(inline)
        assert attempts == [0.5, 1.5, 3.5, 7.5]  # 0.5, then 1, 2, 4 s apart
        assert link.state == "down"
        failing = False
        inline.clock.advance(link._delay)
        _settled(inline)
        assert link.state == "up" and link.reconnects == 1
        assert inline.wait(link.run(lambda conn: conn.execute("SELECT 42").fetchone()[0])) == 42
    finally:
        inline.wait(link.close())


# ---- the setting at start-up -----------------------------------------------------------


@pytest.mark.parametrize("setting, shown", [
    ("postgresql://muc:s3cret@db:5432/muc", "postgresql://muc:***@db:5432/muc"),
    ("postgres://muc@db/muc?password=s3cret&sslmode=require",
     "postgres://muc@db/muc?password=***&sslmode=require"),
    ("host=db dbname=muc password=s3cret user=muc", "host=db dbname=muc password=*** user=muc"),
    ("host=db password='a b' dbname=muc", "host=db password=*** dbname=muc"),
    ("/var/lib/mucsvc/rooms.sqlite", "/var/lib/mucsvc/rooms.sqlite"),
])
def test_passwords_are_never_shown(setting, shown):
    assert backends.shown(setting) == shown


def test_a_wrong_password_stops_the_start_with_one_line_without_it(postgresql, capsys):
    from mucsvc.config import parse_config
    from mucsvc.tap import makeService
    setting = postgresql.url("postgres").replace(":test-password@", ":wrong-s3cret@")

    class Options(dict):
        config = parse_config({"jid": "muc.example.org", "component_secret": "x",
                               "http_muc_kick_authorization_header": "Bearer k",
                               "storage": setting}, environ={})

    with pytest.raises(SystemExit):
        makeService(Options())
    err = capsys.readouterr().err
    assert err.startswith("twistd muc: config key 'storage': cannot open 'postgresql://mucsvc:***@")
    assert "password authentication failed" in err and err.count("\n") == 1
    assert "wrong-s3cret" not in err


def test_a_service_on_postgresql_is_wired_to_one_link(postgresql):
    from mucsvc.config import parse_config
    from mucsvc.tap import service_from_config
    url = postgresql.database()
    config = parse_config({"jid": "muc.example.org", "component_secret": "x",
                           "http_muc_kick_authorization_header": "Bearer k", "storage": url,
                           "http_endpoint": "tcp:0:interface=127.0.0.1"}, environ={})
    root = service_from_config(config)
    storage = root.getServiceNamed("storage")
    assert isinstance(storage.store, PostgreSQLRoomStore)
    assert storage.archive.link is storage.store.link is storage.link
    assert not storage.link.started  # the rooms were read before the reactor runs
    again = service_from_config(config)  # a second process: the same secret
    assert again.getServiceNamed("muc").rooms._secret == root.getServiceNamed("muc").rooms._secret
    for tree in (root, again):
        tree.getServiceNamed("storage").store.close()
        tree.getServiceNamed("storage").archive.close()
    assert storage.link.closed


# ---- without the driver ------------------------------------------------------------------

_WITHOUT_PSYCOPG = """
import sys
sys.modules["psycopg"] = None  # as if not installed
import mucsvc.tap
from mucsvc.storage import backends
store = backends.open_store(sys.argv[1])
archive = backends.open_archive(sys.argv[1], store)
backends.load_secret(store, backends.secret_source(sys.argv[1], None, store))
store.close(); archive.close()
try:
    backends.open_store("postgresql://muc@127.0.0.1:1/muc")
except Exception as e:
    print(e)
"""


def test_sqlite_needs_no_driver_and_postgresql_says_how_to_get_it(tmp_path):
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", _WITHOUT_PSYCOPG, str(tmp_path / "r.sqlite")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == \
        "PostgreSQL storage needs psycopg: pip install 'mucsvc[postgresql]'"
    assert (tmp_path / "r.sqlite").exists()
