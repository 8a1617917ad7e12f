"""A last line of defence against servers outliving the test run.

Servers run in their own session so that a Ctrl-C aimed at pytest does not
hit them halfway through a test; the flip side is that nothing stops them
if a teardown never runs. Every child the harness starts is registered
here and killed when the interpreter exits, should it still be running.
"""

import atexit
import subprocess

_children: set[subprocess.Popen] = set()


def adopt(process: subprocess.Popen) -> subprocess.Popen:
    """Remember ``process`` until :func:`release`; return it for chaining."""
    _children.add(process)
    return process


def release(process: subprocess.Popen) -> None:
    """``process`` has been stopped properly; forget it."""
    _children.discard(process)


@atexit.register
def _kill_leftovers() -> None:
    for process in list(_children):
        if process.poll() is None:
            process.kill()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass
    _children.clear()
