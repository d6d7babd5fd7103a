"""test_external.py - the external sampler: the layout found from live objects (layout.py), the outside walk
(remote.py) against sys._current_frames() across calls, returns, recursion, generators, calls from C,
thread start and exit; the line table decoder against co_lines(); the label slots (torn reads detected,
never used); the sampler process end to end (CPU and wall profiles with labels, its index line, dies with
the app); and the fallbacks to the in-process sampler (unsupported layout, a mismatching walk, the process
gone), each logged once."""

import gc
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import types
import unittest
import urllib.error
import urllib.request
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import loadctl_agent  # noqa: E402
from loadctl_agent import context, external, layout, remote, sampler, slots  # noqa: E402
from loadctl_agent.labels import RAW  # noqa: E402

import pbread  # noqa: E402

SKIP = None
try:
    LAYOUT, _parked, _ = layout.discover()
    _parked.release()
except layout.LayoutError as e:  # another CPython: the agent falls back, and so do these tests
    LAYOUT, SKIP = None, "SKIP: no external layout here (%s)" % e


def recurse(n, ev, out):
    if n:
        return recurse(n - 1, ev, out)
    out.append(1)
    ev.wait()


def gen_then_wait(ev, out):
    yield recurse(2, ev, out)


def through_c(ev, out):
    return sorted([1, 2], key=lambda x: (recurse(1, ev, out), x)[1])


class Nested:
    def method(self, ev, out):
        def inner():
            return recurse(0, ev, out)
        return inner()


def churn(stop):
    """Calls and returns all the time (the walk meets frames that come and go)."""
    def leaf(i):
        return i * 2
    while not stop.is_set():
        for i in range(100):
            leaf(i)


def wait_parked(out, n):
    for _ in range(3000):
        if len(out) >= n:
            return
        time.sleep(0.002)
    raise AssertionError("threads did not park")


