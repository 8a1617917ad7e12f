"""A process killed with SIGKILL loses no change a store call returned from,
and leaves a file SQLite finds sound.

The writer is a real separate Python process, since only a real kill shows
what is in the file (and in its write-ahead log) when nothing gets the
chance to flush or close."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mucsvc.rooms import Affiliation, Subject
from mucsvc.storage import SQLiteRoomStore
from tests.storage.helpers import EVERY_FIELD_CHANGED, only_room, payload_numbers

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import os, signal, sys
from mucsvc.rooms import Affiliation, HistoryEntry, Subject
from mucsvc.storage import SQLiteRoomStore
from tests.storage.helpers import EVERY_FIELD_CHANGED, ROOM, entry
store = SQLiteRoomStore(sys.argv[1])
"""


def writer(tmp_path, body: str, **kwargs) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "rooms.sqlite")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True, **kwargs)


def reopened(tmp_path) -> SQLiteRoomStore:
    return SQLiteRoomStore(tmp_path / "rooms.sqlite")


def test_killed_right_after_the_calls_returned(tmp_path):
    proc = writer(tmp_path, """
        store.save_room(ROOM, EVERY_FIELD_CHANGED)
        store.set_affiliation(ROOM, "owner@example.org", Affiliation.OWNER, {"reason": "r"})
        store.save_subject(ROOM, Subject("Topic", "Owner", 5.0))
        for i in range(3):
            store.append_history(ROOM, entry(i), 2)
        print("done", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """)
    assert proc.stdout.read().strip() == "done"
    proc.stdout.close()
    assert proc.wait() == -signal.SIGKILL
    # The changes are still only in the write-ahead log: the test really
    # checks recovery, not a tidy close.
    assert (tmp_path / "rooms.sqlite-wal").stat().st_size > 0
    store = reopened(tmp_path)
    try:
        assert store.check_integrity() == "ok"
        room = only_room(store)
        assert room.config == EVERY_FIELD_CHANGED
        assert room.affiliations == {"owner@example.org": (Affiliation.OWNER, {"reason": "r"})}
        assert room.subject == Subject("Topic", "Owner", 5.0)
        assert payload_numbers(room.history) == [1, 2]
    finally:
        store.close()


def test_killed_by_another_process_while_writing(tmp_path):
    """The writer reports each change once its call returned; killed at an
    arbitrary point of its loop, every reported change is in the file."""
    proc = writer(tmp_path, """
        store.save_room(ROOM, EVERY_FIELD_CHANGED)
        i = 0
        while True:
            store.append_history(ROOM, entry(i), 10 ** 6)
            store.set_affiliation(ROOM, f"u{i}@example.org", Affiliation.MEMBER, {"i": i})
            print(i, flush=True)
            i += 1
        """)
    reported = -1
    for line in proc.stdout:
        reported = int(line)
        if reported >= 150:
            proc.send_signal(signal.SIGKILL)
            break
    proc.stdout.close()
    assert proc.wait() == -signal.SIGKILL
    store = reopened(tmp_path)
    try:
        assert store.check_integrity() == "ok"
        room = only_room(store)
        numbers = payload_numbers(room.history)
        # Nothing reported is missing; the writer may have got further than
        # it reported, but never with a gap.
        assert numbers == list(range(len(numbers))) and len(numbers) > reported
        members = {f"u{i}@example.org" for i in range(reported + 1)}
        assert members <= set(room.affiliations)
    finally:
        store.close()
