"""extsampler.py - the external sampler: a process of its own (`python -m loadctl_agent.extsampler PID`,
started by loadctl_agent.start() through external.py) that samples the app's threads by reading the app's
memory, so the app never gives its GIL to a sampling thread.

Given on stdin (one JSON line): the layout the app found (layout.py), the label table's file descriptor
(slots.py, inherited), the rate, the expected stacks of the app's parked threads and the name of the Unix
socket to serve. It first walks the parked threads and answers "ok" on stdout only when it reads the same
frames as the app's sys._current_frames() (else "mismatch: ..." or "error: ..." and exits: the app keeps
its in-process sampler). Then, while at least one profile is being collected, every 1/hz seconds:
each thread's stack (remote.Reader), its labels (the label table), and its CPU time
(/proc/PID/task/TID/schedstat, ns on CPU) - the same samples the in-process sampler takes (sampler.py's
collectors and profiles.py's encoders): a CPU profile weighted by each thread's CPU time and a wall
profile. A thread that used no CPU since the last tick and has the same current frame has the same stack:
it is not read again; one that ran is read from its leaf down to the first frame still in the call it was
in at its last read (remote.Reader.walk).

Requests on the socket, one per connection: "profile cpu|wall SECONDS" answered "STATUS LENGTH\\n" and the
body (a gzipped profile.proto), "stats" answered with JSON (ticks, this process's CPU). The process dies
with the app (PR_SET_PDEATHSIG, and stdin's EOF; it ignores SIGINT and SIGTERM sent to the app's process
group), holds at most MEM_LIMIT bytes of address space, and stops sampling (answering 503) after an error,
logged once on stderr."""

import ctypes
import json
import os
import resource
import signal
import socket
import socketserver
import sys
import threading
import time

from . import labels as _labels, profiles, remote, slots, stacks
from .sampler import Subscribers

MEM_LIMIT = 1 << 30
PR_SET_PDEATHSIG = 1
SIGS_MAX = 100000  # (parent, frame) -> node entries kept (then anew)
UNREADABLE = ("[agent: stack changed while read]", "<agent>", 0)
SCHED_ENV, SCHED_DEFAULT = "LOADCTL_AGENT_SAMPLER_SCHED", "idle"
SCHED_CLASSES = ("idle", "nice", "normal")
RAN_NONE, STILL = (0, 0, True), (0, 0, False)  # (CPU ns, CPU samples, ran): a thread's CPU unknown or unmoved
READ_TRIES = 3  # reads of a running thread's stack that came out inconsistent, before it counts as unreadable


class _Thread:
    __slots__ = ("fd", "cpu", "credit", "frame", "node", "labels", "kept", "walk", "nodes", "index", "ts", "plan",
                 "plan_of")

    def __init__(self):
        self.fd = self.cpu = self.frame = self.node = self.labels = self.ts = self.plan_of = None
        self.plan = ()  # remote.Reader.peek_plan() of walk (made when walk is plan_of)
        self.kept = ()
        self.walk, self.nodes, self.index = [], [], {}  # the last walk: frames, their nodes, by address
        self.credit = 0


