"""Load benchmark: mucsvc against Prosody's built-in MUC, on loopback.

``python3 -m bench`` measures, for each system:

- ``direct``: ``twistd muc`` connected to the benchmark itself, which plays
  the host server, so only the component is measured;
- ``direct-pg``: the same with ``storage`` on PostgreSQL (a throwaway
  cluster the benchmark starts, a new database for each run);
- ``prosody``: Prosody's own MUC (``conference.localhost``);
- ``behind``: ``twistd muc`` behind that Prosody (``muc.localhost``);
- ``ceiling``: a trivial fan-out component behind the same Prosody
  (``echo.localhost``): what Prosody itself can route;
- ``ejabberd1``, ``ejabberd2``: one, then two ``twistd muc`` processes
  serving ``muc.localhost`` behind a throwaway ejabberd (two: balanced by
  bare destination JID, each room on one of them);
- ``ejabberd2-pg``: two ``twistd muc`` processes behind that ejabberd
  sharing one PostgreSQL database (``component_slots = 2``: each connects
  once it holds a slot token, as for failover);
- ``ejabberd-muc``: ejabberd's own MUC (``conference.localhost``) there.

The load users ``uI@load.localhost`` live on the benchmark's own component
link (``direct``: the link the component opened to us; otherwise a component
``load.localhost`` of the throwaway Prosody).  Every figure is the median of
``--runs`` runs, each on freshly started processes, and every phase checks
the exact number of stanzas it must bring back.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

from bench import archive, procs, profile, workloads
from bench.ejabberd import start_ejabberd
from bench.workloads import Rooms
from bench.xmpp import Pump, accept_component, connect_component

SYSTEMS = {
    "direct": "ours direct",
    "direct-pg": "ours direct, PostgreSQL",
    "prosody": "Prosody MUC",
    "behind": "ours behind Prosody",
    "ceiling": "ceiling",
    "ejabberd1": "ours behind ejabberd",
    "ejabberd2": "ours x2 behind ejabberd",
    "ejabberd2-pg": "ours x2 behind ejabberd, PostgreSQL",
    "ejabberd-muc": "ejabberd MUC",
}
ROOM_DOMAINS = {
    "direct": "muc.localhost",
    "direct-pg": "muc.localhost",
    "prosody": "conference.localhost",
    "behind": "muc.localhost",
    "ceiling": "echo.localhost",
    "ejabberd1": "muc.localhost",
    "ejabberd2": "muc.localhost",
    "ejabberd2-pg": "muc.localhost",
    "ejabberd-muc": "conference.localhost",
}
#: ``twistd muc`` processes behind ejabberd, by system.
EJABBERD_PROCESSES = {"ejabberd1": 1, "ejabberd2": 2, "ejabberd2-pg": 2, "ejabberd-muc": 0}
WORKLOADS = ("joins", "fanout", "memory", "scaling", "archive", "archive-query")


# -- one system, freshly started ---------------------------------------------------


class Session:
    """The processes of one system and the driver's link, for one workload."""

    def __init__(self, system: str, workdir: pathlib.Path, options):
        self.system = system
        self.workdir = workdir
        self.options = options
        self.secret = os.urandom(12).hex()
        self.children: dict[str, procs.Child] = {}
        self.link = None
        self._server = None
        self.room_domain = ROOM_DOMAINS[system]
        self.configure = system != "ceiling"  # the echo has no locked rooms
        # ejabberd's MUC sends each joiner a presence from the room's bare JID.
        self.room_presence = 1 if system == "ejabberd-muc" else 0
        self.measured = None  # the process whose memory is the figure
        self.profiler = None  # (PySpy, phase name): profile the measured process then

    async def __aenter__(self):
        try:
            await self._start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def _start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.system in ("direct", "direct-pg"):
            port, self._server, first = await accept_component(self.room_domain, self.secret)
            settings = self.options.muc_settings
            if self.system == "direct-pg":
                settings = {**settings, "storage": self.options.postgresql.database()}
            twistd, _ = procs.start_twistd(self.workdir / "muc", self.room_domain, self.secret,
                                           port, cprofile=self.options.cprofile,
                                           settings=settings)
            self.children["twistd"] = self.measured = twistd
            self.link = await self._await(first, twistd, "waiting for twistd to connect")
            await self._await(self.link.ready, twistd, "waiting for twistd's handshake")
            return
        if self.system in EJABBERD_PROCESSES:
            await self._start_behind_ejabberd(EJABBERD_PROCESSES[self.system])
            return
        components = ["load.localhost", "muc.localhost", "echo.localhost"]
        prosody, port = procs.start_prosody(self.workdir / "prosody", self.secret, components,
                                            self.options.prosody_setting)
        self.children["prosody"] = self.measured = prosody
        if self.system == "behind":
            twistd, http_port = procs.start_twistd(self.workdir / "muc", "muc.localhost",
                                                   self.secret, port,
                                                   settings=self.options.muc_settings)
            self.children["twistd"] = self.measured = twistd
            procs.wait_until(lambda: procs.health_up(http_port), 30,
                             "waiting for twistd's link to Prosody", twistd)
        elif self.system == "ceiling":
            self.children["echo"] = procs.start_echo(self.workdir, "echo.localhost",
                                                     self.secret, port)
        self.link = await connect_component(port, workloads.USER_DOMAIN, self.secret)

    async def _start_behind_ejabberd(self, processes: int):
        """ejabberd with the load link's component and, for ours, ``muc.localhost``
        over ``processes`` connections (one slot each, taken in start order)."""
        components = {workloads.USER_DOMAIN: None}
        if processes:
            components["muc.localhost"] = processes if processes > 1 else None
        ejabberd, port = start_ejabberd(self.workdir / "ejabberd", self.secret, components,
                                        self.options.ejabberd_erl_options)
        self.children["ejabberd"] = self.measured = ejabberd
        twistds = []
        settings = self.options.muc_settings
        if self.system.endswith("-pg"):  # one database, slot tokens
            settings = {**settings, "storage": self.options.postgresql.database(),
                        "component_slots": processes}
        for n in range(processes):
            twistd, http_port = procs.start_twistd(self.workdir / f"muc{n + 1}", "muc.localhost",
                                                   self.secret, port, settings=settings)
            self.children["twistd" if n == 0 else f"twistd{n + 1}"] = twistd
            procs.wait_until(lambda: procs.link_up(http_port), 30,
                             "waiting for twistd's link to ejabberd", twistd)
            twistds.append(twistd)
        if twistds:
            self.measured = procs.Together(twistds)
        self.link = await connect_component(port, workloads.USER_DOMAIN, self.secret)

    async def _await(self, future, child, what, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            done, _ = await asyncio.wait([future], timeout=0.1)
            if done:
                return future.result()
            if not child.running:
                raise procs.StartError(f"{child.name} exited while {what}:\n{child.log_tail()}")
            if time.monotonic() > deadline:
                raise procs.StartError(f"timed out {what}:\n{child.log_tail()}")

    async def __aexit__(self, *exc):
        if self.link is not None:
            self.link.close()
            self.link = None
        for child in reversed(list(self.children.values())):
            child.stop()
        if self._server is not None:
            self._server.close()
            self._server = None

    def cpu(self) -> dict:
        return {name: child.cpu_seconds() for name, child in self.children.items()}

    def rooms(self, tag: str, rooms: int, occupants: int) -> Rooms:
        return Rooms(tag, self.room_domain, rooms, occupants)

    async def phase(self, name, batches, key, expected, window):
        """Run one measured phase, with the CPU time every process spent in it."""
        profiler = None
        if self.profiler is not None and self.profiler[1] == name:
            profiler = self.profiler[0]
            profiler.start(self.measured.pid)
        before = self.cpu()
        try:
            result = await Pump(self.link, batches, key, expected, window,
                                stall=self.options.stall).run(name)
        finally:
            if profiler is not None:
                profiler.stop()
        after = self.cpu()
        result.cpu = {n: after[n] - before[n] for n in after}
        result.cpu["driver"] = result.driver_cpu
        if not result.ok:
            print(f"    FAIL {self.system} {name}: {result.problem}", flush=True)
        return result


# -- workloads -------------------------------------------------------------------------


def rate(count: int, result) -> float:
    return count / result.seconds if result.seconds > 0 else 0.0


async def joins_and_fanout(session: Session, options, want_joins: bool,
                           want_fanout: bool) -> dict:
    figures = {}
    rooms = session.rooms("bench", options.rooms, options.occupants)
    expected = workloads.joins_expected(rooms, session.configure, session.room_presence)
    joined = await session.phase(
        "joins", workloads.joins(rooms, session.configure, session.room_presence), "presence",
        expected, options.window)
    if want_joins and session.configure:
        figures["joins"] = (rate(expected["presence"], joined), joined)
        figures["joins_time"] = (joined.seconds, joined)
    if want_fanout:
        if not joined.ok:
            figures["fanout"] = (0.0, joined)
            return figures
        expected = workloads.fanout_expected(rooms, options.messages)
        result = await session.phase("fanout", workloads.fanout(rooms, options.messages),
                                     "message", expected, options.window)
        figures["fanout"] = (rate(expected["message"], result), result)
        figures["fanout_time"] = (result.seconds, result)
    return figures


async def memory(session: Session, options) -> dict:
    rooms = session.rooms("idle", options.memory_rooms, options.memory_occupants)
    await asyncio.sleep(0.5)
    before = session.measured.rss_kb()
    result = await session.phase(
        "memory", workloads.joins(rooms, session.configure, session.room_presence), "presence",
        workloads.joins_expected(rooms, session.configure, session.room_presence),
        options.memory_window)
    await asyncio.sleep(1.0)
    after = session.measured.rss_kb()
    result.rss = (before, after)
    per_occupant = (after - before) / rooms.total
    return {"memory": (per_occupant, result), "memory_time": (result.seconds, result)}


async def scaling(session: Session, options, occupants: int) -> dict:
    rooms = session.rooms(f"s{occupants}x", options.scaling_rooms, occupants)
    joined = await session.phase(
        "scaling joins", workloads.joins(rooms, session.configure, session.room_presence),
        "presence", workloads.joins_expected(rooms, session.configure, session.room_presence),
        options.window)
    per_room = max(1, round(options.scaling_deliveries / (rooms.rooms * occupants)))
    expected = workloads.room_messages_expected(rooms, per_room)
    if not joined.ok:
        return {f"scale{occupants}": (0.0, joined)}
    result = await session.phase(f"scaling {occupants}", workloads.room_messages(rooms, per_room),
                                 "message", expected, options.window)
    broadcasts = rooms.rooms * per_room
    return {
        f"scale{occupants}": (rate(expected["message"], result), result),
        f"scale{occupants}_time": (result.seconds, result),
        f"scale{occupants}_us": (result.seconds / broadcasts * 1e6 if broadcasts else 0, result),
    }


class Measured:
    """A figure measured in this process (no stanza counts to check)."""

    ok = True
    name = "in-process"


def archive_query(options, workdir: pathlib.Path, postgresql=None) -> dict:
    figures = archive.measure(workdir, rooms=options.archive_rooms,
                              messages=options.archive_messages, others=options.archive_others,
                              queries=options.archive_queries,
                              progress=lambda line: print(line, flush=True),
                              databases=postgresql.database if postgresql else None)
    shutil.rmtree(workdir, ignore_errors=True)
    return {key: (value, Measured()) for key, value in figures.items()}


# -- profiling -------------------------------------------------------------------------


class PySpy:
    """``py-spy record`` of the measured process during the direct fan-out."""

    def __init__(self, output: pathlib.Path, rate: int = 500):
        self.output = output
        self.rate = rate
        self.process = None

    def start(self, pid: int):
        exe = shutil.which("py-spy")
        if exe is None:
            raise procs.StartError("py-spy is not installed (pip install py-spy)")
        self.process = subprocess.Popen(
            [exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--format", "raw",
             "--output", str(self.output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(0.5)  # let it attach before the load starts

    def stop(self):
        process, self.process = self.process, None
        if process is None:
            return
        process.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        if not self.output.exists():
            print(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")


# -- the report ------------------------------------------------------------------------


def figure_rows(options):
    size = f"{options.rooms}x{options.occupants}"
    rows = [
        ("joins", f"joins: presences/s ({size})", "higher", "{:,.0f}"),
        ("joins_time", f"joins: seconds ({size})", "lower", "{:.2f}"),
        ("fanout", f"fan-out: deliveries/s ({size}x{options.messages})", "higher", "{:,.0f}"),
        ("fanout_time", "fan-out: seconds", "lower", "{:.2f}"),
        ("memory", f"idle memory: KB RSS/occupant ({options.memory_rooms}x"
                   f"{options.memory_occupants})", "lower", "{:.2f}"),
        ("memory_time", f"idle memory: seconds to join "
                        f"{options.memory_rooms * options.memory_occupants:,}", "lower", "{:.2f}"),
    ]
    rows += [
        ("fanout_unarchived", "fan-out, archiving off: deliveries/s", "higher", "{:,.0f}"),
        ("fanout_archived", "fan-out, archiving on: deliveries/s", "higher", "{:,.0f}"),
        ("last50_ms", f"archive: ms for the last 50 of {options.archive_messages:,}",
         "lower", "{:.2f}"),
        ("page_us_10000", "archive: us/message paging 10k", "lower", "{:.1f}"),
        ("page_us_100000", "archive: us/message paging 100k", "lower", "{:.1f}"),
        ("bytes_per_message", "archive: bytes on disk per message", "lower", "{:.0f}"),
        ("xml_per_message", "archive: bytes of XML per message", "lower", "{:.0f}"),
    ]
    for n in options.scaling:
        rows += [
            (f"scale{n}", f"scaling {n}/room: deliveries/s", "higher", "{:,.0f}"),
            (f"scale{n}_time", f"scaling {n}/room: seconds", "lower", "{:.2f}"),
            (f"scale{n}_us", f"scaling {n}/room: us per broadcast", "lower", "{:,.0f}"),
        ]
    return rows


def median_cell(results, key):
    """(median value, all runs passed) of one figure, or None when not measured."""
    entries = [r[key] for r in results if key in r]
    if not entries:
        return None
    return statistics.median(v for v, _ in entries), all(res.ok for _, res in entries)


def format_table(header, rows):
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]
    line = lambda row: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                 for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def report(options, results) -> tuple[str, bool]:
    systems = options.systems
    header = ["figure (median of %d run%s)" % (options.runs, "s" * (options.runs > 1))]
    header += [SYSTEMS[s] for s in systems]
    ratios = [("direct", "prosody", "direct/Prosody"), ("behind", "prosody", "behind/Prosody"),
              ("behind", "ceiling", "behind/ceiling"),
              ("ejabberd2", "ejabberd1", "x2/x1 behind ejabberd"),
              ("ejabberd2-pg", "ejabberd2", "x2 PostgreSQL/x2 SQLite behind ejabberd"),
              ("ejabberd1", "ejabberd-muc", "ours/ejabberd MUC")]
    ratios = [r for r in ratios if r[0] in systems and r[1] in systems]
    header += [label for _, _, label in ratios]
    rows = []
    all_ok = True
    medians = {}
    for key, label, _, fmt in figure_rows(options):
        cells = {s: median_cell(results[s], key) for s in systems}
        if all(c is None for c in cells.values()):
            continue
        row = [label]
        for s in systems:
            cell = cells[s]
            if cell is None:
                row.append("-")
                continue
            value, ok = cell
            all_ok &= ok
            medians[(s, key)] = value
            row.append(fmt.format(value) + ("" if ok else " FAIL"))
        for a, b, _ in ratios:
            if cells[a] is None or cells[b] is None or not cells[b][0]:
                row.append("-")
            else:
                row.append(f"{cells[a][0] / cells[b][0]:.2f}")
        rows.append(row)
    text = [format_table(header, rows), "", "counts: " + ("PASS (every phase got exactly the "
                                                          "expected stanzas)" if all_ok else "FAIL")]
    text += ["", "targets:"] + targets(options, medians)
    text += ["", cpu_report(options, results)]
    return "\n".join(text), all_ok


def targets(options, m) -> list[str]:
    out = []

    def check(label, ok):
        out.append(f"  {'met    ' if ok else 'NOT MET'}  {label}")

    if ("direct", "fanout") in m and ("prosody", "fanout") in m:
        ratio = m["direct", "fanout"] / m["prosody", "fanout"]
        check(f"direct fan-out >= 2x Prosody's deliveries/s ({ratio:.2f}x)", ratio >= 2)
    if ("direct", "joins") in m and ("prosody", "joins") in m:
        ratio = m["direct", "joins"] / m["prosody", "joins"]
        check(f"direct joins >= Prosody's presences/s ({ratio:.2f}x)", ratio >= 1)
    if ("behind", "fanout") in m and ("ceiling", "fanout") in m:
        ratio = m["behind", "fanout"] / m["ceiling", "fanout"]
        check(f"behind Prosody within 20% of the ceiling ({ratio:.2f} of it)", ratio >= 0.8)
    for s in ("direct", "behind"):
        if (s, "memory") in m:
            check(f"{SYSTEMS[s]}: <= 1.5 KB RSS per occupant ({m[s, 'memory']:.2f} KB)",
                  m[s, "memory"] <= 1.5)
    if ("direct", "fanout_archived") in m and ("direct", "fanout_unarchived") in m:
        ratio = m["direct", "fanout_archived"] / m["direct", "fanout_unarchived"]
        check(f"fan-out with archiving >= 0.85x without ({ratio:.2f}x)", ratio >= 0.85)
    if ("direct", "last50_ms") in m:
        check(f"last 50 of {options.archive_messages:,} archived <= 5 ms "
              f"({m['direct', 'last50_ms']:.2f} ms)", m["direct", "last50_ms"] <= 5)
    if ("direct", "page_us_100000") in m and ("direct", "page_us_10000") in m:
        growth = m["direct", "page_us_100000"] / m["direct", "page_us_10000"]
        check(f"paging linear in room size (per-message cost x{growth:.2f} from 10k to 100k)",
              growth <= 1.5)
    if ("direct", "bytes_per_message") in m:
        ratio = m["direct", "bytes_per_message"] / m["direct", "xml_per_message"]
        check(f"archive bytes <= 1.5x the message's XML ({ratio:.2f}x)", ratio <= 1.5)
    for s in ("direct",):  # behind Prosody, Prosody's routing sets the pace
        us = [(n, m[s, f"scale{n}_us"]) for n in options.scaling if (s, f"scale{n}_us") in m]
        if len(us) >= 2:
            # Linear: a broadcast to N costs a + b*N; the smallest and largest
            # rooms fix a and b, the ones between must lie near that line.
            (n0, t0), (n1, t1) = us[0], us[-1]
            b = (t1 - t0) / (n1 - n0)
            worst = max((abs(t - (t0 + b * (n - n0))) / t for n, t in us), default=0.0)
            per_delivery = [m[s, f"scale{n}_us"] / n for n, _ in us]
            growth = per_delivery[-1] / per_delivery[0] if per_delivery[0] else float("inf")
            check(f"{SYSTEMS[s]}: cost linear in room size (us/broadcast "
                  + ", ".join(f"{n}: {t:,.0f}" for n, t in us)
                  + f"; us/delivery x{growth:.2f} from {us[0][0]} to {us[-1][0]})",
                  worst <= 0.25 and growth <= 1.25)
    return out or ["  (not enough systems or workloads measured to check them)"]


def cpu_report(options, results) -> str:
    """Median CPU seconds per process in each phase, next to the wall time."""
    procs_shown = ["driver", "twistd", "twistd2", "prosody", "ejabberd", "echo"]
    procs_shown = [p for p in procs_shown
                   if p in ("driver", "twistd", "prosody", "echo")
                   or any(p == "twistd2" and EJABBERD_PROCESSES.get(s, 0) > 1
                          or p == "ejabberd" and s in EJABBERD_PROCESSES
                          for s in options.systems)]
    header = ["CPU seconds (median)", "phase", "wall", *procs_shown]
    rows = []
    for s in options.systems:
        phases = collections.defaultdict(list)
        for run in results[s]:
            seen = set()
            for key, (_, result) in run.items():
                if id(result) in seen or not hasattr(result, "cpu"):
                    continue
                seen.add(id(result))
                phases[result.name].append(result)
        for name, entries in phases.items():
            med = lambda f: statistics.median(f(e) for e in entries)
            row = [SYSTEMS[s], name, f"{med(lambda e: e.seconds):.2f}"]
            for proc in procs_shown:
                if all(proc in e.cpu for e in entries):
                    row.append(f"{med(lambda e: e.cpu[proc]):.2f}")
                else:
                    row.append("-")
            rows.append(row)
    return format_table(header, rows)


# -- main ---------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--systems", default="direct,prosody,behind,ceiling",
                        help="comma-separated: " + ", ".join(SYSTEMS)
                        + " (the ejabberd ones need ejabberd and root)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated: " + ", ".join(WORKLOADS))
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--rooms", type=int, default=10, help="joins and fan-out: rooms")
    parser.add_argument("--occupants", type=int, default=50,
                        help="joins and fan-out: occupants per room")
    parser.add_argument("--messages", type=int, default=10,
                        help="fan-out: messages each occupant sends")
    parser.add_argument("--memory-rooms", type=int, default=1000)
    parser.add_argument("--memory-occupants", type=int, default=10)
    parser.add_argument("--scaling", default="10,50,200",
                        help="scaling: occupants per room, comma-separated")
    parser.add_argument("--scaling-rooms", type=int, default=10)
    parser.add_argument("--scaling-deliveries", type=int, default=200_000,
                        help="scaling: deliveries per room size (messages per room follow)")
    parser.add_argument("--archive-messages", type=int, default=1_000_000,
                        help="archive queries: messages in the queried room")
    parser.add_argument("--archive-rooms", type=int, default=100,
                        help="archive queries: rooms in the archive")
    parser.add_argument("--archive-others", type=int, default=10_000,
                        help="archive queries: messages in each other room")
    parser.add_argument("--archive-queries", type=int, default=200,
                        help="archive queries: how many (median)")
    parser.add_argument("--window", type=int, default=20_000,
                        help="expected answers kept in flight")
    parser.add_argument("--memory-window", type=int, default=1000,
                        help="idle memory: expected answers in flight (small, so that the "
                             "figure is the rooms and not buffered traffic)")
    parser.add_argument("--stall", type=float, default=30.0,
                        help="a phase fails after this many seconds without progress")
    parser.add_argument("--prosody-setting", action="append", default=[], metavar="LUA",
                        help="a global line for the benchmark's Prosody config, e.g. "
                             "'network_settings = { read_size = 65536 }' (repeatable)")
    parser.add_argument("--ejabberd-erl-options", default="", metavar="FLAGS",
                        help="more flags for the benchmark's ejabberd VM, e.g. '+sbwt none' "
                             "(idle schedulers do not spin)")
    parser.add_argument("--muc-setting", action="append", default=[], metavar="TOML",
                        help="a line for the service's TOML config, e.g. 'muc_event_rate = 0.5' "
                             "(repeatable; the benchmark sets muc_event_rate = 0)")
    parser.add_argument("--quick", action="store_true",
                        help="a small smoke run: 1 run, tiny sizes")
    parser.add_argument("--py-spy", metavar="FILE", dest="py_spy",
                        help="record a py-spy profile (collapsed stacks) of twistd during one "
                             "phase of the first direct run, and print its top functions")
    parser.add_argument("--py-spy-phase", default="fanout",
                        choices=("joins", "fanout", "memory"),
                        help="the phase --py-spy records")
    parser.add_argument("--cprofile", metavar="FILE",
                        help="run the direct twistd under cProfile (stats saved to FILE.N)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    options = parser.parse_args(argv)
    if options.quick:
        options.runs = 1
        options.rooms, options.occupants, options.messages = 3, 5, 3
        options.memory_rooms, options.memory_occupants = 50, 10
        options.scaling = "5,10,20"
        options.scaling_rooms, options.scaling_deliveries = 3, 3000
        options.archive_messages, options.archive_rooms = 20_000, 5
        options.archive_others, options.archive_queries = 1000, 20
    try:
        options.muc_settings = tomllib.loads("\n".join(options.muc_setting))
    except tomllib.TOMLDecodeError as e:
        parser.error(f"--muc-setting: {e}")
    options.systems = [s.strip() for s in options.systems.split(",") if s.strip()]
    options.workloads = [w.strip() for w in options.workloads.split(",") if w.strip()]
    options.scaling = [int(n) for n in str(options.scaling).split(",") if n.strip()]
    for s in options.systems:
        if s not in SYSTEMS:
            parser.error(f"unknown system {s!r}")
    for w in options.workloads:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}")
    return options


async def run_all(options, workdir: pathlib.Path) -> dict:
    results = {s: [] for s in options.systems}
    cprofile_base = options.cprofile
    for run in range(options.runs):
        per_run = {s: {} for s in options.systems}
        plan = []
        if "joins" in options.workloads or "fanout" in options.workloads:
            plan.append("main")
        if "memory" in options.workloads:
            plan.append("memory")
        if "scaling" in options.workloads:
            plan += [("scaling", n) for n in options.scaling]
        if "archive" in options.workloads:
            plan += ["archive-off", "archive-on"]
        if "archive-query" in options.workloads and "direct" in options.systems:
            print(f"run {run + 1}/{options.runs}: archive queries (in process)", flush=True)
            per_run["direct"].update(archive_query(options, workdir / f"run{run}-archive"))
        if "archive-query" in options.workloads and "direct-pg" in options.systems:
            print(f"run {run + 1}/{options.runs}: archive queries on PostgreSQL (in process)",
                  flush=True)
            per_run["direct-pg"].update(archive_query(options, workdir / f"run{run}-archive-pg",
                                                      options.postgresql))
        for item in plan:
            for system in options.systems:
                if item == "memory" and system == "ceiling":
                    continue
                if item in ("archive-off", "archive-on") and system not in ("direct",
                                                                             "direct-pg"):
                    continue
                where = workdir / f"run{run}-{system}-{item if isinstance(item, str) else item[1]}"
                options.cprofile = (f"{cprofile_base}.{run}.{where.name}"
                                    if cprofile_base and system == "direct" else None)
                print(f"run {run + 1}/{options.runs}: {SYSTEMS[system]}: "
                      f"{item if isinstance(item, str) else 'scaling %d' % item[1]}", flush=True)
                base_settings = options.muc_settings
                if item in ("archive-off", "archive-on"):
                    options.muc_settings = {**base_settings,
                                            "muc_log_by_default": item == "archive-on"}
                try:
                    session_cm = Session(system, where, options)
                finally:
                    options.muc_settings = base_settings
                async with session_cm as session:
                    if options.py_spy and system == "direct" and run == 0:
                        session.profiler = (PySpy(pathlib.Path(options.py_spy)),
                                            options.py_spy_phase)
                    if item == "main":
                        figures = await joins_and_fanout(
                            session, options, "joins" in options.workloads,
                            "fanout" in options.workloads)
                    elif item == "memory":
                        figures = await memory(session, options)
                    elif item in ("archive-off", "archive-on"):
                        figures = await joins_and_fanout(session, options, False, True)
                        key = "fanout_archived" if item == "archive-on" else "fanout_unarchived"
                        figures = {key: figures["fanout"]}
                    else:
                        figures = await scaling(session, options, item[1])
                per_run[system].update(figures)
                for key, (value, result) in figures.items():
                    if key in ("joins", "fanout", "memory", "fanout_archived",
                               "fanout_unarchived") or \
                            key.startswith("scale") and "_" not in key:
                        extra = ""
                        if key == "memory":
                            extra = f" (RSS {result.rss[0]:,} -> {result.rss[1]:,} KB)"
                        counts = ", ".join(f"{kind} {result.received[kind]}/{count}"
                                           for kind, count in result.expected.items())
                        print(f"    {key}: {value:,.2f} in {result.seconds:.2f}s [{counts}]"
                              f"{'' if result.ok else ' FAIL'}{extra}", flush=True)
        for s in options.systems:
            results[s].append(per_run[s])
    options.cprofile = cprofile_base
    return results


def source_version() -> str:
    """The commit measured, and whether the tree differs from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=procs.REPO_ROOT, capture_output=True,
                              text=True, timeout=10,
                              env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"}).stdout.strip()
    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("diff", "--name-only", "HEAD", "--", "mucsvc")
    except (OSError, subprocess.SubprocessError):
        return "(not a git checkout)"
    return f"at {commit or '?'}" + (" with uncommitted changes in mucsvc/" if dirty else "")


def main(argv=None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    procs.exit_on_sigterm()
    print(f"mucsvc {source_version()}; {os.cpu_count()} CPUs", flush=True)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="mucsvc-bench-"))
    driver_start = time.process_time()
    options.postgresql = None
    try:
        if any(system.endswith("-pg") for system in options.systems):
            from tests.postgresql import PostgresCluster
            options.postgresql = PostgresCluster(durable=True)
        results = asyncio.run(run_all(options, workdir))
    except procs.StartError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 2
    finally:
        procs.stop_all()
        if options.postgresql is not None:
            options.postgresql.destroy()
        if options.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text, ok = report(options, results)
    print()
    print(text)
    print(f"\ndriver CPU, whole run: {time.process_time() - driver_start:.1f} s")
    if options.py_spy and pathlib.Path(options.py_spy).exists():
        print(f"\nprofile of twistd during the direct {options.py_spy_phase} phase "
              f"({options.py_spy}):")
        print(profile.summarize(options.py_spy))
    return 0 if ok else 1
