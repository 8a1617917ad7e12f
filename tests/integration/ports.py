"""Free loopback ports and bounded waits for them.

Servers under test are told their ports up front (Prosody has no "port 0"),
so we ask the kernel for ports that are free right now and hand them over.
Another process could take one in between; callers detect that from the
server's log and pick again.
"""

import socket
import time


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports on 127.0.0.1 that are free now.

    All sockets stay bound until every port is chosen, so the same port is
    never handed out twice in one call.
    """
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def accepts_connections(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` right now."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds pass.

    Returns the last result rather than raising, so callers can word their
    own error with the logs that explain it.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
