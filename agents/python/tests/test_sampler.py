"""test_sampler.py - the sampler's attribution: CPU vs wall per thread and per request label, through the
WSGI, ASGI and Django wrappers; bounded memory; a failing sampler stops once and the app goes on."""

import asyncio
import logging
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from loadctl_agent import asgi, context, profiles, sampler, stacks, wsgi  # noqa: E402
from loadctl_agent import django as agent_django  # noqa: E402

import pbread  # noqa: E402

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def spin(seconds):
    end = time.thread_time() + seconds
    x = 0
    while time.thread_time() < end:
        x += 1
    return x


def busy_request(seconds):
    return spin(seconds)


def waiting_request(seconds):
    time.sleep(seconds)


def totals(prof, value_index, by_label=None, function=None):
    """Sum of one value over samples matching a label (key, value) and/or a function anywhere in the stack."""
    t = 0
    for s in prof["samples"]:
        if by_label and s["labels"].get(by_label[0]) != by_label[1]:
            continue
        if function and function not in s["stack"]:
            continue
        t += s["values"][value_index]
    return t


class Collect:
    """A sampler with one CPU and one wall collector around a block of work."""

    def __init__(self, hz=200):
        self.s = sampler.Sampler(hz)

    def __enter__(self):
        self.s.start()
        self.c = self.s.subscribe("cpu")
        return self

    def __exit__(self, *exc):
        self.s.unsubscribe(self.c)
        self.s.stop()
        self.cpu = pbread.profile(profiles.cpu(self.c, self.s.period_ns))
        self.wall = pbread.profile(profiles.wall(self.c, self.s.period_ns))


