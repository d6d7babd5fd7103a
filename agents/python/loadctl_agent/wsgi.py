"""wsgi.py - label the thread that serves a WSGI request while the app runs for it: the call, then each
step of the response body it returns (streamed bodies included) and its close(). The server's own work
between those steps (writing the response to the socket) is not labelled, as a Go handler's labels end
when the handler returns. A body that runs no app code when iterated (a list, a tuple, the server's
wsgi.file_wrapper) is handed back as it is, so the server's sendfile path stays. The per-request path
touches only the thread table (no contextvar: the thread is the request's) and parses nothing: the label
tuple is (RAW, traceparent, baggage) as the server gave them, bounded and parsed by the sampler only for
the requests it samples (labels.bounded, labels.resolve)."""

from operator import attrgetter
from threading import get_ident
from time import monotonic_ns

from .context import ACTIVE, STARTED
from .labels import RAW

PLAIN_BODY = "loadctl_agent.plain_body"  # environ key: the body (set by flask()'s response) that runs no app code


def _steps(body, labels):
    """The body's chunks, each produced with the thread labelled; the label is off while the server
    writes a chunk (between yields), so a generator left suspended and collected later (anywhere) finds
    nothing to undo."""
    tid = get_ident()
    prev = ACTIVE.get(tid)
    ACTIVE[tid] = labels
    labelled = True
    try:
        for chunk in body:
            if prev is None:
                ACTIVE.pop(tid, None)
            else:
                ACTIVE[tid] = prev
            labelled = False
            yield chunk
            prev = ACTIVE.get(tid)
            ACTIVE[tid] = labels
            labelled = True
    finally:
        if labelled:
            if prev is None:
                ACTIVE.pop(tid, None)
            else:
                ACTIVE[tid] = prev


class _Body:
    """The app's response iterable, stepped under the request's labels; close() too."""

    __slots__ = ("body", "labels", "__weakref__")

    def __init__(self, body, request_labels):
        self.body, self.labels = body, request_labels

    def __iter__(self):
        return _steps(self.body, self.labels)

    def close(self):
        close = getattr(self.body, "close", None)
        if close is None:
            return
        tid = get_ident()
        prev = ACTIVE.get(tid)
        ACTIVE[tid] = self.labels
        try:
            close()
        finally:
            if prev is None:
                ACTIVE.pop(tid, None)
            else:
                ACTIVE[tid] = prev


def wsgi(app):
    """Wrap a WSGI application: each request's traceparent/baggage become the labels of its samples."""

    def loadctl_agent_wsgi(environ, start_response):
        tid = get_ident()
        prev = ACTIVE.get(tid)
        tp, bg = environ.get("HTTP_TRACEPARENT"), environ.get("HTTP_BAGGAGE")
        ACTIVE[tid] = (RAW, tp, bg) if tp is not None or bg is not None else ()
        STARTED[tid] = monotonic_ns()
        try:
            body = app(environ, start_response)
            request_labels = ACTIVE.get(tid, ())  # with the labels the app set meanwhile (route)
        finally:
            if prev is None:
                ACTIVE.pop(tid, None)
            else:
                ACTIVE[tid] = prev
        if type(body) in (list, tuple) or environ.get(PLAIN_BODY) is body:  # that very body: not one a
            # middleware inside made around it (whose steps would run its code)
            return body
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(wrapper, type) and isinstance(body, wrapper):
            return body
        return _Body(body, request_labels)

    loadctl_agent_wsgi.__wrapped__ = app
    return loadctl_agent_wsgi


def flask(app):
    """Wrap a Flask app in place (app.wsgi_app) and label requests with their route template
    (`http.route`, e.g. "/api/products/<int:pid>") the moment Flask matches it: app.request_class becomes a
    subclass whose url_rule, when Flask sets it, also sets the label (no before_request hook, whose dispatch
    costs every request more than the label itself). Flask reads url_rule several times a request: the
    property's getter is a C attrgetter, not a Python function. app.response_class becomes a subclass that
    tells the wrapper when its body runs no app code (not streamed, no call_on_close callbacks): that body
    is handed to the server as it is, unwrapped (a streamed one is stepped under the request's labels).
    Returns app."""
    from .context import set_label

    base = app.request_class

    def set_url_rule(self, rule):
        self.__dict__["_loadctl_url_rule"] = rule
        route = getattr(rule, "rule", None)
        if route is not None:
            tid = get_ident()
            cur = ACTIVE.get(tid)
            if cur is not None and cur[:1] == (RAW,):  # the wrapper's raw tuple: the pair is checked at resolve()
                ACTIVE[tid] = cur + (("http.route", route),)
            else:
                set_label("http.route", route)

    class LabelledRequest(base):
        _loadctl_url_rule = None
        url_rule = property(attrgetter("_loadctl_url_rule"), set_url_rule)

    LabelledRequest.__name__ = LabelledRequest.__qualname__ = base.__name__
    app.request_class = LabelledRequest

    response_base = app.response_class

    class PlainBodyResponse(response_base):
        def __call__(self, environ, start_response):
            body = response_base.__call__(self, environ, start_response)
            if not self.is_streamed and not getattr(self, "_on_close", True):
                environ[PLAIN_BODY] = body
            return body

    PlainBodyResponse.__name__ = PlainBodyResponse.__qualname__ = response_base.__name__
    app.response_class = PlainBodyResponse
    app.wsgi_app = wsgi(app.wsgi_app)
    return app
