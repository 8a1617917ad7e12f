"""The archive contract, run against the memory, the SQLite and the
PostgreSQL archive (on the test run's throwaway cluster)."""

import os
import sqlite3

import pytest

from mucsvc.storage.archive import (
    ArchivedMessage, ArchiveItemNotFound, ArchiveQuery, MessageIds, seq_at, seq_of,
)
from mucsvc.storage.memory_archive import MemoryArchive
from mucsvc.storage.sqlite import SQLiteRoomStore
from mucsvc.storage.pg_archive import PostgreSQLArchive
from mucsvc.storage.sqlite_archive import SQLiteArchive
from tests.storage.conftest import databases
from tests.storage.deferred import Inline, Synchronous, started_link

ROOM = "garden@muc.example.org"
OTHER = "tower@muc.example.org"
T0 = 1_700_000_000_000_000


def message(seq, room=ROOM, nick="romeo", body="hi"):
    return ArchivedMessage(seq, room, nick, f"{nick}@example.org",
                           f'<message to="" from="{room}/{nick}" type="groupchat"><body>{body}</body></message>')


class Archives:
    def __init__(self, kind, tmp_path, databases=None):
        self.kind = kind
        self.path = tmp_path / "rooms.sqlite"
        self.opened = []
        self.url = databases() if kind == "postgresql" else None
        self.inline = Inline()

    def open(self):
        if self.kind == "postgresql":
            archive = Synchronous(PostgreSQLArchive(started_link(self.url, self.inline)),
                                  self.inline)
        else:
            archive = MemoryArchive() if self.kind == "memory" else SQLiteArchive(self.path)
        self.opened.append(archive)
        return archive

    def rows(self) -> int:
        """Rows in the archive's table, dropped rooms' included."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.path)
            try:
                return conn.execute("SELECT count(*) FROM archive").fetchone()[0]
            finally:
                conn.close()
        import psycopg
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT count(*) FROM muc_archive").fetchone()[0]

    def reopen(self, archive):
        if self.kind == "memory":
            return archive
        archive.close()
        return self.open()

    def close_all(self):
        for archive in self.opened:
            archive.close()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def archives(request, tmp_path):
    made = Archives(request.param, tmp_path, databases(request))
    yield made
    made.close_all()


@pytest.fixture
def archive(archives):
    return archives.open()


def seqs(page):
    return [m.seq for m in page.messages]


def fill(archive, n, room=ROOM, start=T0, step=1_000_000):
    archive.append([message(start + i * step, room, body=f"m{i}") for i in range(n)])
    return [start + i * step for i in range(n)]


def test_messages_come_back_oldest_first_whole_and_survive_reopening(archives, archive):
    written = fill(archive, 3)
    archive = archives.reopen(archive)
    page = archive.query(ROOM, ArchiveQuery(max=10))
    assert seqs(page) == written and page.complete
    assert page.messages[1] == message(written[1], body="m1")
    assert page.messages[1].stamp == written[1] / 1e6


def test_rooms_are_separate(archive):
    mine = fill(archive, 2)
    fill(archive, 3, room=OTHER, start=T0 + 500)
    assert seqs(archive.query(ROOM, ArchiveQuery())) == mine
    assert len(archive.query(OTHER, ArchiveQuery()).messages) == 3
    assert archive.query("nowhere@muc.example.org", ArchiveQuery()).messages == []


def test_a_page_says_whether_more_follow(archive):
    written = fill(archive, 5)
    first = archive.query(ROOM, ArchiveQuery(max=2))
    assert seqs(first) == written[:2] and not first.complete
    second = archive.query(ROOM, ArchiveQuery(max=2, after=written[1]))
    assert seqs(second) == written[2:4] and not second.complete
    third = archive.query(ROOM, ArchiveQuery(max=2, after=written[3]))
    assert seqs(third) == written[4:] and third.complete


def test_the_last_page_and_paging_backwards(archive):
    written = fill(archive, 5)
    last = archive.query(ROOM, ArchiveQuery(max=2, last=True))
    assert seqs(last) == written[3:] and not last.complete
    earlier = archive.query(ROOM, ArchiveQuery(max=2, last=True, before=written[3]))
    assert seqs(earlier) == written[1:3] and not earlier.complete
    first = archive.query(ROOM, ArchiveQuery(max=2, last=True, before=written[1]))
    assert seqs(first) == written[:1] and first.complete


def test_time_bounds_are_inclusive(archive):
    written = fill(archive, 5)
    page = archive.query(ROOM, ArchiveQuery(start=written[1], end=written[3]))
    assert seqs(page) == written[1:4]
    assert archive.query(ROOM, ArchiveQuery(start=written[4] + 1)).messages == []
    assert archive.query(ROOM, ArchiveQuery(end=written[0] - 1)).messages == []


def test_filters_by_nick_and_by_ids(archive):
    archive.append([message(T0 + 1, nick="romeo"), message(T0 + 2, nick="juliet"),
                    message(T0 + 3, nick="romeo")])
    assert seqs(archive.query(ROOM, ArchiveQuery(nick="romeo"))) == [T0 + 1, T0 + 3]
    assert seqs(archive.query(ROOM, ArchiveQuery(ids=(T0 + 3, T0 + 2, 42)))) == [T0 + 2, T0 + 3]


def test_an_unknown_page_boundary_is_not_found(archive):
    fill(archive, 2)
    fill(archive, 1, room=OTHER, start=T0 + 77)
    with pytest.raises(ArchiveItemNotFound):
        archive.query(ROOM, ArchiveQuery(after=T0 + 5))
    with pytest.raises(ArchiveItemNotFound):  # another room's message
        archive.query(ROOM, ArchiveQuery(before=T0 + 77))


def test_count_only_when_asked_and_whatever_the_page(archives, archive):
    written = fill(archive, 4)
    fill(archive, 2, room=OTHER, start=T0 + 500)
    assert archive.query(ROOM, ArchiveQuery(max=1)).count is None
    page = archive.query(ROOM, ArchiveQuery(max=0, count=True))
    assert page.count == 4 and page.messages == [] and not page.complete
    assert archive.query(ROOM, ArchiveQuery(max=1, count=True, after=written[1])).count == 4
    assert archive.query(ROOM, ArchiveQuery(count=True, start=written[1])).count == 3
    assert archive.query(ROOM, ArchiveQuery(count=True, nick="nobody")).count == 0
    archive.expire(written[1], 10)
    archive = archives.reopen(archive)
    assert archive.query(ROOM, ArchiveQuery(count=True)).count == 3
    assert archive.query(OTHER, ArchiveQuery(count=True)).count == 1  # its first was older too


def test_retraction_replaces_the_payload_in_place(archives, archive):
    written = fill(archive, 3)
    assert archive.retract(ROOM, written[1], '<message to=""><tombstone/></message>')
    assert not archive.retract(OTHER, written[1], "x")
    archive = archives.reopen(archive)
    kept = archive.get(ROOM, written[1])
    assert kept.retracted and kept.payload == '<message to=""><tombstone/></message>'
    assert seqs(archive.query(ROOM, ArchiveQuery())) == written
    assert archive.get(OTHER, written[1]) is None


def test_the_rooms_with_an_archive(archives, archive):
    fill(archive, 1)
    fill(archive, 1, room=OTHER, start=T0 + 9)
    archive.drop_room(OTHER)
    assert archives.reopen(archive).room_jids() == [ROOM]


def test_restore_undoes_a_retraction(archives, archive):
    written = fill(archive, 2)
    original = archive.get(ROOM, written[0]).payload
    assert archive.retract(ROOM, written[0], '<message to=""><tombstone/></message>')
    assert archive.restore(ROOM, written[0], original)
    assert not archive.restore(OTHER, written[0], original)
    kept = archives.reopen(archive).get(ROOM, written[0])
    assert not kept.retracted and kept.payload == original


def test_bounds_and_newest(archive):
    assert archive.bounds(ROOM) is None and archive.newest_seq() == 0
    written = fill(archive, 3)
    fill(archive, 1, room=OTHER, start=T0 + 10_000_000)
    first, last = archive.bounds(ROOM)
    assert (first.seq, last.seq) == (written[0], written[-1])
    assert archive.newest_seq() == T0 + 10_000_000


def test_a_dropped_room_is_gone_at_once_and_a_new_one_starts_empty(archives, archive):
    fill(archive, 3)
    archive.drop_room(ROOM)
    assert archive.query(ROOM, ArchiveQuery()).messages == []
    archive.append([message(T0 + 99_000_000)])
    archive = archives.reopen(archive)
    assert seqs(archive.query(ROOM, ArchiveQuery())) == [T0 + 99_000_000]
    archive.purge(10)
    assert seqs(archive.query(ROOM, ArchiveQuery())) == [T0 + 99_000_000]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_purge_reclaims_dropped_rows_in_bounded_batches(request, tmp_path, kind):
    archives = Archives(kind, tmp_path, databases(request, kind))
    archive = archives.open()
    fill(archive, 25)
    archive.drop_room(ROOM)
    assert archive.purge(10) == 10 and archives.rows() == 15
    assert archive.purge(10) == 10 and archive.purge(10) == 5 and archives.rows() == 0
    assert archive.purge(10) == 0
    archives.close_all()


def test_expiry_deletes_the_oldest_in_bounded_batches(archive):
    written = fill(archive, 6)
    assert archive.expire(written[4], 3) == 3
    assert archive.expire(written[4], 3) == 1
    assert seqs(archive.query(ROOM, ArchiveQuery())) == written[4:]


def test_the_archive_lives_in_the_rooms_file(tmp_path):
    path = tmp_path / "rooms.sqlite"
    store = SQLiteRoomStore(path)
    archive = SQLiteArchive(path)
    fill(archive, 2)
    archive.close()
    store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM archive").fetchone()[0] == 2
    conn.close()
    assert sorted(os.listdir(tmp_path))[0] == "rooms.sqlite"


def test_message_ids_never_repeat_nor_go_back():
    class Clock:
        now = 100.0

        def seconds(self):
            return self.now
    clock = Clock()
    ids = MessageIds(clock, floor=0)
    a, b = ids.next(), ids.next()
    assert a == 100_000_000 and b == a + 1
    clock.now = 50.0  # the clock steps back
    assert ids.next() == b + 1
    restarted = MessageIds(clock, floor=200_000_000)
    assert restarted.next() == 200_000_001


def test_ids_as_text():
    assert seq_of("1700000000000001") == 1_700_000_000_000_001
    for bad in ("", "abc", "-1", "1.5", "١٢", "9" * 20):
        assert seq_of(bad) is None
    assert seq_at(1.5) == 1_500_000
