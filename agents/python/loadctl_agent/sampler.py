"""sampler.py - one sampling thread that yields both a CPU and a wall-clock profile of every Python thread.

Every 1/hz seconds, while at least one profile is being collected, the sampler reads each thread's
stack (sys._current_frames()), the label tuple of the request that thread serves (context.ACTIVE), and
the thread's own CPU clock. Each (stack, labels) pair accumulates three numbers per collector: ticks
seen (wall samples), wall time (the tick's length) and CPU time (how far the thread's CPU clock moved
since the previous tick, charged to the stack it is on now). So a thread blocked on I/O, a lock, a sleep
or the GIL gains wall time but no CPU time. asyncio requests that are suspended (awaiting) are sampled
from their coroutine chain (cr_await) into the wall profile, labelled (context.INFLIGHT).

Bounded: stacks are cut at MAX_DEPTH frames (root side dropped), a collector holds at most MAX_KEYS
distinct pairs (further samples count under one "[agent: too many distinct stacks]" frame), at most
MAX_COLLECTORS profiles run at once. A failing tick logs once and stops the sampler: the app goes on."""

import logging
import sys
import threading
import time

from . import context

MAX_DEPTH = 128
MAX_KEYS = 20000
MAX_COLLECTORS = 4
MAX_ASYNC = 1000  # suspended asyncio requests sampled per tick
CODE_CACHE_MAX = 50000
STACK_IDS_MAX = 100000  # interned stacks before the table starts anew (ids are never reused)
OVERFLOW = ((("[agent: too many distinct stacks]", "<agent>", 0), 0),)
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


class Collector:
    """One profile being collected: (stack id, labels) -> [ticks, wall_ns, cpu_ns, stack]."""

    def __init__(self, kind):
        self.kind = kind
        self.agg = {}
        self.time_ns = time.time_ns()
        self.start_mono = time.monotonic_ns()
        self.ticks = 0

    def add(self, key, stack, wall_ns, cpu_ns):
        v = self.agg.get(key)
        if v is None:
            if len(self.agg) >= MAX_KEYS:
                v = self.agg.get(OVERFLOW_KEY)
                if v is None:
                    v = self.agg[OVERFLOW_KEY] = [0, 0, 0, OVERFLOW]
            else:
                v = self.agg[key] = [0, 0, 0, stack]
        v[0] += 1
        v[1] += wall_ns
        v[2] += cpu_ns


