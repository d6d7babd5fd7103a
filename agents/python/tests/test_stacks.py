"""test_stacks.py - the sampler's cheap paths give what the plain ones give: a Walker that finds a stack by
its signature, or reuses the callers of a leaf function frame it saw at the last tick (and the node cache
keyed by instruction offset), yields the same stacks as a plain walk of f_back, and holds no frame between
its leaf and root; a still, idle thread's CPU clock is read rarely, yet a thread in one long call keeps its
CPU; the WSGI wrapper's body fast paths and label steps."""

import hashlib
import os
import sys
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from loadctl_agent import context, profiles, sampler, stacks  # noqa: E402
from loadctl_agent.wsgi import wsgi as wrap_wsgi  # noqa: E402

import pbread  # noqa: E402


def plain_stack(s, frame):
    """Leaf-first ((function, file, first line), line) of every frame, read with f_lineno: the reference."""
    out = []
    while frame is not None:
        out.append((s.function(frame.f_code, frame.f_globals), frame.f_lineno))
        frame = frame.f_back
    return out


class Stepper:
    """A thread that runs body(stop) and parks at each stop() until the test lets it go on."""

    def __init__(self, body):
        self.ready, self.go = threading.Semaphore(0), threading.Semaphore(0)
        self.done = False
        self.thread = threading.Thread(target=self._run, args=(body,), daemon=True)  # a failed test leaves it parked
        self.thread.start()

    def stop(self):
        self.ready.release()
        self.go.acquire()

    def _run(self, body):
        try:
            body(self.stop)
        finally:
            self.done = True
            self.ready.release()

    def steps(self):
        """Yields the parked thread's leaf frame at each stop."""
        while True:
            self.ready.acquire()
            if self.done:
                return
            yield sys._current_frames()[self.thread.ident]
            self.go.release()


def moving_body(stop):
    """Leaves at many depths and lines; a generator resumed from two different callers; a coroutine driven
    by send() from two frames; returning to an ancestor that then calls on from another line."""
    def leaf(n):
        stop()
        return n

    def rec(n):
        if n == 0:
            return leaf(0)
        x = rec(n - 1)
        stop()  # the same frame again, at another line, after its callee returned
        return x

    def gen():
        while True:
            yield leaf(1)
            stop()  # the generator parked at another line, under whichever caller resumed it

    def caller_a(g):
        return next(g)

    def caller_b(g):
        return next(g)

    async def coro():
        leaf(2)
        await Yield()
        leaf(3)

    class Yield:
        def __await__(self):
            yield

    def drive_a(c):
        c.send(None)

    def drive_b(c):
        try:
            c.send(None)
        except StopIteration:
            pass

    g = gen()
    for depth in (3, 0, 5, 1):
        rec(depth)
        caller_a(g)
        caller_b(g)
        stop()
    caller_b(g)
    caller_a(g)
    c = coro()
    drive_a(c)
    drive_b(c)
    leaf(4)


