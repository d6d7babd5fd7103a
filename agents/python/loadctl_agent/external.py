"""external.py - the app's side of the external sampler (extsampler.py): find the interpreter's layout
(layout.py), start the sampler process with it, hand it the label table (slots.py), and ask it for
profiles over a Unix socket. All of it runs on a thread of its own at start: start() does not wait.

The external sampler is used only when every step holds: CPython 3.11 on 64-bit little-endian Linux, the
layout found and unique, the process started, allowed to read this process's memory (same user; under
Yama's ptrace_scope 1 this process names it its tracer with PR_SET_PTRACER), and its walk of two parked
threads equal to sys._current_frames(). Otherwise, or when it dies later, the in-process sampler serves
the profiles, and the reason is logged once. ASGI apps (asgi() called) always use the in-process sampler:
their requests take turns on one thread step by step and their suspended coroutines are read in-process."""

import ctypes
import json
import logging
import os
import socket
import subprocess
import sys
import threading

from . import context, layout, slots
from .sampler import Sampler

LOG = logging.getLogger("loadctl_agent")
PR_SET_PTRACER = 0x59616D61
START_TIMEOUT_S = 20.0  # the sampler process's verdict (a loaded machine starts Python slowly)
ANSWER_GRACE_S = 30.0  # beyond a profile's seconds, for the sampler process to encode it
_warned = set()


def warn_once(what, msg, *args):
    if what not in _warned:
        _warned.add(what)
        LOG.warning(msg, *args)


class External:
    """One sampler process. ready(timeout) -> True when it verified and serves profiles."""

    def __init__(self, hz):
        self.hz = hz
        self.proc = None
        self.writer = None
        self.sock = "loadctl-agent-%d-%s" % (os.getpid(), os.urandom(6).hex())
        self.done = threading.Event()
        self.ok = False
        self.reason = "starting"
        self.lock = threading.Lock()
        t = threading.Thread(target=self._launch, name="loadctl-agent-launch", daemon=True)
        t.start()

    def ready(self, timeout=START_TIMEOUT_S):
        self.done.wait(timeout)
        return self.ok and not context.ASYNC_APP

    def _launch(self):
        context.AGENT_THREADS.add(threading.get_ident())
        parked = None
        try:
            lay, parked, leaves = layout.discover()
            s = Sampler()
            expect = {str(ident): [list(f) for f in s.stack(leaf)] for ident, leaf in leaves.items()}
            self.writer = slots.Writer()
            env = dict(os.environ)
            pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env["PYTHONPATH"] = pkg_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            self.proc = subprocess.Popen([sys.executable, "-m", "loadctl_agent.extsampler", str(os.getpid())],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                         pass_fds=(self.writer.fd,), close_fds=True)
            _allow_tracer(self.proc.pid)
            self.layout = lay
            cfg = {"layout": lay, "slots_fd": self.writer.fd, "hz": self.hz, "expect": expect, "socket": self.sock}
            self.proc.stdin.write(json.dumps(cfg).encode() + b"\n")
            self.proc.stdin.flush()
            verdict = self.proc.stdout.readline().decode("utf-8", "replace").strip()
            if verdict != "ok":
                raise RuntimeError(verdict or "the sampler process exited")
            context.mirror(self.writer)
            self.ok, self.reason = True, "external"
        except (layout.LayoutError, OSError, RuntimeError, ValueError) as e:
            self.reason = "%s" % e
            warn_once("external", "loadctl_agent: external sampler unavailable (%s); sampling in-process", e)
            self._kill()
        finally:
            if parked is not None:
                parked.release()
            self.done.set()
        if self.ok:  # this thread stays while the process lives: its death signal (PR_SET_PDEATHSIG) fires
            # when the thread that started it ends; waiting costs nothing (no GIL) and notices an exit
            rc = self.proc.wait()
            self.failed("exited with status %s" % rc)
        context.AGENT_THREADS.discard(threading.get_ident())

    def _kill(self):
        p = self.proc
        if p is not None:
            try:
                p.stdin.close()
            except OSError:
                pass
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=2)

    def _ask(self, line, timeout):
        """(status, body) of one request to the sampler process; None when it cannot be reached."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(timeout)
                c.connect("\0" + self.sock)
                c.sendall(line.encode() + b"\n")
                with c.makefile("rb") as f:
                    head = f.readline(64).split()
                    if len(head) != 2:
                        raise OSError("no answer")
                    body = f.read(int(head[1]))
                return int(head[0]), body
        except (OSError, ValueError) as e:
            self.failed(e)
            return None

    def failed(self, e):
        """The sampler process is gone or broken: the in-process sampler from now on."""
        with self.lock:
            if not self.ok:
                return
            self.ok, self.reason = False, "failed: %s" % e
            context.unmirror()
        warn_once("external-failed", "loadctl_agent: external sampler failed (%s); sampling in-process", e)
        self._kill()

    def profile(self, kind, seconds):
        return self._ask("profile %s %s" % (kind, seconds), seconds + ANSWER_GRACE_S)

    def stats(self):
        r = self._ask("stats", 5)
        if r is None or r[0] != 200:
            return None
        return json.loads(r[1])

    def stop(self):
        with self.lock:
            if self.ok:
                context.unmirror()
            self.ok = False
        self._kill()


def _allow_tracer(pid):
    """Under Yama's ptrace_scope 1, let the sampler process read this one (EINVAL without Yama: ignored)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PTRACER, pid, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _after_fork_in_child():
    """A forked process (multiprocessing, a server's workers) must not write the parent's label table."""
    context.unmirror()


os.register_at_fork(after_in_child=_after_fork_in_child)
