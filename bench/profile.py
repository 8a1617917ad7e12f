"""Read a py-spy profile of twistd (``py-spy record --format raw``: one line
per distinct stack, ``frame;frame;… count``) and say where the time went.

``python3 -m bench.profile FILE`` prints three views:

- layers: every sample charged to exactly one layer, the one of the
  innermost frame that belongs to a known layer (XML parsing, dispatch,
  our handlers, serialization, the write path, …);
- own time: the functions where the samples were taken;
- inclusive time: the functions with everything they call.
"""

from __future__ import annotations

import collections
import pathlib
import sys

#: (layer, test on "function (file)") from the most specific to the most
#: general; a sample goes to the first layer matching its innermost frames.
LAYERS = [
    ("socket send (syscall)", lambda f, p: f in ("untilConcludes", "Connection.writeSomeData")),
    ("Twisted write buffering", lambda f, p: p.endswith("twisted/internet/abstract.py")),
    ("logging", lambda f, p: "twisted/logger/" in p or p.endswith("twisted/python/log.py")
     and f not in ("callWithLogger", "callWithContext")),
    ("Deferreds", lambda f, p: p.endswith("twisted/internet/defer.py")),
    ("stanza send (XmlStream.send, wokkel, stats)",
     lambda f, p: f == "XmlStream.send" or p.endswith("wokkel/component.py")
     or p.endswith("wokkel/subprotocols.py") or p.endswith("mucsvc/stats.py")),
    ("domish serialization (toXml)",
     lambda f, p: p.endswith("xish/domish.py") and ("Serializer" in f or "toXml" in f)),
    ("JID parsing", lambda f, p: p.endswith("jabber/jid.py") or "jids.py" in p),
    ("XML parsing (expat, domish elements)", lambda f, p: p.endswith("xish/domish.py")),
    ("xish dispatch (XPath observers)",
     lambda f, p: p.endswith("xish/utility.py") or p.endswith("xish/xpath.py")
     or f == "XmlStream.onElement"),
    ("mucsvc: fan-out and escaping",
     lambda f, p: p.endswith("mucsvc/protocol/fanout.py") or p.endswith("mucsvc/protocol/xmltext.py")),
    ("mucsvc: room and stanza handling", lambda f, p: "mucsvc/" in p),
    ("reactor (epoll, TCP read)", lambda f, p: "twisted/internet/" in p),
]


def parse_frame(frame: str) -> tuple[str, str]:
    """``"func (path/file.py:12)"`` -> ``("func", "path/file.py")``."""
    name, sep, where = frame.partition(" (")
    if not sep:
        return frame, ""
    return name, where.rstrip(")").rsplit(":", 1)[0]


def short(frame: tuple[str, str]) -> str:
    name, path = frame
    parts = pathlib.PurePath(path).parts
    return f"{name} ({'/'.join(parts[-2:])})" if path else name


#: Frames every sample of a twistd process runs under: the program, the
#: reactor loop and its logging context, not worth listing.
_LOOP_FILES = ("application/app.py", "scripts/twistd.py", "scripts/_twistd_unix.py",
               "internet/base.py", "python/log.py", "python/context.py")
_LOOP_FUNCTIONS = ("<module>", "EPollReactor.doPoll", "_PollLikeMixin._doReadOrWrite")


def _is_loop(frame: str) -> bool:
    return frame.startswith(_LOOP_FUNCTIONS) or any(f"({path})" in frame or
                                                    frame.endswith(f"{path})")
                                                    for path in _LOOP_FILES)


def read(path: pathlib.Path):
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield [parse_frame(f) for f in stack.split(";")], int(count)


def summarize(path, top: int = 20) -> str:
    layers, own, inclusive = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for frames, n in read(pathlib.Path(path)):
        total += n
        own[short(frames[-1])] += n
        for frame in {short(f) for f in frames}:
            inclusive[frame] += n
        for func, file in reversed(frames):
            layer = next((name for name, test in LAYERS if test(func, file)), None)
            if layer is not None:
                layers[layer] += n
                break
        else:
            layers["other"] += n
    if not total:
        return "no samples"
    pct = lambda n: f"{100 * n / total:5.1f}%"
    lines = [f"{total} samples", "", "by layer (each sample once, innermost known layer):"]
    lines += [f"  {pct(n)}  {name}" for name, n in layers.most_common()]
    lines += ["", "own time (the function itself):"]
    lines += [f"  {pct(n)}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time (the function and what it calls), below the reactor loop:"]
    shown = [(f, n) for f, n in inclusive.most_common() if not _is_loop(f)][:top]
    lines += [f"  {pct(n)}  {frame}" for frame, n in shown]
    return "\n".join(lines)


if __name__ == "__main__":
    for name in sys.argv[1:] or sys.exit("usage: python3 -m bench.profile PYSPY_RAW_FILE..."):
        print(f"== {name}")
        print(summarize(name))
