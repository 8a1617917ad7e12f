"""Servers to play the scripts against: fresh ones for every script.

Most scripts use the same room (``room@conference.localhost``) and the same
users, so sharing one server across scripts would let one script's rooms,
affiliations or half-closed sessions leak into the next. Prosody starts in
a fraction of a second and the service in well under one, so every script
gets its own Prosody (and service) instead of a module's.

Prosody is configured as the scripts assume (Prosody's own spec setup):
``authentication = "insecure"`` (every user logs in with "password"),
``admin@localhost`` a service admin, and ``vcard_legacy`` adding
``vcard-temp:x:update`` to presence. When a test fails, the log tails of the
servers it used are added to its report (``tests/conftest.py``).
"""

from __future__ import annotations

import pytest


# The harness is imported inside the fixtures, so that the parser, matcher
# and player tests run even while tests/integration is being changed.


def _started_prosody(workdir):
    from tests.integration.prosody import ProsodyServer

    server = ProsodyServer(workdir, authentication="insecure", admins=("admin@localhost",))
    server.start()
    return server


@pytest.fixture
def prosody(tmp_path):
    """A fresh Prosody whose own MUC (``conference.localhost``) is the reference."""
    server = _started_prosody(tmp_path / "prosody")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def service(tmp_path):
    """A fresh Prosody with a fresh ``twistd muc`` linked to it as ``muc.localhost``."""
    from tests.integration.muc_process import MucProcess

    server = _started_prosody(tmp_path / "prosody")
    try:
        muc = MucProcess(tmp_path / "muc", server)
        try:
            muc.start()
            yield muc
        finally:
            muc.stop()
    finally:
        server.stop()
