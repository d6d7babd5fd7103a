"""test_exttick.py - the external sampler's tick (extsampler.ExtSampler.tick) reads only what may have changed:
a thread that did not run since the last tick is not read at all, one that ran but is back in the same call
(its remote.SAME_FRAMES innermost frames unchanged) is not walked, one that ran elsewhere is walked again
(also when only its leaf and the leaf's callers, 4 frames, are equal); at every tick each thread's stack is
the one sys._current_frames() gives, whichever of the three it was."""

import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from loadctl_agent import extsampler, layout, remote, sampler, stacks  # noqa: E402

SKIP = None
try:
    LAYOUT, _parked, _ = layout.discover()
    _parked.release()
except layout.LayoutError as e:  # another CPython: the agent falls back, and so do these tests
    LAYOUT, SKIP = None, "SKIP: no external layout here (%s)" % e


def idle(n, ev):
    return idle(n - 1, ev) if n else ev.wait()


def helper(stop):
    stop()


def via_a(stop):  # via_a and via_b have frames of one size: helper's frame lands at one address from both
    return helper(stop)


def via_b(stop):
    return helper(stop)


def deep(k, stop):
    return deep(k - 1, stop) if k else stop()


def spin(n):
    return sum(i * i for i in range(n))


class _Table:
    torn = 0

    def ahead(self):
        return {}

    def table(self, heads=None, ahead=None):
        return {}


@unittest.skipIf(SKIP, SKIP)
class Tick(unittest.TestCase):
    def setUp(self):
        self.reader = remote.Reader(os.getpid(), LAYOUT)
        self.ref = sampler.Sampler()
        es = self.es = extsampler.ExtSampler.__new__(extsampler.ExtSampler)
        es.reader, es.table, es.pid, es.period_ns = self.reader, _Table(), os.getpid(), 10000000
        es.tree, es.at, es.at_reset, es.last = stacks.Tree(None), {}, time.monotonic(), {}
        es.unreadable = es.reads = 0

    def tearDown(self):
        self.reader.close()

    def check(self, threads, what):
        """One tick; every thread's stack is sys._current_frames()'s; the names of the threads read in it
        (of threads: this one, which runs the tick, is read at each)."""
        read, real = [], self.es._read

        def spy(st, *a):
            read.append(st)
            return real(st, *a)

        self.es._read = spy
        self.es.tick([sampler.Collector("wall")], 10000000)
        frames = sys._current_frames()  # noqa: SLF001
        for t in threads:
            st = self.es.last[t.native_id]
            want = [tuple(f) for f in self.ref.stack(frames[t.ident])]
            self.assertEqual(stacks.frames_of(st.node, 200), want, (what, t.name))
        return sorted(t.name for t in threads if any(st is self.es.last[t.native_id] for st in read))

    def test_only_threads_that_moved_are_read_and_all_stacks_are_exact(self):
        ev, go, parked, done = threading.Event(), threading.Semaphore(0), threading.Event(), []

        def stop():
            parked.set()
            go.acquire()

        def mover():  # stops at the same leaf from callers of one frame size, and at other depths
            for step in (via_a, via_b, via_a, lambda s: deep(3, s), lambda s: deep(6, s), via_b):
                step(stop)
            done.append(1)

        def runner():  # runs (CPU) between its stops, each time back in the very same call
            for _ in range(6):
                spin(20000)
                stop_runner()
            done.append(2)

        ran, go_runner = threading.Event(), threading.Semaphore(0)

        def stop_runner():
            ran.set()
            go_runner.acquire()

        idlers = [threading.Thread(target=idle, args=(k, ev), name="idle%d" % k) for k in (1, 7, 30)]
        m, r = threading.Thread(target=mover, name="mover"), threading.Thread(target=runner, name="runner")
        threads = idlers + [m, r]
        [t.start() for t in threads]
        stops = 0
        try:
            parked.wait(5)
            ran.wait(5)
            time.sleep(0.02)  # all in their waits
            self.assertEqual(self.check(threads, "first"), sorted(t.name for t in threads))  # each read once
            self.assertEqual(self.check(threads, "still"), [])  # none ran: none read
            while stops < 5:
                parked.clear()
                ran.clear()
                go.release()
                go_runner.release()
                self.assertTrue(parked.wait(5) and ran.wait(5))
                time.sleep(0.02)
                reads = self.check(threads, "stop %d" % stops)
                # the mover is read (another stack, or the same leaf from another caller); the runner ran
                # but is back in the same call: not read; the idle threads did not run
                self.assertEqual(reads, ["mover"], stops)
                stops += 1
        finally:
            ev.set()
            for _ in range(20):
                go.release()
                go_runner.release()
            [t.join() for t in threads]
        self.assertEqual(stops, 5)


    def test_threads_that_start_and_end_between_ticks(self):
        """Still threads' states are not read again; the list is followed afresh when a thread starts (the
        list's head moves) or ends (its CPU time can no longer be read): every stack stays exact."""
        ev, ev2 = threading.Event(), threading.Event()
        idlers = [threading.Thread(target=idle, args=(k, ev), name="idle%d" % k) for k in (2, 5, 9)]
        [t.start() for t in idlers]
        try:
            time.sleep(0.05)
            self.check(idlers, "first")
            self.assertEqual(self.check(idlers, "still"), [])
            short = threading.Thread(target=idle, args=(4, ev2), name="short")
            short.start()
            time.sleep(0.05)
            self.assertEqual(self.check(idlers + [short], "started"), ["short"])
            ev2.set()
            short.join()
            self.assertEqual(self.check(idlers, "ended"), [])
            self.assertNotIn(short.native_id, self.es.last)
            later = threading.Thread(target=idle, args=(6, ev), name="later")
            later.start()
            time.sleep(0.05)
            self.assertEqual(self.check(idlers + [later], "another"), ["later"])
            later_native = later.native_id
        finally:
            ev.set()
            [t.join() for t in idlers]
            later.join()
        self.check([], "all ended")
        self.assertFalse({t.native_id for t in idlers} & set(self.es.last))
        self.assertNotIn(later_native, self.es.last)


class Priority(unittest.TestCase):
    def run_child(self, how):
        code = ("import os, sys; sys.path.insert(0, %r); from loadctl_agent import extsampler\n"
                "print(extsampler.lower_priority(%r), os.sched_getscheduler(0), os.nice(0))"
                % (os.path.join(os.path.dirname(__file__), ".."), how))
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    def test_classes(self):
        self.assertEqual(self.run_child("idle").stdout.split(), ["idle", str(os.SCHED_IDLE), str(os.nice(0))])
        self.assertEqual(self.run_child("nice").stdout.split(), ["nice", str(os.SCHED_OTHER), "19"])
        self.assertEqual(self.run_child("normal").stdout.split(), ["normal", str(os.SCHED_OTHER), str(os.nice(0))])
        bad = self.run_child("lowest")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("LOADCTL_AGENT_SAMPLER_SCHED='lowest': expected one of idle, nice, normal", bad.stderr)


if __name__ == "__main__":
    unittest.main()