class ExtSampler(Subscribers):
    """The sampling loop over the app's threads; the same interface as sampler.Sampler for server code."""

    sched = "normal"  # the scheduling class this process runs at (lower_priority())

    def __init__(self, reader, table, pid, hz):
        self.reader, self.table, self.pid = reader, table, pid
        self.hz = max(1, min(int(hz), 1000))
        self.period_ns = 1000000000 // self.hz
        self.collectors = []
        self.lock = threading.Lock()
        self.error = None
        self.wanted = threading.Event()
        self.tree = stacks.Tree(None)
        self.at = {}  # (parent node id, code, function, offset) -> stack node
        self.at_reset = time.monotonic()
        self.last = {}  # native tid -> _Thread
        self.ticks_total = 0
        self.unreadable = 0  # thread samples whose stack could not be read consistently
        self.reads = 0  # thread stacks read (the others were known unchanged)
        self.sampling_ns, self.began = 0, None  # time spent sampling (ticks / it: the rate achieved), since
        self.tick_cpu_ns = 0
        self.cpu_ns = self.encode_ns = 0
        self.thread = threading.Thread(target=self._run, name="loadctl-extsampler", daemon=True)
        self.thread.start()

    def stopped(self):
        return bool(self.error)

    def _run(self):
        try:
            while True:
                self.wanted.wait()
                prev = deadline = self.began = time.monotonic_ns()
                while self.collectors:
                    deadline += self.period_ns
                    now = time.monotonic_ns()
                    if deadline < now - self.period_ns:
                        deadline = now
                    time.sleep(max(0, deadline - now) / 1e9)
                    now = time.monotonic_ns()
                    collectors = self.collectors
                    if collectors:
                        t0 = time.thread_time_ns()
                        self.tick(collectors, now - prev)
                        self.tick_cpu_ns += time.thread_time_ns() - t0
                        self.ticks_total += 1
                    prev = now
                self.sampling_ns += time.monotonic_ns() - self.began
                self.began = None
                self._close_threads()
                with self.lock:
                    if not self.collectors:
                        self.wanted.clear()
        except Exception as e:  # stop sampling, say why once; the app goes on
            self.error = "%s: %s" % (type(e).__name__, e)
            sys.stderr.write("loadctl_agent: external sampler stopped: %s\n" % self.error)

    def _close_threads(self):
        for st in self.last.values():
            if st.fd is not None:
                os.close(st.fd)
        self.last.clear()

    def node_of(self, st, frame, window=None):
        """The stack node of a thread's stack from its current interpreter frame, or None when it could
        not be read. Only the frames above the first one the thread's last walk also had are read (its
        request's own frames, mostly); the rest are the last walk's nodes."""
        now = time.monotonic()
        if now - self.at_reset > remote.CODE_TTL_S or len(self.at) >= SIGS_MAX:
            self.at.clear()
            self.at_reset = now
        new, j = self.reader.walk(frame, window, st.index)
        if j is not None:
            node, walk, nodes = st.nodes[j], st.walk[j:], st.nodes[j:]
        else:
            node, walk, nodes = None, [], []
        added, at, tree, code_of = [], self.at, self.tree, self.reader.code
        for _addr, code, func, lasti, _prev in reversed(new):
            key = (node[0] if node is not None else 0, code, func, lasti)
            hit = at.get(key)
            if hit is None:
                c = code_of(code, func, now)
                if c is None:
                    st.walk, st.nodes, st.index = [], [], {}
                    return None
                info, table = c
                hit = at[key] = tree.child(node, info, remote.line_at(table, lasti, info[2]))
            node = hit
            added.append(node)
        added.reverse()
        st.walk, st.nodes = new + walk, added + nodes
        st.index = {e[0]: (i, e) for i, e in enumerate(st.walk)}
        return node

    def _cpu(self, native, st):
        """(CPU ns since the last read, CPU samples, whether it ran) of one thread, from schedstat; None when
        it cannot be read (the thread ended)."""
        try:
            if st.fd is None:
                st.fd = os.open("/proc/%d/task/%d/schedstat" % (self.pid, native), os.O_RDONLY | os.O_CLOEXEC)
            cpu = int(os.pread(st.fd, 128, 0).split(None, 1)[0])
        except (OSError, ValueError, IndexError):  # the thread ended
            return None
        prev, st.cpu = st.cpu, cpu
        if prev is None or cpu <= prev:
            return 0, 0, prev is None
        credit = st.credit + cpu - prev
        count = credit // self.period_ns
        st.credit = credit - count * self.period_ns
        return cpu - prev, count, True

    def tick(self, collectors, wall_ns):
        """One sample of every thread. A thread that used no CPU since the last tick (its schedstat) and is
        on the same frame has the same stack: not read, nor is its thread state. One that ran and is back in
        the very call and instruction it was in at its last read, from the same callers (the headers of its
        remote.SAME_FRAMES innermost frames, read with the current frames in the same system call), has the
        same stack too. The others are read (their windows at once), from the leaf down to the first
        frames still in the calls they were in at the last read. A sample whose stack holds the agent's own
        frames (stacks.AGENT_MODULES) is dropped, and when a thread is new the table is read again after the
        stacks: a thread that marked itself the agent's (slots.AGENT) since the first read is dropped too."""
        last, reader, period = self.last, self.reader, self.period_ns
        cpu, still, peek, gone = {}, [], [], False
        for native, st in last.items():  # each known thread's CPU time (schedstat), in one pass
            try:
                if st.fd is None:
                    st.fd = os.open("/proc/%d/task/%d/schedstat" % (self.pid, native), os.O_RDONLY | os.O_CLOEXEC)
                now = int(os.pread(st.fd, 128, 0).split(None, 1)[0])
            except (OSError, ValueError, IndexError):  # the thread ended: its state is read by no one
                cpu[native], gone = RAN_NONE, True
                continue
            prev, st.cpu = st.cpu, now
            if prev is not None and now > prev:
                credit = st.credit + now - prev
                count = credit // period
                st.credit = credit - count * period
                cpu[native] = (now - prev, count, True)
                if st.walk:
                    if st.plan_of is not st.walk:
                        st.plan, st.plan_of = reader.peek_plan(st.walk), st.walk
                    peek += [p[:2] for p in st.plan]
            elif prev is None:
                cpu[native] = RAN_NONE
            else:
                cpu[native] = STILL
                if st.ts:
                    still.append(st.ts)
        ahead = self.table.ahead()  # label tuples to read: their heads with the states
        peek += [(a, reader.tuple_head) for _g, a in ahead.values()]
        threads = reader.threads(peek, () if gone else still)
        table = self.table.table(reader.peeked, ahead)
        batch, seen, todo, fresh = [], set(), [], False
        for _ident, native, frame, ts in threads:
            rec = table.get(native)
            if (rec is not None and rec[0] == slots.AGENT) or not frame:
                continue
            seen.add(native)
            st = last.get(native)
            if st is None:
                st = last[native] = _Thread()
                cpu[native] = self._cpu(native, st) or (0, 0, True)
                fresh = True
            st.ts = ts
            cpu_ns, count, ran = cpu[native]
            if st.node is None or frame != st.frame or not st.walk:
                read = True
            elif ran:
                read = st.plan_of is not st.walk or not reader.same_leaf(st.plan)
            else:
                read = False
            todo.append((native, frame, ts, st, rec, cpu_ns, count, read))
        windows = reader.windows([t[1] for t in todo if t[7]])  # the stacks to read, read at once
        if fresh:  # a thread new to the sampler may have marked itself the agent's after the table was read
            table = self.table.table()  # (the agent's HTTP handler threads, one per request): read it again
        tree = self.tree
        for native, frame, ts, st, rec, cpu_ns, count, read in todo:
            node = self._read(st, frame, ts, windows.get(frame)) if read else st.node
            st.frame, st.node = frame, node
            if fresh:
                rec = table.get(native)
                if rec is not None and rec[0] == slots.AGENT:
                    continue
            if tree.is_agent(node):  # the agent's own code, marked or not (yet): never in the app's profile
                continue
            labels = rec[1] if rec is not None else ()
            if labels != st.labels:
                st.labels, st.kept = labels, _labels.bounded(labels)
            batch.append(((node[0], st.kept), node, cpu_ns, count, 1))
        for native in [n for n in last if n not in seen]:
            st = last.pop(native)
            if st.fd is not None:
                os.close(st.fd)
        for c in collectors:
            c.add(batch, wall_ns)
        self.reads += sum(1 for t in todo if t[7])

    def _read(self, st, frame, ts, window):
        """The stack node of a thread read now (UNREADABLE's when it ran on while read, READ_TRIES times)."""
        node = self.node_of(st, frame, window)
        for _ in range(READ_TRIES - 1):  # it ran on while read (a frame popped under the walk): again
            if node is not None:
                return node
            frame = self.reader.frame_of(ts)
            node = self.node_of(st, frame) if frame else None
        if node is None:
            node = self.tree.child(None, UNREADABLE, 0)
            self.unreadable += 1
            st.walk = []
        return node


