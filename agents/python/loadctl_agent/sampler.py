"""sampler.py - one sampling thread that yields both a CPU and a wall-clock profile of every Python thread.

Every 1/hz seconds, while at least one profile is being collected, the sampler reads each thread's
stack (sys._current_frames()), the label tuple of the request that thread serves (context.ACTIVE), and
the thread's own CPU clock. Each (stack, labels) pair accumulates four numbers per collector: ticks
seen (wall samples), wall time (the tick's length), CPU time (how far the thread's CPU clock moved
since the previous tick, charged to the stack it is on now) and CPU samples: one each time the thread's
CPU clock passes another multiple of the period, on the stack it is on then (what a CPU timer signal
would sample: counts whose expectation is CPU time / period for every stack, however short). So a thread blocked on I/O, a lock, a sleep
or the GIL gains wall time but no CPU time. asyncio requests that are suspended (awaiting) are sampled
from their coroutine chain (cr_await) into the wall profile, labelled (context.INFLIGHT).

Stacks are nodes of one call tree (stacks.py): a stack seen before is found by its signature, and the
sampler holds no thread's frames but its root and, while the thread is idle, its leaf. Bounded: profiles
cut stacks at MAX_DEPTH frames (root side dropped), a collector holds at most MAX_KEYS
distinct pairs (further samples count under one "[agent: too many distinct stacks]" frame), at most
MAX_COLLECTORS profiles run at once. A failing tick logs once and stops the sampler: the app goes on."""

import logging
import sys
import threading
import time

from . import context, stacks
from .labels import bounded

MAX_DEPTH = 128
MAX_KEYS = 20000
MAX_COLLECTORS = 4
MAX_ASYNC = 1000  # suspended asyncio requests sampled per tick
CODE_CACHE_MAX = 50000
COST_EVERY = 8  # the sampler's own CPU is read on every COST_EVERY-th tick (reading stacks: estimated)
IDLE_READ_EVERY = 10  # ticks a still, idle thread goes without a CPU clock read (a syscall each)
OVERFLOW = (0, None, ("[agent: too many distinct stacks]", "<agent>", 0), 0, None)  # a stack node of its own
OVERFLOW_KEY = (0, ())
LOG = logging.getLogger("loadctl_agent")
_LINUX = sys.platform.startswith("linux")


def thread_cpu_clock(ident):
    """The CPU clock id of a live thread. On Linux it is made from the kernel thread id (the ABI glibc's
    pthread_getcpuclockid uses), because pthread_getcpuclockid on the pthread_t of a thread that has just
    exited is undefined behaviour, while a dead tid only makes clock_gettime fail (EINVAL)."""
    thread = threading._active.get(ident)  # noqa: SLF001 - the only map from ident to native_id
    native = getattr(thread, "native_id", None)
    if _LINUX and native:
        return ((~native) << 3) | 6  # MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)
    return time.pthread_getcpuclockid(ident)


class _Thread:
    """One thread's sampling state: its stack walker, CPU clock id, last CPU reading, CPU ns not yet
    sampled, `quiet` (None when it used CPU at its last read, else the ticks not read since: a thread
    whose stack did not move and that used no CPU at its last read is read again only after
    IDLE_READ_EVERY ticks or when it moves), its root frame (a new root is a new thread), its last tick's
    key, stack node and labels, and while it is still (its leaf held), the collectors' entries of its key
    (`vals`, one per collector of the list `vals_for`): a still tick adds to them without a lookup."""

    __slots__ = ("walker", "clock", "cpu", "credit", "quiet", "root", "key", "node", "labels", "kept", "vals",
                 "vals_for")

    def __init__(self):
        self.walker = stacks.Walker()
        self.clock = self.cpu = self.quiet = self.root = self.key = self.node = self.labels = None
        self.vals = self.vals_for = None
        self.kept = ()  # labels.bounded(labels): the tuple the profile keys hold
        self.credit = 0


class Collector:
    """One profile being collected: (stack node id, labels) -> [ticks, wall_ns, cpu_ns, stack node,
    cpu samples]."""

    def __init__(self, kind):
        self.kind = kind
        self.agg = {}
        self.time_ns = time.time_ns()
        self.start_mono = time.monotonic_ns()
        self.ticks = 0

    def add(self, batch, wall_ns):
        """One tick: batch is [(key, stack node, cpu_ns, cpu samples, seen)]: seen 1 for a stack seen now (a
        tick of wall_ns), 0 for CPU charged to a thread's previous stack. Returns each entry's value list."""
        agg, out = self.agg, []
        for key, node, cpu_ns, count, seen in batch:
            v = agg.get(key)
            if v is None:
                if len(agg) >= MAX_KEYS:
                    key, node = OVERFLOW_KEY, OVERFLOW
                    v = agg.get(key)
                if v is None:
                    v = agg[key] = [0, 0, 0, node, 0]
            v[0] += seen
            v[1] += wall_ns * seen
            v[2] += cpu_ns
            v[4] += count
            out.append(v)
        self.ticks += 1
        return out


