"""test_server.py - the agent's endpoint: CPU, wall and heap profiles over HTTP, errors (400, 404, 500 busy,
503 after a sampler failure), loopback by default, a port in use never raises into the app. With the
in-process sampler (LOADCTL_AGENT_SAMPLER=inprocess); test_external.py covers the external one."""

import logging
import os
import socket
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import loadctl_agent  # noqa: E402
from loadctl_agent import context, sampler  # noqa: E402

import pbread  # noqa: E402

KEEP = []


def setUpModule():
    os.environ["LOADCTL_AGENT_SAMPLER"] = "inprocess"


def tearDownModule():
    os.environ.pop("LOADCTL_AGENT_SAMPLER", None)


def grow_cache(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        KEEP.append(bytearray(20000))
        time.sleep(0.01)


def labelled_spin(seconds):
    token = context.enter((("loadctl.name", "GET /spin"),))
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    context.leave(token)


class Server(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = loadctl_agent.start(listen="127.0.0.1:0", hz=100)
        cls.base = "http://%s:%d" % cls.agent.address

    @classmethod
    def tearDownClass(cls):
        loadctl_agent.stop()

    def get(self, path, timeout=30):
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def test_loopback_default_and_idempotent(self):
        self.assertEqual(self.agent.address[0], "127.0.0.1")
        self.assertEqual(loadctl_agent.DEFAULT_LISTEN, "127.0.0.1:6061")
        self.assertIs(loadctl_agent.start(), self.agent)

    def test_cpu_and_wall(self):
        t = threading.Thread(target=labelled_spin, args=(0.8,))
        t.start()
        out = {}
        ws = [threading.Thread(target=lambda k=k: out.__setitem__(k, self.get("/debug/pprof/%s?seconds=1" % k)))
              for k in ("profile", "wall")]
        [w.start() for w in ws]
        [w.join() for w in ws]
        t.join()
        self.assertGreater(self.agent.sampler.ticks_total, 20)  # ~100 ticks in 1 s; far fewer on a starved machine
        self.assertGreater(self.agent.sampler.encode_ns, 0)
        for kind, unit in (("profile", "cpu"), ("wall", "wall")):
            status, body = out[kind]
            self.assertEqual(status, 200, body[:200])
            p = pbread.profile(body)
            self.assertEqual(p["sample_types"][1], (unit, "nanoseconds"))
            self.assertGreater(p["duration_ns"], 0.9e9)
            spin = [s for s in p["samples"] if s["labels"].get("loadctl.name") == "GET /spin"]
            self.assertTrue(spin, kind)
            self.assertIn("test_server.labelled_spin", spin[0]["stack"])
            # the agent's own threads are not in its profiles
            self.assertFalse([s for s in p["samples"] if any(f.startswith("loadctl_agent.") for f in s["stack"])])

    def test_heap_names_the_allocating_function(self):
        t = threading.Thread(target=grow_cache, args=(0.8,))
        t.start()
        status, body = self.get("/debug/pprof/heap?seconds=1")
        t.join()
        self.assertEqual(status, 200, body[:200])
        p = pbread.profile(body)
        self.assertEqual(p["sample_types"], [("inuse_objects", "count"), ("inuse_space", "bytes")])
        grown = sum(s["values"][1] for s in p["samples"] if s["stack"] and s["stack"][0] == "test_server.grow_cache")
        self.assertGreater(grown, 20000 * 30)

    def test_errors(self):
        self.assertEqual(self.get("/debug/pprof/profile?seconds=abc")[0], 400)
        self.assertEqual(self.get("/debug/pprof/profile?seconds=0")[0], 400)
        self.assertEqual(self.get("/debug/pprof/wall?seconds=100000")[0], 400)
        self.assertEqual(self.get("/nope")[0], 404)
        status, body = self.get("/debug/pprof/")
        self.assertEqual(status, 200)
        self.assertIn(b"/debug/pprof/wall", body)
        self.assertRegex(body.decode(), r"agent cost so far: \d+ ticks at 100 Hz, sampler CPU [0-9.]+ s \([0-9.]+ s reading stacks\), encoding CPU [0-9.]+ s")

    def test_busy_is_a_500_loadctl_retries(self):
        held = [self.agent.sampler.subscribe("cpu") for _ in range(sampler.MAX_COLLECTORS)]
        try:
            status, body = self.get("/debug/pprof/profile?seconds=1")
        finally:
            for c in held:
                if c is not None:
                    self.agent.sampler.unsubscribe(c)
        self.assertEqual(status, 500)
        self.assertIn(b"already in use", body)


class Failures(unittest.TestCase):
    def test_port_in_use_never_raises(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            with self.assertLogs("loadctl_agent", level=logging.WARNING) as logs:
                agent = loadctl_agent.start(listen="127.0.0.1:%d" % s.getsockname()[1])
            self.assertIsNone(agent.address)
            self.assertIn("not serving profiles", logs.output[0])
        finally:
            loadctl_agent.stop()
            s.close()

    def test_bad_listen_never_raises(self):
        with self.assertLogs("loadctl_agent", level=logging.WARNING):
            agent = loadctl_agent.start(listen="no-port-here")
        self.assertIsNone(agent.address)
        loadctl_agent.stop()

    def test_stop_forgets_the_agent_threads(self):
        """Once the agent stops, its threads' idents leave the set the sampler skips: a thread started later
        may get one of them, and would be missing from every profile."""
        agent = loadctl_agent.start(listen="127.0.0.1:0")
        ident = agent.httpd.loadctl_thread.ident
        self.assertIn(ident, context.AGENT_THREADS)
        loadctl_agent.stop()
        self.assertNotIn(ident, context.AGENT_THREADS)
        self.assertFalse(agent.sampler.thread.is_alive())
        self.assertNotIn(agent.sampler.thread.ident, context.AGENT_THREADS)

    def test_stopped_sampler_answers_503(self):
        agent = loadctl_agent.start(listen="127.0.0.1:0")
        try:
            agent.sampler.error = "RuntimeError: test"
            url = "http://%s:%d/debug/pprof/profile?seconds=1" % agent.address
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(url, timeout=10)
            self.assertEqual(e.exception.code, 503)
            self.assertIn(b"sampler stopped: RuntimeError: test", e.exception.read())
        finally:
            loadctl_agent.stop()


if __name__ == "__main__":
    unittest.main()
