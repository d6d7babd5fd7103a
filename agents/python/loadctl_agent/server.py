"""server.py - the agent's HTTP endpoint (loopback by default): /debug/pprof/profile (CPU), /wall and /heap
as gzipped profile.proto, the way Go's net/http/pprof answers, so loadctl's `pprof` source and
`go tool pprof` read them unchanged.

  GET /debug/pprof/profile?seconds=N   CPU profile of the next N seconds (default 30, at most 300)
  GET /debug/pprof/wall?seconds=N      wall-clock profile of the next N seconds
  GET /debug/pprof/heap[?seconds=N]    live-memory growth over N seconds (default 5; tracemalloc)
  GET /debug/pprof/                    a plain-text index, with the agent's own CPU cost so far

Answers 400 for a bad `seconds`, 404 for other paths, 500 "profiling already in use" when MAX_COLLECTORS
profiles (or one heap profile) already run - loadctl records that as a gap and retries - and 503 with
the reason once the sampler has stopped."""

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import context, profiles

DEFAULT_SECONDS = 30
HEAP_DEFAULT_SECONDS = 5
MAX_SECONDS = 300
LOG = logging.getLogger("loadctl_agent")
INDEX = (b"loadctl_agent profiles (gzipped profile.proto):\n"
         b"/debug/pprof/profile?seconds=N  CPU\n/debug/pprof/wall?seconds=N  wall clock\n"
         b"/debug/pprof/heap?seconds=N  live-memory growth (tracemalloc)\n")


class BadRequest(Exception):
    pass


def seconds_arg(query, default):
    vals = parse_qs(query).get("seconds")
    if not vals:
        return default
    try:
        s = float(vals[0])
    except ValueError:
        raise BadRequest("seconds must be a number, not %r" % vals[0][:40])
    if not (0 < s <= MAX_SECONDS):
        raise BadRequest("seconds must be in (0, %d], not %s" % (MAX_SECONDS, vals[0][:40]))
    return s


class Handler(BaseHTTPRequestHandler):
    server_version = "loadctl_agent"
    agent = None  # set on the subclass made by serve()

    def log_message(self, fmt, *args):  # the app's stderr is not ours
        pass

    def do_GET(self):
        try:
            self.route()
        except BadRequest as e:
            self.answer(400, str(e).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # an agent bug must not surface as a crash of anything
            LOG.warning("loadctl_agent: %s failed: %s: %s", self.path[:100], type(e).__name__, e)
            self.answer(500, b"agent error\n")

    def route(self):
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        if path in ("/debug/pprof", ""):
            s = self.agent.sampler
            cost = ("\nagent cost so far: %d ticks at %d Hz, sampler CPU %.3f s (%.3f s reading stacks), "
                    "encoding CPU %.3f s\n" % (s.ticks_total, s.hz, s.cpu_ns / 1e9, s.tick_cpu_ns / 1e9,
                                                 s.encode_ns / 1e9))
            ext = self.agent.external
            st = ext.stats() if ext is not None and ext.ready(0) else None
            if st is not None:
                cost += ("external sampler process: %d ticks, CPU %.3f s (%.3f s ticks, %.3f s encoding), "
                         "torn label reads %d, stacks unreadable %d, stacks read %d; sampled %.1f s (%.1f ticks/s), "
                         "scheduled %s\n" % (st["ticks"], st["process_cpu_ns"] / 1e9, st["tick_cpu_ns"] / 1e9,
                                              st["encode_ns"] / 1e9, st["torn"], st["unreadable"], st["reads"],
                                              st["sampling_ns"] / 1e9,
                                              st["ticks"] / max(st["sampling_ns"] / 1e9, 1e-9), st["sched"]))
            else:
                cost += "sampler: in-process (%s)\n" % (ext.reason if ext is not None else "chosen")
            self.answer(200, INDEX + cost.encode(), "text/plain")
        elif path == "/debug/pprof/profile":
            self.sampled("cpu", seconds_arg(url.query, DEFAULT_SECONDS))
        elif path == "/debug/pprof/wall":
            self.sampled("wall", seconds_arg(url.query, DEFAULT_SECONDS))
        elif path == "/debug/pprof/heap":
            self.heap(seconds_arg(url.query, HEAP_DEFAULT_SECONDS))
        else:
            self.answer(404, b"not found: try /debug/pprof/\n")

    def sampled(self, kind, seconds):
        ext = self.agent.external
        if ext is not None and ext.ready():
            r = ext.profile(kind, seconds)
            if r is not None and r[0] == 503:  # its sampling stopped: this process samples itself from now on
                ext.failed(r[1].decode("utf-8", "replace").strip())
            elif r is not None:
                return self.answer(r[0], r[1], "application/octet-stream" if r[0] == 200 else "text/plain")
            if self.agent.stopping.is_set():
                return self.answer(503, b"agent stopping\n")
        sampler = self.agent.sampler
        if sampler.error:
            return self.answer(503, ("sampler stopped: %s\n" % sampler.error).encode())
        c = sampler.subscribe(kind)
        if c is None:
            return self.answer(500, b"profiling already in use (too many profiles at once)\n")
        try:
            stopping = self.agent.stopping.wait(seconds)
        finally:
            sampler.unsubscribe(c)
        if stopping:
            return self.answer(503, b"agent stopping\n")
        encode = profiles.cpu if kind == "cpu" else profiles.wall
        t0 = time.thread_time_ns()
        body = encode(c, sampler.period_ns)
        sampler.encode_ns += time.thread_time_ns() - t0
        self.answer(200, body, "application/octet-stream")

    def heap(self, seconds):
        if not self.agent.heap_lock.acquire(blocking=False):
            return self.answer(500, b"heap profiling already in use\n")
        try:
            body = profiles.heap_delta(seconds, self.agent.stopping.wait)
        finally:
            self.agent.heap_lock.release()
        self.answer(200, body, "application/octet-stream")

    def answer(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if ctype == "application/octet-stream":
            self.send_header("Content-Disposition", 'attachment; filename="profile.pb.gz"')
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def process_request_thread(self, request, client_address):
        """Each request's own thread is the agent's from its first step (reading the request) to its last:
        left out of every profile (and while not marked yet or any more, by this frame: stacks.AGENT_MODULES)."""
        context.AGENT_THREADS.add(threading.get_ident())
        try:
            super().process_request_thread(request, client_address)
        finally:
            context.AGENT_THREADS.discard(threading.get_ident())


def serve(agent, host, port):
    """Bind and serve on a daemon thread; returns the server (server_address has the bound port).
    Raises OSError when the address cannot be bound."""
    handler = type("AgentHandler", (Handler,), {"agent": agent})
    httpd = _Server((host, port), handler)

    def run():  # the thread leaves AGENT_THREADS when it ends: a later thread may get its ident
        try:
            httpd.serve_forever(poll_interval=0.5)
        finally:
            context.AGENT_THREADS.discard(threading.get_ident())

    t = httpd.loadctl_thread = threading.Thread(target=run, name="loadctl-agent-http", daemon=True)
    t.start()
    context.AGENT_THREADS.add(t.ident)
    return httpd