@unittest.skipIf(SKIP, SKIP)
class Walk(unittest.TestCase):
    def setUp(self):
        self.reader = remote.Reader(os.getpid(), LAYOUT)
        self.ref = sampler.Sampler()

    def tearDown(self):
        self.reader.close()

    def compare(self, idents):
        frames = sys._current_frames()  # noqa: SLF001
        got = {t[0]: t[2] for t in self.reader.threads()}
        for ident in idents:
            self.assertIn(ident, got)
            self.assertEqual(self.reader.stack(got[ident]), [tuple(f) for f in self.ref.stack(frames[ident])])

    def test_layout_is_found_and_complete(self):
        for key in ("interp_head", "ts_next", "ts_thread_id", "ts_native_id", "ts_frame", "if_code", "if_previous",
                    "if_func", "if_instr", "co_code", "co_name", "co_qualname", "co_filename", "co_linetable",
                    "co_firstlineno", "func_module", "str_len", "str_ascii_data", "tuple_items", "type_function"):
            self.assertIsInstance(LAYOUT[key], int, key)
        self.assertEqual(LAYOUT["co_code"], type(self.test_layout_is_found_and_complete.__code__).__basicsize__)
        json.dumps(LAYOUT)  # what the sampler process is handed

    def test_same_stacks_as_current_frames(self):
        ev, out, stop = threading.Event(), [], threading.Event()
        ts = [threading.Thread(target=recurse, args=(40, ev, out)),
              threading.Thread(target=lambda: list(gen_then_wait(ev, out))),
              threading.Thread(target=through_c, args=(ev, out)),
              threading.Thread(target=Nested().method, args=(ev, out))]
        [t.start() for t in ts]
        try:
            wait_parked(out, len(ts))
            time.sleep(0.05)  # into Event.wait's lock
            self.compare([t.ident for t in ts])
            stack = self.reader.stack(dict((t[0], t[2]) for t in self.reader.threads())[ts[3].ident])
            names = [f[0][0] for f in stack]
            self.assertIn("test_external.Nested.method.<locals>.inner", names)
            self.assertEqual(names.count("test_external.recurse"), 1)
        finally:
            ev.set()
            [t.join() for t in ts]
        # threads that ended are gone from the thread list; a new one is there
        idents = {t[0] for t in self.reader.threads()}
        self.assertFalse(idents & {t.ident for t in ts if t.ident not in {x.ident for x in threading.enumerate()}})
        churner = threading.Thread(target=churn, args=(stop,))
        churner.start()
        try:
            time.sleep(0.05)
            self.assertIn(churner.ident, {t[0] for t in self.reader.threads()})
            # a stack that moves while read: each read is a real stack of churn (or an unreadable one), never junk
            for _ in range(200):
                f = dict((t[0], t[2]) for t in self.reader.threads()).get(churner.ident)
                st = self.reader.stack(f) if f else None
                if st:
                    names = [x[0][0] for x in st]
                    self.assertIn(names[-1], ("threading.Thread._bootstrap",), names)
                    self.assertTrue(set(names) <= {"test_external.churn", "test_external.churn.<locals>.leaf",
                                                   "threading.Event.is_set", "threading.Thread.run",
                                                   "threading.Thread._bootstrap_inner",
                                                   "threading.Thread._bootstrap"}, names)
        finally:
            stop.set()
            churner.join()

    def test_partial_walks_give_whole_stacks(self):
        """The sampler process reads a thread's stack only down to the first frame its last read had: at
        every stop of a thread that goes back and forth between stacks sharing their base (returns, new
        calls, recursion of another depth, the same function called again from the same loop), the stack
        it makes is the one sys._current_frames() gives."""
        from loadctl_agent import extsampler
        go, parked, out = threading.Semaphore(0), threading.Event(), []

        def stop_here():
            parked.set()
            go.acquire()

        def path_a(k):
            return path_a(k - 1) if k else stop_here()

        def path_b(k):
            return path_b(k - 1) if k else [stop_here() for _ in range(2)]

        def run():
            for depth in (5, 5, 9, 2):
                path_a(depth)
                path_b(depth)
            out.append(1)

        es = extsampler.ExtSampler.__new__(extsampler.ExtSampler)
        es.reader, es.tree, es.at, es.at_reset = self.reader, sampler.stacks.Tree(None), {}, time.monotonic()
        st = extsampler._Thread()
        t = threading.Thread(target=run)
        t.start()
        stops = 0
        try:
            while not out and stops < 40:
                if not parked.wait(5):
                    break
                parked.clear()
                time.sleep(0.01)  # into the semaphore's wait
                frame = dict((x[0], x[2]) for x in self.reader.threads())[t.ident]
                node = es.node_of(st, frame)
                want = [tuple(f) for f in self.ref.stack(sys._current_frames()[t.ident])]  # noqa: SLF001
                self.assertEqual(sampler.stacks.frames_of(node, 200), want, stops)
                stops += 1
                go.release()
        finally:
            for _ in range(50):
                go.release()
            t.join()
        self.assertEqual(stops, 4 * 3)
        self.assertLess(len(es.at), 4 * 30)  # the shared base's nodes were reused, not made again

    def test_stacks_over_chunks_and_generators_walk_whole(self):
        """A stack deeper than one data-stack chunk (frames in two mappings, the memory below the upper
        chunk's first frame often unmapped) with generators' frames (outside the data stack) in it: the
        walk reads the same stack as sys._current_frames(), from the batched window and without it."""
        from loadctl_agent import extsampler
        ev, out = threading.Event(), []

        def big(k):  # frames with locals: 120 of them fill more than a 16 KB chunk
            a = b = c = d = e = f = g = h = i = j = k
            if k % 40 == 20:
                return sum(gen(k - 1)) + a + b + c + d + e + f + g + h + i + j
            return big(k - 1) if k else recurse(0, ev, out) or 0

        def gen(k):
            yield big(k)

        t = threading.Thread(target=big, args=(120,))
        t.start()
        try:
            for _ in range(500):
                if out:
                    break
                time.sleep(0.01)
            time.sleep(0.05)
            frame = dict((x[0], x[2]) for x in self.reader.threads())[t.ident]
            want = [tuple(f) for f in self.ref.stack(sys._current_frames()[t.ident])]  # noqa: SLF001
            self.assertGreater(len(want), 120)
            for window in (self.reader.windows([frame]).get(frame), None):
                es = extsampler.ExtSampler.__new__(extsampler.ExtSampler)
                es.reader, es.tree, es.at, es.at_reset = self.reader, sampler.stacks.Tree(None), {}, time.monotonic()
                node = es.node_of(extsampler._Thread(), frame, window)
                self.assertEqual(sampler.stacks.frames_of(node, 200), want)
        finally:
            ev.set()
            t.join()

    def test_read_down_stops_where_memory_is_unmapped(self):
        """Mem.read_down_many: the bytes below an address down to the first unmapped page, in one system call
        for several ranges (and with preads where process_vm_readv is refused: a part of them, never wrong
        bytes)."""
        import ctypes
        import mmap
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype, libc.mmap.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                                                  ctypes.c_int, ctypes.c_int, ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        pg = mmap.PAGESIZE
        base = libc.mmap(None, 4 * pg, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        self.assertNotIn(base, (None, ctypes.c_void_p(-1).value))
        try:
            data = bytes(range(256)) * (4 * pg // 256)
            ctypes.memmove(base, data, 4 * pg)
            self.assertEqual(libc.munmap(base, pg), 0)  # the lowest page: unmapped
            mem = self.reader.mem
            top = base + 4 * pg - 40
            got = mem.read_down_many([(top, 16384), (top, 2 * pg + 100), (base + pg + 8, 64), (base + 50, 16)])
            self.assertEqual(got[0], (base + pg, data[pg:4 * pg - 40]))  # down to the unmapped page
            self.assertEqual(got[1], (top - 2 * pg - 100, data[2 * pg - 140:4 * pg - 40]))  # all of it
            self.assertEqual(got[2], (base + pg, data[pg:pg + 8]))
            self.assertEqual(got[3][1], b"")  # nothing mapped there
            for end in (0, -8, 1 << 64, (1 << 64) + 4096):  # words that are no address (read while changing)
                self.assertEqual(mem.read_down_many([(end, 4096), (top, 8)])[1], (top - 8, data[-48:-40]))
                self.assertEqual(mem.read_down_many([(end, 4096)])[0][1], b"")
            vm, mem.vm = mem.vm, None
            try:
                for (end, size), (b0, bs) in zip([(top, 16384), (top, 2 * pg + 100), (base + 50, 16)],
                                                 mem.read_down_many([(top, 16384), (top, 2 * pg + 100),
                                                                     (base + 50, 16)])):
                    self.assertEqual(b0 + len(bs), end)
                    self.assertEqual(bs, data[b0 - base:end - base] if bs else b"")
                    self.assertEqual(bool(bs), end - base > pg)
            finally:
                mem.vm = vm
        finally:
            libc.munmap(base + pg, 3 * pg)

    def test_line_table_matches_co_lines(self):
        n = 0
        for o in gc.get_objects():
            if isinstance(o, types.FunctionType) and n < 3000:
                c = o.__code__
                table = remote.line_table(c.co_linetable, c.co_firstlineno)
                for start, end, line in c.co_lines():
                    for unit in range(start // 2, end // 2):
                        self.assertEqual(remote.line_at(table, unit, c.co_firstlineno), -1 if line is None else line,
                                         (c, unit))
                n += 1
        self.assertGreater(n, 500)


@unittest.skipIf(SKIP, SKIP)
class Slots(unittest.TestCase):
    def setUp(self):
        self.w = slots.Writer()
        self.mem = remote.Reader(os.getpid(), LAYOUT)
        self.r = slots.Reader(self.w.fd, self.mem.labels_many)

    def tearDown(self):
        self.mem.close()
        self.w.close()

    def test_round_trip(self):
        me, native = threading.get_ident(), threading.get_native_id()
        lab = (RAW, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", b"loadctl.name=x", ("http.route", "/a"))
        self.w.put(me, lab)
        self.assertEqual(self.r.table(), {native: (id(lab), lab)})
        for lab in ((("trace_id", "ab"),), (RAW, None, "\xe9t\xe9"), (RAW, "\u0101", "\U0001f600" * 3)):
            self.w.put(me, lab)  # (lab stays alive until the next put, as ACTIVE keeps it)
            self.assertEqual(self.r.table()[native][1], lab)
        self.w.put(me, (), slots.AGENT)
        self.assertEqual(self.r.table()[native], (slots.AGENT, ()))
        self.w.put(me, ())
        self.assertEqual(self.r.table()[native], (slots.IDLE, ()))

    def test_a_record_being_written_is_not_used(self):
        me = threading.get_ident()
        self.w.put(me, (("k", "v"),))
        off = self.w.of[me][0] * 4  # (the index of its generation among u32s)
        g = slots._GEN.unpack_from(self.w.mm, off)[0]
        slots._GEN.pack_into(self.w.mm, off, g + 1)  # a writer stopped half-way
        self.r.last.clear()
        self.assertIsNone(self.r.read_one(off))
        self.assertEqual(self.r.torn, 3)
        self.assertEqual(self.r.table(), {})
        slots._GEN.pack_into(self.w.mm, off, g + 2)
        self.assertEqual(self.r.read_one(off)[2], (("k", "v"),))

    def test_torn_reads_never_mix_requests(self):
        """A thread writes fresh tuples (each dropped right after the next write, as ACTIVE drops it) as fast
        as it can; every read is a whole tuple of one write: its two fields name the same request."""
        stop, me = threading.Event(), []

        def writer():
            me.append(threading.get_native_id())
            i, held = 0, None
            while not stop.is_set():
                i += 1
                new = (RAW, "tp-%d" % i, "bg-%d" % i)
                self.w.put(threading.get_ident(), new)
                held = new  # noqa: F841 - the previous tuple is dropped only now
            self.w.put(threading.get_ident(), ())

        t = threading.Thread(target=writer)
        t.start()
        try:
            wait_parked(me, 1)
            good = 0
            for i in range(3000):
                if i % 2:  # every other read with the tuples' heads read ahead (as the sampler's tick does)
                    ahead = self.r.ahead()
                    heads = dict(zip([a for _g, a in ahead.values()], self.mem.mem.read_many(
                        [(a, self.mem.tuple_head) for _g, a in ahead.values()])))
                    os.sched_yield()
                    rec = self.r.table(heads, ahead).get(me[0])
                else:
                    rec = self.r.table().get(me[0])
                if rec and rec[1]:
                    lab = rec[1]
                    self.assertEqual(lab[0], RAW)
                    self.assertEqual(lab[1][3:], lab[2][3:], lab)
                    good += 1
                os.sched_yield()
            self.assertGreater(good, 100)
        finally:
            stop.set()
            t.join()

    def test_heads_read_ahead_are_used_for_their_generation_only(self):
        """table(heads, ahead): a tuple's head read ahead (with the stacks, in the sampler's tick) is used when
        the record still has the generation ahead() gave, never once it was written again."""
        me, native = threading.get_ident(), threading.get_native_id()
        one, two, three = (("k", "one"),), (("k", "two"),), (("k", "three"),)
        head = self.mem.tuple_head
        self.w.put(me, one)
        ahead = self.r.ahead()
        self.assertEqual(list(ahead.values()), [(ahead[min(ahead)][0], id(one))])
        got = self.r.table({id(one): self.mem.mem.read(id(one), head)}, ahead)
        self.assertEqual(got[native], (id(one), one))
        self.assertEqual(self.r.ahead(), {})  # read: nothing new
        self.w.put(me, two)
        ahead = self.r.ahead()
        fake = {id(two): self.mem.mem.read(id(three), head)}  # another tuple's bytes at two's address
        self.assertEqual(self.r.table(fake, ahead)[native][1], three)  # used: same generation
        self.w.put(me, one)
        self.w.put(me, two)  # written again since ahead(): the bytes read ahead are not used
        self.assertEqual(self.r.table(fake, ahead)[native][1], two)

    def test_threads_one_after_another_keep_their_own_labels(self):
        """A thread that ended leaves its ident to the next one (glibc reuses a joined thread's pthread_t):
        the next thread's labels go to a record with its own native thread id."""
        context.mirror(self.w)
        seen = []
        try:
            for name in ("a", "b", "c", "d"):
                def run(name=name):
                    lab = (("loadctl.name", name),)
                    context.ACTIVE[threading.get_ident()] = lab
                    seen.append((threading.get_ident(), name, self.r.table().get(threading.get_native_id())))
                    context.ACTIVE.pop(threading.get_ident(), None)
                t = threading.Thread(target=run)
                t.start()
                t.join()
        finally:
            context.unmirror()
        for ident, name, rec in seen:
            self.assertIsNotNone(rec, name)
            self.assertEqual(rec[1], (("loadctl.name", name),))

    def test_mirror_follows_the_table(self):
        me, native = threading.get_ident(), threading.get_native_id()
        context.mirror(self.w)
        try:
            tok = context.enter((RAW, "tp", None))
            context.set_label("http.route", "/r")
            self.assertEqual(self.r.table()[native][1], (RAW, "tp", None, ("http.route", "/r")))
            context.leave(tok)
            self.assertEqual(self.r.table()[native], (slots.IDLE, ()))
            context.AGENT_THREADS.add(me)
            self.assertEqual(self.r.table()[native][0], slots.AGENT)
            context.AGENT_THREADS.discard(me)
            self.assertEqual(self.r.table()[native][0], slots.IDLE)
        finally:
            context.unmirror()
        self.assertIs(type(context.ACTIVE).__setitem__, dict.__setitem__)


def labelled_spin(seconds, name):
    token = context.enter((RAW, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "loadctl.name=" + name))
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    context.leave(token)
    time.sleep(0.1)


@unittest.skipIf(SKIP, SKIP)
class Process(unittest.TestCase):
    def setUp(self):
        self.async_app = list(context.ASYNC_APP)
        context.ASYNC_APP.clear()  # other tests wrapped ASGI apps in this process
        external._warned.clear()

    def tearDown(self):
        loadctl_agent.stop()
        context.ASYNC_APP[:] = self.async_app

    def get(self, agent, path):
        with urllib.request.urlopen("http://%s:%d%s" % (agent.address + (path,)), timeout=60) as r:
            return r.status, r.read()

    def test_profiles_come_from_the_sampler_process(self):
        # at the normal class: at its default SCHED_IDLE (test_sampler_process_runs_at_sched_idle) a busy machine
        # (beside other tests) can leave a 1 s profile without a tick (at load 34: 1 of 3 runs, no spin sample)
        with mock.patch.dict(os.environ, {"LOADCTL_AGENT_SAMPLER_SCHED": "normal"}):  # read when it starts:
            agent = loadctl_agent.start(listen="127.0.0.1:0")  # on a thread of its own, so until ready()
            self.assertTrue(agent.external.ready(), agent.external.reason)
        t = threading.Thread(target=labelled_spin, args=(0.8, "GET /ext"))
        t.start()
        out = {}
        ws = [threading.Thread(target=lambda k=k: out.__setitem__(k, self.get(agent, "/debug/pprof/%s?seconds=1" % k)))
              for k in ("profile", "wall")]
        [w.start() for w in ws]
        [w.join() for w in ws]
        t.join()
        self.assertEqual(agent.sampler.ticks_total, 0)  # the app's own sampler never ran
        for kind, unit in (("profile", "cpu"), ("wall", "wall")):
            status, body = out[kind]
            self.assertEqual(status, 200)
            p = pbread.profile(body)
            self.assertEqual(p["sample_types"][1], (unit, "nanoseconds"))
            spin = [s for s in p["samples"] if s["labels"].get("loadctl.name") == "GET /ext"]
            self.assertTrue(spin, kind)
            self.assertEqual(spin[0]["labels"]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736")
            self.assertIn("test_external.labelled_spin", spin[0]["stack"])
            self.assertGreater(sum(s["values"][1] for s in spin), 0.1e9 if unit == "wall" else 1e6)
            self.assertFalse([s for s in p["samples"] if any(f.startswith("loadctl_agent.") for f in s["stack"])])
        status, index = self.get(agent, "/debug/pprof/")
        self.assertRegex(index.decode(), r"external sampler process: \d+ ticks, CPU [0-9.]+ s")
        m = re.search(r"sampled ([0-9.]+) s \(([0-9.]+) ticks/s\), scheduled (\w+)", index.decode())
        self.assertTrue(m, index)
        self.assertGreaterEqual(float(m.group(1)), 0.9)  # two profiles of 1 s at once
        self.assertGreater(float(m.group(2)), 1)  # of 100 Hz
        self.assertEqual(m.group(3), "normal")

    def test_sampler_process_runs_at_sched_idle(self):
        with mock.patch.dict(os.environ):
            os.environ.pop("LOADCTL_AGENT_SAMPLER_SCHED", None)
            agent = loadctl_agent.start(listen="127.0.0.1:0")
            self.assertTrue(agent.external.ready(), agent.external.reason)
        status, index = self.get(agent, "/debug/pprof/")
        self.assertRegex(index.decode(), r"scheduled idle")  # the default: SCHED_IDLE, for all its threads
        self.assertEqual(os.sched_getscheduler(agent.external.proc.pid), os.SCHED_IDLE)

    def agent_stays_out(self, agent, seconds=2.0):
        """While a wall profile (every thread, every tick) is taken, many short agent requests (each on a new
        handler thread, asking the sampler process for its stats): none of their frames may be sampled."""
        out = {}
        w = threading.Thread(target=lambda: out.__setitem__("wall", self.get(agent, "/debug/pprof/wall?seconds=%s" % seconds)))
        w.start()
        asked, end = 0, time.monotonic() + seconds
        while time.monotonic() < end or asked < 20:
            for path in ("/debug/pprof/", "/debug/pprof/nothing"):
                try:
                    self.get(agent, path)
                except urllib.error.HTTPError:  # the 404
                    pass
                asked += 1
        w.join()
        status, body = out["wall"]
        self.assertEqual(status, 200)
        p = pbread.profile(body)
        self.assertTrue(p["samples"])
        mine = [s["stack"] for s in p["samples"]
                if any(f.startswith(("loadctl_agent.", "socketserver.", "http.server.")) for f in s["stack"])]
        self.assertFalse(mine, "%d agent requests; the agent's own frames sampled: %s" % (asked, mine[:3]))
        return asked

    def test_agent_requests_never_in_profiles(self):
        # the sampler process at the normal class: at its default SCHED_IDLE it may take no tick at all while
        # the machine is busy (beside other tests), and a profile without samples tests nothing here
        with mock.patch.dict(os.environ, {"LOADCTL_AGENT_SAMPLER_SCHED": "normal"}):  # read when it starts:
            agent = loadctl_agent.start(listen="127.0.0.1:0")  # on a thread of its own, so until ready()
            self.assertTrue(agent.external.ready(), agent.external.reason)
        self.assertGreaterEqual(self.agent_stays_out(agent), 20)
        self.assertEqual(agent.sampler.ticks_total, 0)  # the sampler process's profile

    def test_agent_requests_never_in_in_process_profiles(self):
        with mock.patch.object(layout, "SUPPORTED", ()), self.assertLogs("loadctl_agent", level=logging.WARNING):
            agent = loadctl_agent.start(listen="127.0.0.1:0")
            self.assertFalse(agent.external.ready())
        self.assertGreaterEqual(self.agent_stays_out(agent), 20)
        self.assertGreater(agent.sampler.ticks_total, 0)

    def test_sampler_process_gone_falls_back_once(self):
        agent = loadctl_agent.start(listen="127.0.0.1:0")
        self.assertTrue(agent.external.ready(), agent.external.reason)
        agent.external.proc.kill()
        with self.assertLogs("loadctl_agent", level=logging.WARNING) as logs:
            status, body = self.get(agent, "/debug/pprof/profile?seconds=0.5")
        self.assertEqual(status, 200)
        self.assertGreater(agent.sampler.ticks_total, 0)  # the in-process sampler took over
        self.assertEqual(len([m for m in logs.output if "external sampler failed" in m]), 1)
        self.assertIs(type(context.ACTIVE).__setitem__, dict.__setitem__)  # labels no longer mirrored
        status, index = self.get(agent, "/debug/pprof/")
        self.assertIn(b"sampler: in-process (failed:", index)

    def test_unsupported_version_falls_back(self):
        with mock.patch.object(layout, "SUPPORTED", ()), self.assertLogs("loadctl_agent", level=logging.WARNING) as logs:
            agent = loadctl_agent.start(listen="127.0.0.1:0")
            self.assertFalse(agent.external.ready())
        self.assertIn("is not supported", logs.output[0])
        self.assertEqual(self.get(agent, "/debug/pprof/profile?seconds=0.3")[0], 200)
        self.assertGreater(agent.sampler.ticks_total, 0)

    def test_a_walk_that_disagrees_falls_back(self):
        real = layout.discover

        def wrong():
            lay, parked, leaves = real()
            lay["co_firstlineno"] += 4  # the sampler process reads other first lines than the app sees
            return lay, parked, leaves

        with mock.patch.object(layout, "discover", wrong), self.assertLogs("loadctl_agent", level=logging.WARNING) as logs:
            agent = loadctl_agent.start(listen="127.0.0.1:0")
            self.assertFalse(agent.external.ready())
        self.assertIn("mismatch", logs.output[0])
        self.assertEqual(agent.external.proc.wait(timeout=10), 3)  # the sampler process exited

    def test_asgi_apps_use_the_in_process_sampler(self):
        agent = loadctl_agent.start(listen="127.0.0.1:0")
        self.assertTrue(agent.external.ready())
        loadctl_agent.asgi(lambda scope, receive, send: None)
        self.assertFalse(agent.external.ready(0))
        self.assertIs(type(context.ACTIVE).__setitem__, dict.__setitem__)

    def test_dies_with_the_app(self):
        code = ("import sys, time; sys.path.insert(0, %r); import loadctl_agent; a = loadctl_agent.start('127.0.0.1:0');"
                "print(a.external.ready() and a.external.proc.pid, flush=True); time.sleep(60)"
                % os.path.join(os.path.dirname(__file__), ".."))
        app = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        try:
            pid = int(app.stdout.readline())
            self.assertTrue(os.path.exists("/proc/%d" % pid))
        finally:
            app.kill()
            app.wait()
        def gone():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    return " Z " in f.read()[:60]  # a zombie: dead, not yet reaped
            except OSError:
                return True

        for _ in range(500):
            if gone():
                break
            time.sleep(0.01)
        self.assertTrue(gone())


if __name__ == "__main__":
    unittest.main()