class WalkerMatchesPlainWalk(unittest.TestCase):
    def test_every_step_equals_a_plain_walk(self):
        s = sampler.Sampler(100)
        walker = stacks.Walker()
        st = Stepper(moving_body)
        n, nodes = 0, set()
        for frame in st.steps():
            want = plain_stack(s, frame)
            node = walker.walk(s.tree, frame)
            self.assertEqual(stacks.frames_of(node, 10000), want, "step %d" % n)
            self.assertEqual(s.stack(frame), tuple(want[:sampler.MAX_DEPTH]))  # a fresh walker agrees too
            again = walker.walk(s.tree, frame)
            self.assertIs(again, node)  # nothing moved: the same node, not re-read
            self.assertFalse(walker.moved)
            nodes.add(node[0])
            n += 1
        st.thread.join()
        self.assertGreater(n, 30)
        self.assertGreater(len(nodes), 10)

    def test_generator_resumed_by_another_caller(self):
        """The frames above a generator frame are never reused: its caller changes when another frame resumes
        it."""
        s = sampler.Sampler(100)
        walker = stacks.Walker()
        seen = []

        def body(stop):
            def gen():
                while True:
                    stop()
                    yield

            def first(g):
                next(g)

            def second(g):
                next(g)

            g = gen()
            first(g)
            second(g)
            first(g)

        st = Stepper(body)
        for frame in st.steps():
            stack = stacks.frames_of(walker.walk(s.tree, frame), 100)
            self.assertEqual(stack, plain_stack(s, frame))
            names = [info[0].rsplit(".", 1)[1] for info, _ in stack]
            seen.append(names[names.index("gen") + 1])
        st.thread.join()
        self.assertEqual(seen, ["first", "second", "first"])

    def test_walker_holds_no_middle_frame(self):
        """Between ticks a released Walker (a busy thread's) holds its thread's root frame only: a frame below
        it, once its function returns, is freed with its locals (a held frame would keep them, and the
        interpreter would copy it out at the return), and the walker's next stack is still the plain walk's."""
        import weakref

        class Payload:
            pass

        s = sampler.Sampler(100)
        walker = stacks.Walker()
        refs = []

        def body(stop):
            def middle():
                obj = Payload()
                refs.append(weakref.ref(obj))
                inner()
                return obj is not None

            def inner():
                stop()

            middle()
            stop()  # middle has returned: its frame and obj are gone unless someone holds the frame

        st = Stepper(body)
        steps = st.steps()
        frame = next(steps)
        self.assertEqual(stacks.frames_of(walker.walk(s.tree, frame), 100), plain_stack(s, frame))
        walker.release()  # what the sampler does for a thread that used CPU since its last read
        del frame
        frame = next(steps)
        self.assertIsNone(refs[0]())
        self.assertEqual(stacks.frames_of(walker.walk(s.tree, frame), 100), plain_stack(s, frame))
        del frame
        for _ in steps:
            pass
        st.thread.join()

    def test_signatures_are_bounded(self):
        """The remembered stack signatures start anew before they pass STACKS_FRAMES_MAX frames, and the
        stacks read after that are still the plain walk's."""
        s = sampler.Sampler(100)
        walker = stacks.Walker()
        old = stacks.STACKS_FRAMES_MAX
        stacks.STACKS_FRAMES_MAX = 40
        try:
            st = Stepper(moving_body)
            peak = 0
            for frame in st.steps():
                self.assertEqual(stacks.frames_of(walker.walk(s.tree, frame), 10000), plain_stack(s, frame))
                walker.release()
                peak = max(peak, s.tree.stacks_frames)
                self.assertEqual(s.tree.stacks_frames, sum(len(v[1]) for v in s.tree.stacks.values()))
            st.thread.join()
        finally:
            stacks.STACKS_FRAMES_MAX = old
        self.assertLessEqual(peak, 40)
        self.assertGreater(peak, 10)

    def test_line_cache_follows_the_instruction(self):
        """Nodes found through the (parent, code, instruction offset) cache carry the frame's own line."""
        s = sampler.Sampler(100)
        walker = stacks.Walker()
        lines = []

        def body(stop):
            for _ in range(3):
                stop()
                stop()

        st = Stepper(body)
        for frame in st.steps():
            stack = stacks.frames_of(walker.walk(s.tree, frame), 100)
            caller = [(info, line) for info, line in stack if info[0].endswith(".body")][0]  # parked at a stop()
            lines.append(caller[1])
            self.assertEqual(stack, plain_stack(s, frame))
        st.thread.join()
        self.assertEqual(len(set(lines)), 2)
        self.assertEqual(lines[0::2], [lines[0]] * 3)


class ClockReads(unittest.TestCase):
    def test_idle_threads_are_read_rarely(self):
        """Threads blocked on a lock: after the first reads, their CPU clocks are read once in IDLE_READ_EVERY
        ticks, not every tick."""
        s = sampler.Sampler(100)
        gate = threading.Event()
        ts = [threading.Thread(target=gate.wait) for _ in range(5)]
        [t.start() for t in ts]
        reads = []
        real = time.clock_gettime_ns

        def counting(clock):
            reads.append(clock)
            return real(clock)

        c = sampler.Collector("cpu")
        context.AGENT_THREADS.add(threading.get_ident())
        try:
            with mock.patch.object(sampler.time, "clock_gettime_ns", counting):
                for _ in range(100):
                    s.tick([c], 10000000)
        finally:
            context.AGENT_THREADS.discard(threading.get_ident())
            gate.set()
            [t.join() for t in ts]
        others = threading.active_count()  # the test runner may have more threads: count reads per thread
        per_thread = len(reads) / max(1, len(s.last))
        self.assertLess(per_thread, 100 / sampler.IDLE_READ_EVERY + 5, (len(reads), len(s.last), others))
        self.assertGreaterEqual(per_thread, 100 / sampler.IDLE_READ_EVERY - 1)
        ticks = sum(v[0] for v in c.agg.values())
        self.assertEqual(ticks, 100 * len(s.last))  # every thread is still in the wall profile every tick

    def test_still_threads_skip_the_walk_and_count_every_tick(self):
        """Still threads (the same leaf at the same instruction, no CPU, the same labels) are not walked at
        most ticks, yet each collector counts every tick and its wall time for them, a collector that joins
        later only its own ticks, and a thread that moves is walked again."""
        s = sampler.Sampler(100)
        gate, moved = threading.Event(), threading.Event()

        def mover():
            gate.wait()
            moved.wait()

        ts = [threading.Thread(target=gate.wait) for _ in range(3)] + [threading.Thread(target=mover)]
        [t.start() for t in ts]
        walks = []
        real = stacks.Walker.walk

        def counting(walker, tree, frame):
            walks.append(frame)
            return real(walker, tree, frame)

        c1, c2 = sampler.Collector("wall"), sampler.Collector("wall")

        def waiting(c):  # [ticks, wall ns] of the entries whose stack is in Event.wait
            out = [0, 0]
            for v in c.agg.values():
                if any(info[0].endswith("Event.wait") for info, _ in stacks.frames_of(v[3], 100)):
                    out[0] += v[0]
                    out[1] += v[1]
            return out

        context.AGENT_THREADS.add(threading.get_ident())
        try:
            with mock.patch.object(stacks.Walker, "walk", counting):
                one = [c1]
                for _ in range(30):
                    s.tick(one, 1000)
                early = len(walks)
                both = [c1, c2]
                for _ in range(20):
                    s.tick(both, 1000)
                gate.set()  # the mover's stack changes: walked again; the others end
                while len([t for t in ts if t.is_alive()]) > 1:
                    time.sleep(0.01)
                before = len(walks)
                s.tick(both, 1000)
                self.assertEqual(len(walks) - before, 1)  # the mover, in another wait
        finally:
            context.AGENT_THREADS.discard(threading.get_ident())
            gate.set()
            moved.set()
            [t.join() for t in ts]
        self.assertLess(early, 4 * 30 / 3)  # 4 threads, 30 ticks: walked a few times each, not every tick
        self.assertEqual(waiting(c1), [4 * 50 + 1, (4 * 50 + 1) * 1000])
        self.assertEqual(waiting(c2), [4 * 20 + 1, (4 * 20 + 1) * 1000])

    def test_one_long_call_keeps_its_cpu(self):
        """A thread inside one long C call that releases the GIL (hashing 150 MB) never moves: its CPU
        still lands on that call."""
        data = b"x" * (150 << 20)
        spent = []

        def hashing():
            t0 = time.thread_time_ns()
            hashlib.sha256(data).digest()
            spent.append(time.thread_time_ns() - t0)

        s = sampler.Sampler(200)
        s.start()
        c = s.subscribe("cpu")
        time.sleep(0.05)
        t = threading.Thread(target=hashing)
        t.start()
        t.join()
        time.sleep(0.05)
        s.unsubscribe(c)
        s.stop()
        prof = pbread.profile(profiles.cpu(c, s.period_ns))
        got = sum(x["values"][1] for x in prof["samples"] if any("hashing" in f for f in x["stack"]))
        self.assertGreater(spent[0], 0.05e9, "hashing was too quick to test (%d ns)" % spent[0])
        self.assertGreater(got, 0.8 * spent[0] - 2 * s.period_ns, (got, spent[0]))
        self.assertLessEqual(got, spent[0] + 2 * s.period_ns, (got, spent[0]))


