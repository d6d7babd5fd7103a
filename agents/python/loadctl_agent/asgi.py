"""asgi.py - label asyncio requests. Many requests share the event loop's thread, so the wrapper drives the
app's coroutine itself and marks the thread with the request's labels around every step it runs (from
one await to the next): CPU samples taken during a step carry exactly that request's labels. While the
request is suspended, the sampler reads its coroutine chain (Request.coro) for the wall profile.

Exact: code that runs in the request's own coroutine chain (everything it awaits directly).
Not attributed: tasks it spawns (asyncio.create_task, gather/wait of new tasks, background tasks),
callbacks scheduled on the loop, and work sent to executor threads (run_in_executor, to_thread): those
run outside the request's steps and are unlabelled, though `context.CURRENT` (a contextvar, copied into
spawned tasks) still holds the labels for code that reads them."""

import threading

from . import context, labels as _labels


class Request:
    """One in-flight ASGI request as the sampler sees it."""

    __slots__ = ("labels", "coro", "running", "scope", "route", "__weakref__")

    def __init__(self, request_labels, coro, scope):
        self.labels, self.coro, self.running, self.scope = request_labels, coro, False, scope
        self.route = None


def _route(req):
    route = req.scope.get("route")  # FastAPI (and Starlette routers that set it) after routing
    path = getattr(route, "path", None)
    if isinstance(path, str) and path != req.route:
        req.route = path
        req.labels = _labels.with_label(req.labels, "http.route", path)


def _step(req, send_value, exc):
    """Run one step of the app's coroutine with the thread marked; labels set meanwhile are kept."""
    tid = threading.get_ident()
    prev = context.ACTIVE.get(tid)
    context.ACTIVE[tid] = req.labels
    req.running = True
    try:
        if exc is not None:
            return req.coro.throw(exc)
        return req.coro.send(send_value)
    finally:
        req.running = False
        req.labels = context.ACTIVE.get(tid, req.labels)
        if prev is None:
            context.ACTIVE.pop(tid, None)
        else:
            context.ACTIVE[tid] = prev
        try:
            _route(req)
        except Exception:
            pass


def _drive(req):
    """A generator-based awaitable that runs req.coro step by step (what `await req.coro` would do)."""
    send_value, exc = None, None
    while True:
        try:
            yielded = _step(req, send_value, exc)
        except StopIteration as stop:
            return stop.value
        try:
            send_value, exc = (yield yielded), None
        except GeneratorExit:
            req.coro.close()
            raise
        except BaseException as e:  # cancellation and errors go into the app, as await would
            send_value, exc = None, e


class _Awaitable:
    def __init__(self, req):
        self.req = req

    def __await__(self):
        return _drive(self.req)


def asgi(app):
    """Wrap an ASGI application (FastAPI, Starlette, Django's ASGI handler...). The process's profiles then
    come from the in-process sampler (see external.py)."""
    if not context.ASYNC_APP:
        context.ASYNC_APP.append(True)
        context.unmirror()

    async def loadctl_agent_asgi(scope, receive, send):
        if not isinstance(scope, dict) or scope.get("type") not in ("http", "websocket"):
            return await app(scope, receive, send)
        request_labels = _labels.raw_asgi_scope(scope)
        req = Request(request_labels, app(scope, receive, send), scope)
        ctx = context.CURRENT.set(request_labels)
        context.INFLIGHT.add(req)
        try:
            return await _Awaitable(req)
        finally:
            context.INFLIGHT.discard(req)
            context.CURRENT.reset(ctx)

    loadctl_agent_asgi.__wrapped__ = app
    return loadctl_agent_asgi