class Subscribers:
    """The collectors of a sampling loop that runs while it has one (Sampler here, extsampler.ExtSampler in
    the sampler process): self.lock, self.collectors (replaced, never changed in place: the loop reads it
    without the lock), self.wanted (set while there is one) and self.stopped()."""

    def subscribe(self, kind):
        """A new collector, or None when MAX_COLLECTORS already run or the sampler has stopped."""
        with self.lock:
            if self.stopped() or len(self.collectors) >= MAX_COLLECTORS:
                return None
            c = Collector(kind)
            self.collectors = self.collectors + [c]
            self.wanted.set()
            return c

    def unsubscribe(self, collector):
        with self.lock:
            self.collectors = [c for c in self.collectors if c is not collector]


class Sampler(Subscribers):
    def __init__(self, hz=100):
        self.hz = max(1, min(int(hz), 1000))
        self.period_ns = 1000000000 // self.hz
        self.collectors = []
        self.lock = threading.Lock()
        self.error = None  # why the sampler stopped, once it has
        self.stopping = threading.Event()
        self.wanted = threading.Event()  # set while a collector runs (or to wake the thread to stop)
        self.thread = None
        self.codes = {}  # id(code object) -> (code object, (function name, file name, first line))
        self.last = {}  # thread ident -> _Thread (only while sampling: it holds the threads' frames)
        self.tree = stacks.Tree(self.function)
        self.ticks_total = 0  # ticks taken, and the sampler thread's own CPU time (the agent's cost; read
        self.cpu_ns = 0  # every COST_EVERY ticks)
        self.tick_cpu_ns = 0  # the part of cpu_ns spent reading stacks (the rest: waking up, the GIL), estimated
        self.encode_ns = 0  # CPU the endpoint spent encoding profiles (added by server.py)

    def start(self):
        self.thread = threading.Thread(target=self._run, name="loadctl-agent-sampler", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.wanted.set()
        if self.thread and self.thread is not threading.current_thread():
            self.thread.join(timeout=2)

    def stopped(self):
        return bool(self.error) or self.stopping.is_set()

    def _run(self):
        context.AGENT_THREADS.add(threading.get_ident())
        cpu0 = time.thread_time_ns()
        try:
            while not self.stopping.is_set():
                self.wanted.wait()  # no collector: asleep until subscribe() (or stop()) sets it
                self.last.clear()
                prev = deadline = time.monotonic_ns()
                while self.collectors and not self.stopping.is_set():
                    deadline += self.period_ns  # ticks keep to the clock: a late wake-up shortens the next wait
                    now = time.monotonic_ns()
                    if deadline < now - self.period_ns:
                        deadline = now  # far behind (GIL held long, machine busy): no burst to catch up
                    time.sleep(max(0, deadline - now) / 1e9)  # cheaper than an Event's timed wait
                    now = time.monotonic_ns()
                    collectors = self.collectors
                    if collectors:
                        n = self.ticks_total
                        if n % COST_EVERY:
                            self.tick(collectors, now - prev)  # a late tick (GIL held long) carries the time it missed
                        else:  # the agent's cost, read on every COST_EVERY-th tick (each read is a syscall)
                            t0 = time.thread_time_ns()
                            self.tick(collectors, now - prev)
                            t1 = time.thread_time_ns()
                            self.tick_cpu_ns += COST_EVERY * (t1 - t0)
                            self.cpu_ns = t1 - cpu0
                        self.ticks_total = n + 1
                    prev = now
                self.last.clear()  # the threads' frames (and their locals) are not held while idle
                with self.lock:
                    if not self.collectors:
                        self.wanted.clear()
        except Exception as e:  # never take the app down: log once, stop sampling
            self.error = "%s: %s" % (type(e).__name__, e)
            LOG.warning("loadctl_agent: sampler stopped: %s", self.error)
        finally:
            context.AGENT_THREADS.discard(threading.get_ident())

    def tick(self, collectors, wall_ns):
        """One sample of every thread (and suspended asyncio request) into each collector."""
        frames = sys._current_frames()  # noqa: SLF001 - the documented way to read other threads' stacks
        skip = context.AGENT_THREADS
        active = context.ACTIVE
        last, tree, started = self.last, self.tree, context.STARTED
        now = time.monotonic_ns()
        batch, still, seen = [], [], 0
        for ident, frame in frames.items():
            if ident in skip:
                continue
            seen += 1
            st = last.get(ident)
            if st is None:
                st = last[ident] = _Thread()
            walker = st.walker
            quiet = st.quiet
            if (frame is walker.leaf and st.vals_for is collectors and quiet is not None and quiet < IDLE_READ_EVERY
                    and frame.f_lasti == walker.lasti and (active.get(ident) or ()) is st.labels):
                # still: the same leaf function frame (vals_for is set only for one) at the same instruction, no
                # CPU at its last read, the same labels: one more wall tick on the entries it had (what the full
                # path below would add, less the lookups)
                st.quiet = quiet + 1
                for v in st.vals:
                    v[0] += 1
                    v[1] += wall_ns
                continue
            node = walker.walk(tree, frame)
            if node is not None and tree.is_agent(node):  # the agent's own code (a thread not marked yet or
                st.vals_for = None  # any more, e.g. an HTTP handler's first and last steps): not the app's
                walker.release()
                continue
            quiet = st.quiet
            if quiet is None or walker.moved or quiet >= IDLE_READ_EVERY:
                cpu_ns, count = self._cpu(ident, st)
                if st.quiet is None:  # it ran: its leaf will have returned by the next tick, so not held
                    walker.release()
            else:  # did not move and used no CPU at its last read: not read this tick
                st.quiet = quiet + 1
                cpu_ns = count = 0
            labels = active.get(ident) or ()
            if labels is not st.labels:  # another request (or a label set on it) since the last tick
                kept = bounded(labels)
                if cpu_ns and kept and st.key is not None:
                    begun = started.get(ident)
                    own = now - begun if begun is not None else cpu_ns
                    if 0 <= own < cpu_ns:  # a request began since the last tick: what came before is not its CPU
                        rest = cpu_ns - own
                        rest_count = count * rest // cpu_ns
                        batch.append((st.key, st.node, rest, rest_count, 0))
                        cpu_ns, count = own, count - rest_count
                st.labels, st.kept = labels, kept
                key = st.key = (node[0], kept)
            elif node is st.node:
                key = st.key
            else:
                key = st.key = (node[0], st.kept)
            if walker.leaf is not None and not walker.leaf.f_code.co_flags & stacks.RESUMABLE:
                still.append((st, len(batch)))  # its leaf held (no CPU at its last read): may be still next tick
                # (a generator's frame is never: it can be resumed from another caller to the same instruction)
            else:
                st.vals_for = None
            batch.append((key, node, cpu_ns, count, 1))
            st.node = node
        if len(last) > seen:
            for ident in [i for i in last if i not in frames or i in skip]:
                del last[ident]
        if context.INFLIGHT:
            for req in list(context.INFLIGHT)[:MAX_ASYNC]:
                if req.running or req.coro is None:
                    continue
                node = self.coro_node(req.coro)
                if node is not None:
                    batch.append(((node[0], req.labels), node, 0, 0, 1))
        added = [c.add(batch, wall_ns) for c in collectors]
        for st, i in still:
            st.vals = [vals[i] for vals in added]
            st.vals_for = collectors

    def _cpu(self, ident, st):
        """(CPU ns since the thread's previous read, CPU samples) of one thread: read from its own clock,
        charged to the stack it is on now."""
        root = st.walker.root
        if root is not st.root:  # a new thread, or a new thread under a reused ident: its own clock
            st.root, st.clock, st.cpu, st.credit = root, None, None, 0
        prev = st.cpu
        try:
            if st.clock is None:
                st.clock = thread_cpu_clock(ident)
            cpu = time.clock_gettime_ns(st.clock)
        except (OSError, ValueError, OverflowError):
            st.clock = st.cpu = st.quiet = None
            return 0, 0
        st.cpu = cpu
        if prev is None:  # a first read is a baseline, no sign of idleness: read again at the next tick
            st.quiet = None
            return 0, 0
        if cpu <= prev:
            st.quiet = 0
            return 0, 0
        st.quiet = None
        credit = st.credit + cpu - prev
        count = credit // self.period_ns
        st.credit = credit - count * self.period_ns
        return cpu - prev, count

    def function(self, code, frame_globals):
        """(function, file, first line) of a code object, cached by id(code) with the code object held (so
        its id stays its own): hashing a code object hashes its whole contents, many times an id's cost."""
        hit = self.codes.get(id(code))
        if hit is not None and hit[0] is code:
            return hit[1]
        if len(self.codes) >= CODE_CACHE_MAX:
            self.codes.clear()
        module = frame_globals.get("__name__") if isinstance(frame_globals, dict) else None
        name = getattr(code, "co_qualname", code.co_name)
        info = ("%s.%s" % (module, name) if module else name, code.co_filename, code.co_firstlineno)
        self.codes[id(code)] = (code, info)
        return info

    def stack(self, frame):
        """Leaf-first tuple of ((function, file, first line), line) for a frame and its callers."""
        return tuple(stacks.frames_of(stacks.Walker().walk(self.tree, frame), MAX_DEPTH))

    def coro_node(self, coro):
        """The stack node of a suspended coroutine chain, ending in what the innermost one awaits."""
        node, obj, depth = None, coro, 0
        while obj is not None and depth < MAX_DEPTH:
            frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) or getattr(obj, "ag_frame", None)
            if frame is None:
                break
            node = self.tree.frame(node, frame)
            obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None) or getattr(obj, "ag_await", None)
            depth += 1
        if obj is not None:
            node = self.tree.child(node, ("[await] %s" % type(obj).__name__, "<asyncio>", 0), 0)
        return node