class WsgiBodies(unittest.TestCase):
    ENV = {"HTTP_BAGGAGE": "loadctl.name=GET%20%2Fx"}

    def test_list_and_file_wrapper_bodies_are_handed_back(self):
        class FileWrapper:
            def __init__(self, f):
                self.f = f

            def __iter__(self):
                return iter([b"file"])

        body = [b"a", b"b"]
        self.assertIs(wrap_wsgi(lambda e, sr: body)(dict(self.ENV), None), body)
        fw = FileWrapper(None)
        env = dict(self.ENV, **{"wsgi.file_wrapper": FileWrapper})
        self.assertIs(wrap_wsgi(lambda e, sr: fw)(env, None), fw)
        self.assertIsNone(context.ACTIVE.get(threading.get_ident()))

    def test_streamed_body_steps_are_labelled_and_writes_are_not(self):
        me = threading.get_ident()
        seen = []

        def chunks():
            seen.append(("make a", context.ACTIVE.get(me)))
            yield b"a"
            seen.append(("make b", context.ACTIVE.get(me)))
            yield b"b"

        class Body:
            def __iter__(self):
                return chunks()

            def close(self):
                seen.append(("close", context.ACTIVE.get(me)))

        def app(environ, start_response):
            seen.append(("call", context.ACTIVE.get(me)))
            self.assertEqual(context.CURRENT.get(), ())  # WSGI: the thread table only, no contextvar
            return Body()

        body = wrap_wsgi(app)(dict(self.ENV), None)
        for chunk in body:
            seen.append(("write " + chunk.decode(), context.ACTIVE.get(me)))
        body.close()
        self.assertIsNone(context.ACTIVE.get(me))
        labelled = {what for what, labels in seen if labels}
        self.assertEqual(labelled, {"call", "make a", "make b", "close"}, seen)
        self.assertEqual(dict(context.current_labels() or ()), {})
        raw = [labels for what, labels in seen if what == "call"][0]
        self.assertEqual(dict(context._labels.resolve(raw)), {"loadctl.name": "GET /x"})

    def test_abandoned_body_leaves_the_table_alone(self):
        """A body the server stopped iterating, collected later while the thread serves another request,
        does not touch that request's entry."""
        me = threading.get_ident()

        def app(environ, start_response):
            return (c for c in [b"a", b"b", b"c"])

        body = wrap_wsgi(app)(dict(self.ENV), None)
        it = iter(body)
        next(it)
        token = context.enter((("loadctl.name", "next request"),))
        try:
            del it, body
            self.assertEqual(context.ACTIVE.get(me), (("loadctl.name", "next request"),))
        finally:
            context.leave(token)
        self.assertIsNone(context.ACTIVE.get(me))


if __name__ == "__main__":
    unittest.main()