class Attribution(unittest.TestCase):
    def test_threads_cpu_vs_wall(self):
        def labelled(fn, name, seconds):
            token = context.enter((("loadctl.name", name),))
            try:
                fn(seconds)
            finally:
                context.leave(token)

        with Collect() as col:
            ts = [threading.Thread(target=labelled, args=(busy_request, "busy", 0.6)),
                  threading.Thread(target=labelled, args=(waiting_request, "wait", 1.0))]
            [t.start() for t in ts]
            [t.join() for t in ts]
        busy_cpu = totals(col.cpu, 1, ("loadctl.name", "busy"))
        wait_cpu = totals(col.cpu, 1, ("loadctl.name", "wait"))
        wait_wall = totals(col.wall, 1, ("loadctl.name", "wait"), "test_sampler.waiting_request")
        # the busy thread used ~0.6 s of CPU (its own clock); the waiting one next to none, but ~1 s of wall
        self.assertGreater(busy_cpu, 0.4e9, busy_cpu)
        self.assertLess(busy_cpu, 0.75e9, busy_cpu)
        self.assertLess(wait_cpu, 0.05e9, wait_cpu)
        self.assertGreater(wait_wall, 0.7e9, wait_wall)
        self.assertLess(wait_wall, 1.3e9, wait_wall)
        self.assertEqual(totals(col.cpu, 1, ("loadctl.name", "busy")),
                         totals(col.cpu, 1, ("loadctl.name", "busy"), "test_sampler.busy_request"))
        # CPU counts are CPU time over the period (Go's convention)
        self.assertAlmostEqual(totals(col.cpu, 0, ("loadctl.name", "busy")), busy_cpu / 5e6, delta=3)

    def test_short_requests_keep_their_cpu_samples(self):
        """Requests of ~1 ms of CPU each (a fifth of the 5 ms period): each (stack, labels) pair has far less
        than a period of CPU, yet their counts add up to their CPU time / period, as a CPU timer's would."""
        def requests():
            for i in range(300):
                token = context.enter((("trace_id", "%032x" % i), ("loadctl.name", "short")))
                try:
                    busy_request(0.001)
                finally:
                    context.leave(token)

        with Collect() as col:
            t = threading.Thread(target=requests)
            t.start()
            t.join()
        cpu_ns = totals(col.cpu, 1, ("loadctl.name", "short"), "test_sampler.busy_request")
        count = totals(col.cpu, 0, ("loadctl.name", "short"), "test_sampler.busy_request")
        self.assertGreater(cpu_ns, 0.2e9, cpu_ns)
        self.assertGreater(count, 0.6 * cpu_ns / 5e6, (count, cpu_ns))
        self.assertLess(count, 1.4 * cpu_ns / 5e6 + 2, (count, cpu_ns))

    def test_cpu_before_a_request_is_not_charged_to_it(self):
        """Tick 1 finds a thread starting a busy request A (30 ms of CPU); tick 2 finds it just after it began
        request B, waiting. B is charged at most the time since it began; A's CPU goes to the thread's
        previous stack and labels (without the bound, all of it landed on B's wait)."""
        s = sampler.Sampler(100)
        in_a, in_b, release = threading.Event(), threading.Event(), threading.Event()

        def worker():
            token = context.enter((("loadctl.name", "A"),))
            in_a.set()
            busy_request(0.03)
            context.leave(token)
            token = context.enter((("loadctl.name", "B"),))
            in_b.set()
            release.wait()
            context.leave(token)

        c = sampler.Collector("cpu")
        me = threading.get_ident()
        context.AGENT_THREADS.add(me)
        t = threading.Thread(target=worker)
        try:
            t.start()
            in_a.wait()
            s.tick([c], 10000000)
            in_b.wait()
            s.tick([c], 10000000)
            age = time.monotonic_ns() - context.STARTED[t.ident]  # B's age just after tick 2: its CPU bound
        finally:
            release.set()
            t.join()
            context.AGENT_THREADS.discard(me)
        cpu = {}
        for (_, labels), v in c.agg.items():
            name = dict(labels).get("loadctl.name")
            cpu[name] = cpu.get(name, 0) + v[2]
        a, b = cpu.get("A", 0), cpu.get("B", 0)
        self.assertGreater(a + b, 0.005e9, cpu)  # A's CPU after tick 1, read at tick 2
        self.assertLessEqual(b, age, (cpu, age))
        if age > 0.01e9:
            self.skipTest("SKIP: tick 2 came %.1f ms after B began (a busy machine): too late to tell" % (age / 1e6))
        self.assertGreaterEqual(a, a + b - age, (cpu, age))

    def test_wsgi_labels_and_body(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            busy_request(0.2)
            return streamed()

        def streamed():  # the body's own work runs while the server iterates it
            yield b"a"
            busy_request(0.2)
            yield b"b"

        wrapped = wsgi(app)
        env = {"HTTP_TRACEPARENT": "00-%s-00f067aa0ba902b7-01" % TRACE,
               "HTTP_BAGGAGE": "loadctl.name=GET%20%2Fslow,k6.name=GET%20%2Fslow"}
        me = threading.get_ident()
        with Collect() as col:
            body = wrapped(env, lambda *a: None)
            self.assertIsNone(context.ACTIVE.get(me))  # between body steps the server's own work is not labelled
            self.assertEqual(b"".join(body), b"ab")
            body.close()
            self.assertIsNone(context.ACTIVE.get(me))
            other = wrapped({}, lambda *a: None)  # unlabelled request
            self.assertEqual(b"".join(other), b"ab")
            other.close()
        self.assertIsNone(context.ACTIVE.get(me))
        labelled = totals(col.cpu, 1, ("trace_id", TRACE), "test_sampler.busy_request")
        named = totals(col.cpu, 1, ("loadctl.name", "GET /slow"), "test_sampler.busy_request")
        streamed_cpu = totals(col.cpu, 1, ("trace_id", TRACE), "test_sampler.Attribution.test_wsgi_labels_and_body"
                              ".<locals>.streamed")
        self.assertGreater(labelled, 0.3e9)
        self.assertGreater(streamed_cpu, 0.12e9)
        self.assertEqual(labelled, named)
        unlabelled = sum(s["values"][1] for s in col.cpu["samples"]
                         if not s["labels"] and "test_sampler.busy_request" in s["stack"])
        self.assertGreater(unlabelled, 0.3e9)

    def test_wsgi_headers_are_bounded_where_kept(self):
        """The WSGI wrapper keeps a request's headers as the server gave them, unchecked; the sampler bounds
        the label tuples it keeps: a header longer than labels.RAW_MAX, or not a str (here a list, which
        cannot be hashed into a profile key), is parsed before it becomes a key. The sampler runs on, the
        keys hold no long header, and the samples carry the labels parsed from the headers."""
        from loadctl_agent import labels as agent_labels

        def app(environ, start_response):
            busy_request(0.15)
            return [b"ok"]

        long_bg = "loadctl.name=GET%20%2Flong," + "k=" + "v" * agent_labels.RAW_MAX
        wrapped = wsgi(app)
        with Collect() as col:
            self.assertEqual(wrapped({"HTTP_BAGGAGE": long_bg}, None), [b"ok"])
            self.assertEqual(wrapped({"HTTP_BAGGAGE": ["k6.name=x"], "HTTP_TRACEPARENT": ("00",)}, None), [b"ok"])
            self.assertEqual(wrapped({"HTTP_BAGGAGE": "k6.name=GET%20%2Fshort"}, None), [b"ok"])
            keys = list(col.c.agg)
        self.assertIsNone(col.s.error)
        self.assertTrue(keys)
        for _, kept in keys:
            for part in kept:
                for x in part if type(part) is tuple else (part,):
                    self.assertFalse(isinstance(x, list) or (isinstance(x, str) and len(x) > agent_labels.RAW_MAX))
        self.assertGreater(totals(col.cpu, 1, ("loadctl.name", "GET /long"), "test_sampler.busy_request"), 0.05e9)
        self.assertGreater(totals(col.cpu, 1, ("k6.name", "GET /short"), "test_sampler.busy_request"), 0.05e9)
        hostile = sum(s["values"][1] for s in col.cpu["samples"]
                      if not s["labels"] and "test_sampler.busy_request" in s["stack"])
        self.assertGreater(hostile, 0.05e9)  # the list header's request: sampled, with no labels

    def test_wsgi_app_raises(self):
        def app(environ, start_response):
            raise ValueError("boom")

        with self.assertRaises(ValueError):
            wsgi(app)({"HTTP_BAGGAGE": "k6.name=x"}, None)
        self.assertIsNone(context.ACTIVE.get(threading.get_ident()))
        self.assertEqual(context.CURRENT.get(), ())

    def test_asgi_steps_and_suspended_requests(self):
        async def app(scope, receive, send):
            if scope["path"] == "/busy":
                for _ in range(6):
                    busy_request(0.05)
                    await asyncio.sleep(0)
            else:
                await asyncio.sleep(0.6)

        wrapped = asgi(app)

        def scope(path, name):
            return {"type": "http", "path": path,
                    "headers": [(b"baggage", ("loadctl.name=" + name).encode())]}

        async def main():
            await asyncio.gather(wrapped(scope("/busy", "busy"), None, None),
                                 wrapped(scope("/wait", "wait"), None, None))

        with Collect() as col:
            asyncio.run(main())
        self.assertEqual(context.INFLIGHT, set())
        busy = totals(col.cpu, 1, ("loadctl.name", "busy"), "test_sampler.busy_request")
        # at least half of its 0.3 s of CPU (a loaded machine delays ticks across the six steps' edges:
        # 0.196 s seen once at load 10)
        self.assertGreater(busy, 0.15e9, busy)
        self.assertLess(totals(col.cpu, 1, ("loadctl.name", "wait")), 0.03e9)
        # the suspended request shows in the wall profile where it awaits
        waits = [s for s in col.wall["samples"] if s["labels"].get("loadctl.name") == "wait"]
        self.assertTrue(waits)
        wall = sum(s["values"][1] for s in waits)
        self.assertGreater(wall, 0.3e9, wall)
        self.assertTrue(any(s["stack"][0].startswith("[await]") and
                            "test_sampler.Attribution.test_asgi_steps_and_suspended_requests.<locals>.app"
                            in s["stack"] for s in waits), waits[:3])

    def test_asgi_route_template(self):
        """FastAPI's router puts the matched route in the scope (scope["route"].path): later samples of the
        request carry it as http.route."""
        class Route:
            path = "/items/{item_id}"

        async def app(scope, receive, send):
            scope["route"] = Route()  # what the router does before calling the endpoint
            await asyncio.sleep(0)
            busy_request(0.3)

        scope = {"type": "http", "headers": [(b"baggage", b"k6.name=GET%20%2Fitems")]}
        with Collect() as col:
            asyncio.run(asgi(app)(scope, None, None))
        routed = totals(col.cpu, 1, ("http.route", "/items/{item_id}"), "test_sampler.busy_request")
        self.assertGreater(routed, 0.2e9)
        self.assertEqual(routed, totals(col.cpu, 1, ("k6.name", "GET /items"), "test_sampler.busy_request"))

    def test_asgi_exceptions_and_cancel(self):
        async def boom(scope, receive, send):
            await asyncio.sleep(0)
            raise KeyError("x")

        async def forever(scope, receive, send):
            await asyncio.sleep(100)

        async def main():
            with self.assertRaises(KeyError):
                await asgi(boom)({"type": "http", "headers": []}, None, None)
            task = asyncio.ensure_future(asgi(forever)({"type": "http", "headers": []}, None, None))
            await asyncio.sleep(0.01)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            await asgi(lambda s, r, se: asyncio.sleep(0))({"type": "lifespan"}, None, None)

        asyncio.run(main())
        self.assertEqual(context.INFLIGHT, set())
        self.assertEqual(context.ACTIVE.get(threading.get_ident()), None)

    def test_django_middleware(self):
        seen = {}

        class Match:
            route = "api/products/<int:pid>"

        class Request:
            META = {"HTTP_BAGGAGE": "loadctl.name=GET%20%2Fdj"}
            resolver_match = Match()

        def get_response(request):
            mw.process_view(request, None, (), {})
            seen["labels"] = context.current_labels()
            return "response"

        mw = agent_django.Middleware(get_response)
        self.assertEqual(mw(Request()), "response")
        self.assertEqual(dict(seen["labels"]), {"loadctl.name": "GET /dj", "http.route": "api/products/<int:pid>"})
        self.assertIsNone(context.ACTIVE.get(threading.get_ident()))


    def test_flask_route_label(self):
        """loadctl_agent.flask labels the request with its route template as soon as Flask matches it (the
        view sees it), request.url_rule still reads back, and no before_request hook is added."""
        try:
            from flask import Flask, request
        except ImportError:
            self.skipTest("flask is not installed for this interpreter (Debian python3-flask)")
        import loadctl_agent
        app = Flask("test_flask_route_label")
        seen = {}

        @app.get("/api/products/<int:pid>")
        def product(pid):
            seen["labels"] = dict(context.current_labels())
            seen["rule"] = request.url_rule.rule
            return "product %d" % pid

        loadctl_agent.flask(app)
        self.assertEqual(sum(len(v) for v in app.before_request_funcs.values()), 0)
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/products/7", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "80", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_BAGGAGE": "loadctl.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D"}
        status = []
        body = b"".join(app(environ, lambda s, h: status.append(s)))
        self.assertEqual((status, body), (["200 OK"], b"product 7"))
        self.assertEqual(seen["labels"], {"loadctl.name": "GET /api/products/{id}",
                                          "http.route": "/api/products/<int:pid>"})
        self.assertEqual(seen["rule"], "/api/products/<int:pid>")
        self.assertIsNone(context.ACTIVE.get(threading.get_ident()))

    def test_flask_plain_bodies_are_handed_back(self):
        """loadctl_agent.flask hands a buffered response's body to the server unwrapped (it runs no app code);
        a streamed body, one with a call_on_close callback, and one a middleware inside made around Flask's
        are stepped under the request's labels (the app code they run is labelled); every body reads whole."""
        try:
            from flask import Flask, Response, stream_with_context
        except ImportError:
            self.skipTest("flask is not installed for this interpreter (Debian python3-flask)")
        import loadctl_agent
        agent_wsgi = sys.modules["loadctl_agent.wsgi"]  # the package exports the wsgi() function by that name
        app = Flask("test_flask_plain_bodies")
        seen = []

        @app.get("/plain")
        def plain():
            return "plain"

        @app.get("/stream")
        def stream():
            def chunks():
                seen.append(dict(context.current_labels()).get("http.route"))
                yield "streamed"
            return Response(stream_with_context(chunks()))

        @app.get("/onclose")
        def onclose():
            r = Response("closed")
            r.call_on_close(lambda: seen.append(dict(context.current_labels()).get("http.route")))
            return r

        def around(inner):  # a middleware inside the agent's wrapper, making its own body around Flask's
            def mw(environ, start_response):
                body = inner(environ, start_response)
                def steps():
                    seen.append("mw:%s" % dict(context.current_labels()).get("http.route"))
                    yield from body
                return steps()
            return mw

        loadctl_agent.flask(app)
        base = Flask("test_flask_plain_bodies_mw")
        base.get("/plain")(plain)
        base.wsgi_app = around(base.wsgi_app)
        loadctl_agent.flask(base)
        for a, path, want, wrapped in ((app, "/plain", b"plain", False), (app, "/stream", b"streamed", True),
                                       (app, "/onclose", b"closed", True), (base, "/plain", b"plain", True)):
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
                       "SERVER_PORT": "80", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
                       "HTTP_BAGGAGE": "loadctl.name=GET%20x"}
            body = a(environ, lambda s, h: None)
            self.assertEqual(isinstance(body, agent_wsgi._Body), wrapped, path)
            self.assertEqual(b"".join(body), want)
            body.close()
            self.assertIsNone(context.ACTIVE.get(threading.get_ident()))
        self.assertEqual(seen, ["/stream", "/onclose", "mw:/plain"])