def verify(reader, expect):
    """None when every expected thread's stack reads as expected, else why not."""
    got = {t[0]: t[2] for t in reader.threads()}
    for ident, want in expect.items():
        frame = got.get(int(ident))
        if not frame:
            return "thread %s not found" % ident
        stack = reader.stack(frame)
        want = [((f[0][0], f[0][1], f[0][2]), f[1]) for f in want]
        if stack != want:
            return "thread %s: read %s, expected %s" % (ident, stack and stack[:3], want[:3])
    return None


class _Handler(socketserver.StreamRequestHandler):
    sampler = None

    def handle(self):
        line = self.rfile.readline(256).decode("ascii", "replace").split()
        s = self.sampler
        if line[:1] == ["stats"]:
            body = json.dumps({"ticks": s.ticks_total, "hz": s.hz, "tick_cpu_ns": s.tick_cpu_ns,
                               "encode_ns": s.encode_ns, "process_cpu_ns": time.process_time_ns(),
                               "torn": s.table.torn, "unreadable": s.unreadable, "reads": s.reads,
                               "sampling_ns": s.sampling_ns + (time.monotonic_ns() - s.began if s.began else 0),
                               "sched": s.sched,
                               "error": s.error}).encode()
            return self.answer(200, body)
        if len(line) != 3 or line[0] != "profile" or line[1] not in ("cpu", "wall"):
            return self.answer(400, b"bad request\n")
        if s.error:
            return self.answer(503, ("sampler stopped: %s\n" % s.error).encode())
        c = s.subscribe(line[1])
        if c is None:
            return self.answer(500, b"profiling already in use (too many profiles at once)\n")
        try:
            time.sleep(float(line[2]))
        finally:
            s.unsubscribe(c)
        t0 = time.thread_time_ns()
        body = (profiles.cpu if line[1] == "cpu" else profiles.wall)(c, s.period_ns)
        s.encode_ns += time.thread_time_ns() - t0
        self.answer(200, body)

    def answer(self, status, body):
        self.wfile.write(b"%d %d\n" % (status, len(body)) + body)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _die_with_parent(ppid):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != ppid:
        os._exit(0)


