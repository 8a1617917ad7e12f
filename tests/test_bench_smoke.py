"""The load benchmark (``python3 -m bench``) runs against the component and
verifies its counts, on a tiny workload in direct mode (no Prosody)."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def test_direct_mode_verifies_counts():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--systems", "direct", "--workloads", "joins,fanout",
         "--rooms", "2", "--occupants", "3", "--messages", "2", "--runs", "1", "--stall", "5"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "counts: PASS" in out, out
    # 2 rooms x 3 joiners: 2 x 3^2 presences, a subject each, one configuration IQ per room.
    assert "[presence 18/18, message 6/6, iq 2/2]" in out, out
    # 2 rooms x 3 occupants x 2 messages, each delivered to the room's 3 occupants.
    assert "[message 36/36]" in out, out


def test_two_processes_behind_ejabberd_and_ejabberds_muc_verify_counts():
    """The ejabberd systems: the rooms spread over two ``twistd muc``
    processes behind one ejabberd, and ejabberd's own MUC (which sends each
    joiner one presence more, from the room's bare JID), counted exactly."""
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--systems", "ejabberd2,ejabberd-muc",
         "--workloads", "joins,fanout", "--rooms", "4", "--occupants", "3", "--messages", "2",
         "--runs", "1", "--stall", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "counts: PASS" in out, out
    # Ours: 4 rooms x 3^2 presences; ejabberd's MUC: 12 more, one per join.
    assert "[presence 36/36, message 12/12, iq 4/4]" in out, out
    assert "[presence 48/48, message 12/12, iq 4/4]" in out, out
    assert out.count("[message 72/72]") == 2, out
