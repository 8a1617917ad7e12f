"""A last line of defence against servers outliving the test run.

Servers run in their own session so that a Ctrl-C aimed at pytest does not
hit them halfway through a test; the flip side is that nothing stops them
if a teardown never runs. Every child the harness starts is registered
here and killed when the interpreter exits, should it still be running;
:func:`terminate` is the proper stop, and :class:`Supervised` what a
server's wrapper reads of its process.
"""

import atexit
import os
import signal
import subprocess

_children: set[subprocess.Popen] = set()


def adopt(process: subprocess.Popen) -> subprocess.Popen:
    """Remember ``process`` until :func:`release`; return it for chaining."""
    _children.add(process)
    return process


def release(process: subprocess.Popen) -> None:
    """``process`` has been stopped properly; forget it."""
    _children.discard(process)


def terminate(process: subprocess.Popen, timeout: float = 10.0) -> int | None:
    """Stop ``process`` properly: SIGTERM, then SIGKILL after ``timeout``;
    forget it and return its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    release(process)
    return process.returncode


class Supervised:
    """A server run as one child process, kept in ``self._process`` while it
    runs (started with :func:`adopt`, stopped with :func:`terminate`)."""

    _process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_children):
        if process.poll() is None:
            # Each child leads a session of its own: kill the whole session,
            # so that a server run by a wrapper script (ejabberdctl runs the
            # Erlang VM as its child) goes too.
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass
    _children.clear()