def lower_priority(how):
    """Run this process (all its threads: call before any starts) at scheduling class `how`: "idle"
    (SCHED_IDLE: it runs when a CPU has nothing else to run, so the app's threads always go first), "nice"
    (nice 19) or "normal"; the class it runs at. ValueError for another name."""
    if how not in SCHED_CLASSES:
        raise ValueError("%s=%r: expected one of %s" % (SCHED_ENV, how, ", ".join(SCHED_CLASSES)))
    try:
        if how == "idle":
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        elif how == "nice":
            os.nice(19)
    except (OSError, AttributeError):  # not Linux, or not allowed: as it is
        return "normal"
    return how


def main(argv):
    ppid = int(argv[1])
    for sig in (signal.SIGINT, signal.SIGTERM):  # a terminal's ^C or a server's stop signal to the process
        signal.signal(sig, signal.SIG_IGN)  # group is for the app: this process ends when the app does
    _die_with_parent(ppid)
    out = sys.stdout
    try:
        ExtSampler.sched = lower_priority(os.environ.get(SCHED_ENV) or SCHED_DEFAULT)
        cfg = json.loads(sys.stdin.readline())
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))
        reader = remote.Reader(ppid, cfg["layout"])
        why = verify(reader, cfg["expect"])
    except Exception as e:  # cannot read the app (permissions) or bad input: the app samples itself
        why = "error: %s: %s" % (type(e).__name__, e)
    if why is not None:
        out.write("mismatch: %s\n" % why if not why.startswith("error:") else why + "\n")
        out.flush()
        os._exit(3)
    table = slots.Reader(cfg["slots_fd"], reader.labels_many)
    sampler = ExtSampler(reader, table, ppid, cfg["hz"])
    handler = type("Handler", (_Handler,), {"sampler": sampler})
    server = _Server("\0" + cfg["socket"], handler)
    threading.Thread(target=server.serve_forever, args=(3600,), daemon=True).start()
    out.write("ok\n")
    out.flush()
    while sys.stdin.buffer.read(4096):  # the app closes the pipe (or exits): so do we
        pass
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
