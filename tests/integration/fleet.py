"""Several ``twistd muc`` processes of one test module, behind one server.

What tests of several processes share: the processes by name, in the order
they started; which rooms one of them holds, as its room-administration
API lists them; stopping them all, the last started first.
"""

from __future__ import annotations

import json

from tests.integration.muc_process import MucProcess


class Fleet:
    """``admin_header``: the ``Authorization`` value of the processes'
    ``/muc_admin`` (each process must be started with it)."""

    def __init__(self, server, workdir, admin_header: str):
        self.server = server
        self.workdir = workdir
        self.admin_header = admin_header
        self.processes: dict[str, MucProcess] = {}

    def rooms_of(self, process: MucProcess) -> set[str]:
        """The local parts of the rooms ``process`` holds (GET /muc_admin/rooms)."""
        status, body = process.http("GET", "/muc_admin/rooms?max=1000",
                                    headers={"Authorization": self.admin_header})
        assert status == 200, body
        return {room["jid"].split("@", 1)[0] for room in json.loads(body)["rooms"]}

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
