"""100,000 join/leave cycles through the real protocol path leave memory flat
and no rooms behind.

Every cycle uses a user never seen before (the worst case for caches keyed
by address), spread over 50 rooms, with the default limits and the
housekeeping the service runs every few seconds.  Memory is the process's
resident set, read after a warm-up and at the end; the margin allowed for
allocator noise is stated below.
"""

import gc

from twisted.internet.task import Clock

from mucsvc.config import parse_config
from mucsvc.muc import MUCService
from mucsvc.settings import service_limits
from tests.helpers import SERVICE, Wire

CYCLES = 100_000
WARM_UP = 10_000
MARGIN_BYTES = 4 * 1024 * 1024  # allocator noise; a leak of 40 bytes a cycle would exceed it


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def test_join_leave_cycles_leave_memory_flat():
    clock = Clock()
    clock.advance(1_000_000)
    limits = service_limits(parse_config(
        {"jid": SERVICE, "component_secret": "x", "http_muc_kick_authorization_header": "k"},
        environ={}))
    sent = []
    muc = MUCService(SERVICE, sent.append, clock, limits=limits)
    wire = Wire(rooms=muc.handler)
    receive = wire.manager.stub.send
    from wokkel.generic import parseXml

    def cycle(n):
        user = f"user{n}@example.org/r"
        room = f"room{n % 50}@{SERVICE}"
        receive(parseXml(f"<presence xmlns='jabber:client' from='{user}' to='{room}/u{n}'>"
                         "<x xmlns='http://jabber.org/protocol/muc'/></presence>".encode()))
        receive(parseXml(f"<presence xmlns='jabber:client' type='unavailable' from='{user}' "
                         f"to='{room}/u{n}'/>".encode()))
        del sent[:]
        del wire.output[:]
        if n % 1000 == 0:
            clock.advance(60)
            muc.housekeeping()

    for n in range(WARM_UP):
        cycle(n)
    gc.collect()
    before = resident_bytes()
    for n in range(WARM_UP, CYCLES):
        cycle(n)
    gc.collect()
    after = resident_bytes()

    assert len(muc.rooms) == 0, "rooms left behind"
    assert len(muc.handler.context.throttle) < 2000
    assert after - before < MARGIN_BYTES, f"grew by {(after - before) / 1e6:.1f} MB"
