"""context.py - which request each thread is serving right now: the table the sampler reads.

`ACTIVE` maps a thread's ident to the label tuple of the request it serves (labels.raw(): the headers as
received, parsed only when a profile is encoded). The wrappers (wsgi.py,
asgi.py, django.py) set an entry when a request starts running on a thread and remove it when it stops;
the sampler reads the table without a lock (single dict reads and writes are atomic under the GIL, and
a stale read costs one mislabelled sample at most). asyncio code runs many requests on one thread, so the
ASGI wrapper sets the entry around every step of the request's own task (see asgi.py), and `CURRENT`
(a contextvar, set by the ASGI wrapper only: a WSGI or Django request's thread is its own) carries the
labels into the tasks it spawns, for code that wants to read them (`current_labels()`).

While the external sampler runs (extsampler.py), mirror() makes every write to ACTIVE (and AGENT_THREADS)
also write the thread's record in shared memory (slots.py), which that process reads; ACTIVE and
AGENT_THREADS are subclasses of dict and set whose methods are the built-in ones until then."""

import contextvars
import threading
from time import monotonic_ns

from . import labels as _labels



class Table(dict):
    """ACTIVE's type: a dict, with writes mirrored to the label slots while mirror() is on."""
    __slots__ = ()


class AgentSet(set):
    """AGENT_THREADS' type: a set, with adds and discards mirrored to the label slots while mirror() is on."""
    __slots__ = ()


ACTIVE = Table()  # thread ident -> label tuple of the request that thread is running
INFLIGHT = set()  # asgi.Request objects of requests in flight (their suspended stacks: wall profile)
AGENT_THREADS = AgentSet()  # idents of the agent's own threads, left out of every profile
ASYNC_APP = []  # non-empty once asgi() wrapped an app: its requests switch labels per task step on one
# thread, and their suspended coroutines are sampled in-process only (so the in-process sampler serves)
STARTED = {}  # thread ident -> monotonic_ns() when its current request began (WSGI, Django): bounds the CPU
# the sampler charges to that request (see sampler.tick)
CURRENT = contextvars.ContextVar("loadctl_agent_labels", default=())


def enter(labels):
    """Mark the calling thread as serving a request with labels; returns the token for leave()."""
    tid = threading.get_ident()
    prev = ACTIVE.get(tid)
    ACTIVE[tid] = labels
    STARTED[tid] = monotonic_ns()
    return tid, prev


def leave(token):
    """Undo enter(): the thread serves what it served before (usually nothing)."""
    tid, prev = token
    if prev is None:
        ACTIVE.pop(tid, None)
    else:
        ACTIVE[tid] = prev


def current_labels():
    """The labels of the request the calling code runs for (thread table first, then the contextvar), as
    (key, value) pairs."""
    return _labels.resolve(ACTIVE.get(threading.get_ident()) or CURRENT.get())


def set_label(key, value):
    """Add or replace one label (e.g. the route template, once the framework has routed) on the request
    the calling thread serves: in the thread table, and in the contextvar when it holds a request's labels
    (asyncio). Does nothing outside a request. Never raises."""
    try:
        tid = threading.get_ident()
        cur = ACTIVE.get(tid)
        ctx = CURRENT.get()
        if cur is not None:
            new = _labels.with_label(cur, key, value)
            ACTIVE[tid] = new
            if ctx and ctx is cur:  # an asyncio request's own labels
                CURRENT.set(new)
        elif ctx:
            CURRENT.set(_labels.with_label(ctx, key, value))
    except Exception:
        pass


def mirror(writer):
    """From now on, label writes also go to writer (a slots.Writer); the threads already labelled or marked
    as the agent's are written now. The request path's writes (ACTIVE[tid] = labels, ACTIVE.pop) are the
    writer's put() inlined: a few item stores into the shared memory."""
    from .slots import AGENT, IDLE
    of, claim, gens, addrs, put = writer.of, writer.claim, writer.gens, writer.addrs, writer.put
    dict_set, dict_pop = dict.__setitem__, dict.pop
    native_id = threading.get_native_id

    def setitem(self, tid, labels):  # the record first: it must never point to a tuple already dropped
        s = of.get(tid)  # (ACTIVE is written by the thread it describes: its native id tells an ident that
        if s is None or s[3] != native_id():  # an ended thread had from the thread now under it)
            s = claim(tid)
        if s is not None:
            g = s[2] + 2
            gens[s[0]] = g - 1
            addrs[s[1]] = id(labels) if labels else IDLE
            gens[s[0]] = s[2] = g
        dict_set(self, tid, labels)

    def pop(self, tid, *default):  # (a record an ended thread left under this ident: made idle, no harm)
        s = of.get(tid)
        if s is not None:
            g = s[2] + 2
            gens[s[0]] = g - 1
            addrs[s[1]] = IDLE
            gens[s[0]] = s[2] = g
        return dict_pop(self, tid, *default)

    def add(self, ident):
        set.add(self, ident)
        put(ident, (), AGENT)

    def discard(self, ident):
        if ident in self:
            put(ident, ())
        set.discard(self, ident)

    Table.__setitem__, Table.pop = setitem, pop
    AgentSet.add, AgentSet.discard = add, discard
    for tid, labels in list(ACTIVE.items()):
        put(tid, labels)
    for ident in list(AGENT_THREADS):
        put(ident, (), AGENT)


def unmirror():
    """Label writes go to the tables alone again."""
    for cls, names in ((Table, ("__setitem__", "pop")), (AgentSet, ("add", "discard"))):
        for name in names:
            if name in cls.__dict__:
                delattr(cls, name)