class Bounds(unittest.TestCase):
    def test_encoding_gives_up_the_gil(self):
        """Encoding a CPU or wall profile pauses (a sleep: the GIL released) after every YIELD_EVERY entries,
        so app threads never wait on more than that much encoding; the profile holds every entry."""
        c = sampler.Collector("cpu")
        n = 3 * profiles.YIELD_EVERY + 17
        for i in range(n):
            node = (i + 1, None, ("f%d" % i, "x.py", 1), 1)
            c.add([((i + 1, (("trace_id", "%032x" % (i + 1)),)), node, 10, 1, 1)], 10)
        pauses = []
        old = profiles.pause
        profiles.pause = lambda s: pauses.append((s, len(pauses)))
        try:
            cpu = pbread.profile(profiles.cpu(c, 10))
            wall = pbread.profile(profiles.wall(c, 10))
        finally:
            profiles.pause = old
        self.assertEqual(len(pauses), 2 * (n // profiles.YIELD_EVERY))
        self.assertTrue(all(0 < s <= 0.001 for s, _ in pauses))
        self.assertEqual((len(cpu["samples"]), len(wall["samples"])), (n, n))

    def test_collector_keys_are_bounded(self):
        c = sampler.Collector("cpu")
        old = sampler.MAX_KEYS
        sampler.MAX_KEYS = 100
        try:
            for i in range(1000):
                node = (i + 1, None, ("f%d" % i, "x.py", 1), 1)
                c.add([((i + 1, ()), node, 10, 0, 1)], 10)
        finally:
            sampler.MAX_KEYS = old
        self.assertEqual(len(c.agg), 101)
        self.assertEqual(c.agg[sampler.OVERFLOW_KEY][0], 900)
        self.assertIs(c.agg[sampler.OVERFLOW_KEY][3], sampler.OVERFLOW)

    def test_collectors_are_bounded(self):
        s = sampler.Sampler(100)
        got = [s.subscribe("cpu") for _ in range(sampler.MAX_COLLECTORS + 2)]
        self.assertEqual(sum(c is not None for c in got), sampler.MAX_COLLECTORS)

    def test_reused_callers_match_a_fresh_walk(self):
        """walk() reuses the callers a live thread shares with its previous stack: same result as a full
        walk, at every step of a thread that moves between leaves and lines."""
        s = sampler.Sampler(100)
        ready, go = threading.Semaphore(0), threading.Semaphore(0)

        def leaf(n):
            ready.release()
            go.acquire()

        def other(n):
            return leaf(n)

        def middle():
            for n in range(3):
                leaf(n)
                other(n)
            leaf(9)

        t = threading.Thread(target=middle)
        t.start()
        walker, leaves, nodes = stacks.Walker(), set(), set()
        for _ in range(7):
            ready.acquire()
            f = sys._current_frames()[t.ident]
            node = walker.walk(s.tree, f)
            stack = tuple(stacks.frames_of(node, 1000))
            self.assertEqual(stack, s.stack(f))
            self.assertIs(walker.walk(s.tree, f), node)  # nothing moved: the same node
            nodes.add(node[0])
            names = [info[0].rsplit(".", 1)[1] for info, _ in stack]
            leaves.add(names[names.index("leaf") + 1])  # who called leaf() this time
            go.release()
        t.join()
        self.assertEqual(leaves, {"middle", "other"})
        self.assertEqual(len(nodes), 3)  # three distinct stacks (leaf from middle, via other, the last leaf): equal stacks are one node

    def test_deep_stacks_are_cut(self):
        s = sampler.Sampler(100)

        def deep(n):
            return deep(n - 1) if n else s.stack(sys._getframe())

        self.assertEqual(len(deep(sampler.MAX_DEPTH + 50)), sampler.MAX_DEPTH)


class Failure(unittest.TestCase):
    def test_failing_sampler_logs_once_and_stops(self):
        s = sampler.Sampler(200)
        s.subscribe("cpu")
        real = sys._current_frames
        calls = []

        def broken():
            calls.append(1)
            raise RuntimeError("no frames today")

        sys._current_frames = broken
        try:
            with self.assertLogs("loadctl_agent", level=logging.WARNING) as logs:
                s.start()
                s.thread.join(timeout=5)
        finally:
            sys._current_frames = real
        self.assertFalse(s.thread.is_alive())
        self.assertEqual(len(calls), 1)
        self.assertEqual(len(logs.records), 1)
        self.assertIn("no frames today", s.error)
        self.assertIsNone(s.subscribe("cpu"))


if __name__ == "__main__":
    unittest.main()
