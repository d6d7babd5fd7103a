"""profiles.py - collected samples as pprof profiles: CPU, wall clock (from one sampler.Collector) and heap
(tracemalloc snapshot deltas).

CPU: sample types samples/count and cpu/nanoseconds, period cpu/nanoseconds = 1/hz; a (stack, labels)
pair's count is the CPU samples it got (one each time its thread's CPU clock passed another period, as
Go's CPU timer counts), so a pair's expected count is its CPU time / period however short its time is, and
pairs whose CPU passed no period boundary keep their nanoseconds with count 0.
Wall: samples/count (ticks the pair was seen) and wall/nanoseconds.
Heap: inuse_objects/count and inuse_space/bytes: for each allocation traceback, how much live memory it
gained between two tracemalloc snapshots (tracebacks that shrank are left out, and so is the agent's own
memory). tracemalloc records file
and line only; function names are found from the source (ast), with "<file>:<line>" when it cannot be
read. Heap samples carry no request labels."""

import ast
import os
import sys
import time
import tracemalloc

from . import labels as _labels, stacks
from .proto import Builder
from .sampler import MAX_DEPTH

HEAP_FRAMES = 16  # frames per allocation traceback when the agent starts tracemalloc itself
HEAP_MAX_SAMPLES = 5000  # largest growths kept
YIELD_EVERY = 256  # CPU and wall profiles: entries encoded between two pauses that give the app the GIL
YIELD_S = 0.0001  # a pause: a sleep (a sleep releases the GIL; a waiting app thread takes it)
pause = time.sleep


def _stack(builder, sid, node):
    """The frames of a stack node, only when the builder has not encoded that stack yet."""
    return None if sid in builder.stack_bytes else stacks.frames_of(node, MAX_DEPTH)


def _resolve(cache, labels):
    """A sample's (key, value) labels: requests' headers are parsed here, once per request."""
    out = cache.get(labels)
    if out is None:
        out = cache[labels] = _labels.resolve(labels)
    return out


def _entries(collector):
    """The collector's entries, the GIL given up (pause) after every YIELD_EVERY of them: encoding runs on
    the endpoint's thread while the app serves, and a thread that holds the GIL makes every request wait
    (for up to the interpreter's 5 ms switch interval); so no request waits on more than YIELD_EVERY
    samples' encoding (about a quarter of a millisecond)."""
    for i, entry in enumerate(list(collector.agg.items()), 1):
        yield entry
        if not i % YIELD_EVERY:
            pause(YIELD_S)


def cpu(collector, period_ns):
    b = Builder([("samples", "count"), ("cpu", "nanoseconds")], ("cpu", "nanoseconds"), period_ns,
                collector.time_ns, time.monotonic_ns() - collector.start_mono)
    resolved = {}
    for (sid, labels), (ticks, wall_ns, cpu_ns, node, count) in _entries(collector):
        if cpu_ns > 0:
            b.add_stack(sid, _stack(b, sid, node), [count, cpu_ns], _resolve(resolved, labels))
    return b.encode()


def wall(collector, period_ns):
    b = Builder([("samples", "count"), ("wall", "nanoseconds")], ("wall", "nanoseconds"), period_ns,
                collector.time_ns, time.monotonic_ns() - collector.start_mono)
    resolved = {}
    for (sid, labels), (ticks, wall_ns, cpu_ns, node, count) in _entries(collector):
        if ticks:
            b.add_stack(sid, _stack(b, sid, node), [ticks, wall_ns], _resolve(resolved, labels))
    return b.encode()


class _Names:
    """Function names for (file, line) pairs: the module from sys.modules, the innermost def from ast."""

    def __init__(self):
        self.modules = {}
        for name, mod in list(sys.modules.items()):
            f = getattr(mod, "__file__", None)
            if isinstance(f, str):
                self.modules.setdefault(f, name)
        self.defs = {}

    def _defs(self, filename):
        d = self.defs.get(filename)
        if d is None:
            d = []
            try:
                with open(filename, "rb") as f:
                    tree = ast.parse(f.read(), filename)
                self._walk(tree, "", d)
            except Exception:  # unreadable or not Python: names fall back to file:line
                pass
            self.defs[filename] = d
        return d

    def _walk(self, node, prefix, out):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    out.append((child.lineno, getattr(child, "end_lineno", child.lineno), q))
                    self._walk(child, q + ".<locals>.", out)
                else:
                    self._walk(child, q + ".", out)
            else:
                self._walk(child, prefix, out)

    def frame(self, filename, line):
        best = None
        for start, end, q in self._defs(filename):
            if start <= line <= end and (best is None or start >= best[0]):
                best = (start, q)
        mod = self.modules.get(filename)
        if best is None:
            return ("%s:%d" % (mod or filename, line), filename, 0, line)
        return ("%s.%s" % (mod, best[1]) if mod else best[1], filename, best[0], line)


def heap_delta(seconds, sleep):
    """Gzipped heap profile of what grew over `seconds` (sleep(seconds) waits, and returns True when the
    agent is stopping). Starts tracemalloc for the window when it is not already tracing."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(HEAP_FRAMES)
    try:
        t0_ns, m0 = time.time_ns(), time.monotonic_ns()
        before = tracemalloc.take_snapshot()
        sleep(seconds)
        after = tracemalloc.take_snapshot()
    finally:
        if started:
            tracemalloc.stop()
    own = [tracemalloc.Filter(False, os.path.join(os.path.dirname(__file__), "*"), all_frames=True),
           tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(own), after.filter_traces(own)
    diffs = [d for d in after.compare_to(before, "traceback") if d.size_diff > 0]
    diffs.sort(key=lambda d: -d.size_diff)
    b = Builder([("inuse_objects", "count"), ("inuse_space", "bytes")], ("space", "bytes"), 1, t0_ns,
                time.monotonic_ns() - m0)
    names = _Names()
    for d in diffs[:HEAP_MAX_SAMPLES]:
        frames = [names.frame(f.filename, f.lineno) for f in d.traceback]
        frames.reverse()  # a Traceback runs from the oldest frame to the most recent: pprof wants leaf first
        if frames:
            b.add(frames, [max(d.count_diff, 0), d.size_diff])
    return b.encode()

