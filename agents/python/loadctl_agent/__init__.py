"""loadctl_agent - per-request profiles of a Python service for loadctl (standard library only).

    import loadctl_agent
    loadctl_agent.start()                    # sampler + http://127.0.0.1:6061/debug/pprof/...
    app = loadctl_agent.wsgi(app)            # or loadctl_agent.flask(app), loadctl_agent.asgi(app),
                                             # or "loadctl_agent.django.Middleware" in MIDDLEWARE

Each request's W3C traceparent and baggage (loadctl.name, k6.name) become labels of the samples taken
while it runs; one sampler yields a CPU profile (samples weighted by each thread's CPU time) and a
wall-clock profile (I/O, locks, sleeps, the GIL); the heap profile is tracemalloc's growth over a window.
Never raises into the app: a failure to bind logs a warning and returns an agent without an endpoint;
a failing sampler logs once and stops."""

import ipaddress
import logging
import os
import threading

from . import context, external as _external, sampler as _sampler, server as _server
from .asgi import asgi
from .context import current_labels, set_label
from .wsgi import flask, wsgi

__all__ = ["start", "stop", "wsgi", "asgi", "flask", "set_label", "current_labels", "Agent"]
__version__ = "0.1.0"
LOG = logging.getLogger("loadctl_agent")
DEFAULT_LISTEN = "127.0.0.1:6061"
_lock = threading.Lock()
_agent = None


class Agent:
    """A running agent: .address is (host, port) of its endpoint, or None when it could not bind."""

    def __init__(self, hz):
        self.sampler = _sampler.Sampler(hz)
        self.external = None  # external.External when the sampler may run in a process of its own
        self.stopping = threading.Event()
        self.heap_lock = threading.Lock()
        self.httpd = None
        self.address = None

    def stop(self):
        self.stopping.set()
        self.sampler.stop()
        if self.external is not None:
            self.external.stop()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.loadctl_thread.join(timeout=2)


def parse_listen(listen):
    """(host, port) from "host:port" or "[v6]:port"; ValueError naming the problem."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError("listen must be host:port, not %r" % listen)
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "127.0.0.1", int(port)


def _loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def start(listen=None, hz=100):
    """Start the sampler and the endpoint once per process (later calls return the running agent).
    listen defaults to $LOADCTL_AGENT_LISTEN or 127.0.0.1:6061 ("host:0" picks a free port: see
    Agent.address); hz is samples per second (1..1000). Call it in the process that serves requests
    (under gunicorn: in the app module or a post_fork hook, not in the master before fork)."""
    global _agent
    with _lock:
        if _agent is not None and _agent.address is not None and _agent.pid == os.getpid():
            return _agent
        agent = Agent(hz)
        agent.pid = os.getpid()
        listen = listen or os.environ.get("LOADCTL_AGENT_LISTEN") or DEFAULT_LISTEN
        try:
            host, port = parse_listen(listen)
            if not _loopback(host):
                LOG.warning("loadctl_agent: serving profiles on %s, which is not a loopback address", listen)
            agent.httpd = _server.serve(agent, host, port)
            agent.address = agent.httpd.server_address[:2]
        except (OSError, ValueError) as e:
            LOG.warning("loadctl_agent: not serving profiles (%s: %s); the app runs on unprofiled", listen, e)
            _agent = agent
            return agent
        agent.sampler.start()
        mode = os.environ.get("LOADCTL_AGENT_SAMPLER", "auto")
        if mode not in ("auto", "inprocess"):
            LOG.warning("loadctl_agent: LOADCTL_AGENT_SAMPLER=%s is neither auto nor inprocess: auto", mode[:40])
        if mode != "inprocess" and not context.ASYNC_APP:
            agent.external = _external.External(agent.sampler.hz)
        _agent = agent
        return agent


def stop():
    """Stop the running agent (tests; a process that exits needs not call it)."""
    global _agent
    with _lock:
        if _agent is not None:
            _agent.stop()
            _agent = None