class Sampler:
    def __init__(self, hz=100):
        self.hz = max(1, min(int(hz), 1000))
        self.period_ns = 1000000000 // self.hz
        self.collectors = []
        self.lock = threading.Lock()
        self.error = None  # why the sampler stopped, once it has
        self.stopping = threading.Event()
        self.thread = None
        self.codes = {}  # code object -> (function name, file name, first line)
        self.last = {}  # thread ident -> (leaf frame, line, stack, clock id, cpu_ns, frames, stack id)
        self.stack_ids = {}  # stack -> id: collectors key on the id, hashing a stack once when it changes
        self.next_stack_id = 1
        self.ticks_total = 0  # ticks taken, and the sampler thread's own CPU time (the agent's cost)
        self.cpu_ns = 0
        self.tick_cpu_ns = 0  # the part of cpu_ns spent reading stacks (the rest: waking up, the GIL)
        self.encode_ns = 0  # CPU the endpoint spent encoding profiles (added by server.py)

    def start(self):
        self.thread = threading.Thread(target=self._run, name="loadctl-agent-sampler", daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread and self.thread is not threading.current_thread():
            self.thread.join(timeout=2)

    def subscribe(self, kind):
        """A new collector, or None when MAX_COLLECTORS already run or the sampler has stopped."""
        with self.lock:
            if self.error or self.stopping.is_set() or len(self.collectors) >= MAX_COLLECTORS:
                return None
            c = Collector(kind)
            self.collectors = self.collectors + [c]
            return c

    def unsubscribe(self, collector):
        with self.lock:
            self.collectors = [c for c in self.collectors if c is not collector]

    def _run(self):
        context.AGENT_THREADS.add(threading.get_ident())
        prev = time.monotonic_ns()
        cpu0 = time.thread_time_ns()
        deadline = prev
        try:
            while True:
                deadline += self.period_ns  # ticks keep to the clock: a late wake-up shortens the next wait
                now = time.monotonic_ns()
                if deadline < now - self.period_ns:
                    deadline = now  # far behind (GIL held long, machine busy): no burst to catch up
                if self.stopping.wait(max(0, deadline - now) / 1e9):
                    break
                now = time.monotonic_ns()
                collectors = self.collectors
                if collectors:
                    t0 = time.thread_time_ns()
                    self.tick(collectors, now - prev)  # a late tick (GIL held long) carries the time it missed
                    t1 = time.thread_time_ns()
                    self.ticks_total += 1
                    self.tick_cpu_ns += t1 - t0
                    self.cpu_ns = t1 - cpu0
                else:
                    self.last.clear()
                prev = now
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
        last = self.last
        for ident, frame in frames.items():
            if ident in skip:
                continue
            sid, stack, cpu_ns = self._thread(ident, frame, last.get(ident))
            key = (sid, active.get(ident) or ())
            for c in collectors:
                c.add(key, stack, wall_ns, cpu_ns)
        for ident in [i for i in last if i not in frames]:
            del last[ident]
        for req in list(context.INFLIGHT)[:MAX_ASYNC]:
            if req.running or req.coro is None:
                continue
            stack = self.coro_stack(req.coro)
            key = (self.intern(stack), req.labels)
            for c in collectors:
                c.add(key, stack, wall_ns, 0)
        for c in collectors:
            c.ticks += 1

    def _thread(self, ident, frame, prev):
        """(stack id, stack, CPU ns since the previous tick) of one thread; remembers this tick in self.last."""
        line = frame.f_lineno
        clock = cpu_prev = frames = None
        if prev is not None:
            cpu_prev = prev[4]
            if prev[0] is frame and prev[1] == line:  # still on the same line: same stack, same thread
                frames, stack, clock, sid = prev[5], prev[2], prev[3], prev[6]
        if frames is None:
            frames, stack = self.walk(frame, prev[5] if prev is not None else (), prev[2] if prev is not None else ())
            sid = self.intern(stack)
        try:
            if clock is None:  # looked up again when the stack moved: an ident may be reused by a new thread
                clock = thread_cpu_clock(ident)
            cpu = time.clock_gettime_ns(clock)
        except (OSError, ValueError, OverflowError):
            cpu, clock = cpu_prev, None
        self.last[ident] = (frame, line, stack, clock, cpu, frames, sid)
        if cpu is None or cpu_prev is None or cpu < cpu_prev:
            return sid, stack, 0
        return sid, stack, cpu - cpu_prev

    def intern(self, stack):
        sid = self.stack_ids.get(stack)
        if sid is None:
            if len(self.stack_ids) >= STACK_IDS_MAX:
                self.stack_ids.clear()
            sid = self.stack_ids[stack] = self.next_stack_id
            self.next_stack_id += 1
        return sid

    def walk(self, frame, prev_frames, prev_stack):
        """(frames, stack) of a thread: frames leaf first (at most MAX_DEPTH), stack leaf-first
        ((function, file, first line), line) pairs. The callers that are the same frame objects as in
        the thread's previous stack (prev_frames, prev_stack) are reused: a live frame's callers and
        their lines cannot change, so only the frames below the deepest shared one are read anew."""
        frames = []
        f = frame
        while f is not None and len(frames) < MAX_DEPTH:
            frames.append(f)
            f = f.f_back
        n, pn, shared = len(frames), len(prev_frames), 0
        while shared < n and shared < pn and frames[n - 1 - shared] is prev_frames[pn - 1 - shared]:
            shared += 1
        if shared:
            shared -= 1  # the deepest shared frame may be on another line now: read it again
        codes, out = self.codes, []
        for f in frames[:n - shared]:
            code = f.f_code
            info = codes.get(code)
            if info is None:
                info = self.function(code, f.f_globals)
            out.append((info, f.f_lineno))
        if shared:
            return frames, tuple(out) + prev_stack[pn - shared:]
        return frames, tuple(out)

    def function(self, code, frame_globals):
        info = self.codes.get(code)
        if info is None:
            if len(self.codes) >= CODE_CACHE_MAX:
                self.codes.clear()
            module = frame_globals.get("__name__") if isinstance(frame_globals, dict) else None
            name = getattr(code, "co_qualname", code.co_name)
            info = self.codes[code] = ("%s.%s" % (module, name) if module else name, code.co_filename,
                                       code.co_firstlineno)
        return info

    def stack(self, frame):
        """Leaf-first tuple of ((function, file, first line), line) for a frame and its callers."""
        return self.walk(frame, (), ())[1]

    def coro_stack(self, coro):
        """Leaf-first stack of a suspended coroutine chain, ending in what the innermost one awaits."""
        out = []
        obj = coro
        while obj is not None and len(out) < MAX_DEPTH:
            frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) or getattr(obj, "ag_frame", None)
            if frame is None:
                break
            out.append((self.function(frame.f_code, frame.f_globals), frame.f_lineno))
            obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None) or getattr(obj, "ag_await", None)
        if obj is not None:
            out.append((("[await] %s" % type(obj).__name__, "<asyncio>", 0), 0))
        out.reverse()
        return tuple(out)
