"""wsgi.py - label the thread that serves a WSGI request while the app runs for it: the call, then each
step of the response body it returns (streamed bodies included) and its close(). The server's own work
between those steps (writing the response to the socket) is not labelled, as a Go handler's labels end
when the handler returns."""

from . import context, labels as _labels


class _Body:
    """The app's response iterable, stepped under the request's labels."""

    __slots__ = ("body", "labels", "it", "__weakref__")

    def __init__(self, body, request_labels):
        self.body, self.labels, self.it = body, request_labels, None

    def __iter__(self):
        return self

    def __next__(self):
        token = context.enter(self.labels)
        try:
            if self.it is None:
                self.it = iter(self.body)
            return next(self.it)
        finally:
            context.leave(token)

    def close(self):
        close = getattr(self.body, "close", None)
        if close is None:
            return
        token = context.enter(self.labels)
        try:
            close()
        finally:
            context.leave(token)


def wsgi(app):
    """Wrap a WSGI application: each request's traceparent/baggage become the labels of its samples."""

    def loadctl_agent_wsgi(environ, start_response):
        token = context.enter(_labels.raw_environ(environ))
        ctx = context.CURRENT.set(context.ACTIVE.get(token[0], ()))
        try:
            body = app(environ, start_response)
            request_labels = context.ACTIVE.get(token[0], ())  # with the labels the app set (route)
        finally:
            context.CURRENT.reset(ctx)
            context.leave(token)
        return _Body(body, request_labels)

    loadctl_agent_wsgi.__wrapped__ = app
    return loadctl_agent_wsgi


def flask(app):
    """Wrap a Flask app in place (app.wsgi_app) and label requests with their route template
    (`http.route`, e.g. "/api/products/<int:pid>") the moment Flask matches it: app.request_class becomes a
    subclass whose url_rule, when Flask sets it, also sets the label (no before_request hook, whose dispatch
    costs every request more than the label itself). Returns app."""
    base = app.request_class

    class LabelledRequest(base):
        @property
        def url_rule(self):
            return self.__dict__.get("_loadctl_url_rule")

        @url_rule.setter
        def url_rule(self, rule):
            self.__dict__["_loadctl_url_rule"] = rule
            route = getattr(rule, "rule", None)
            if route is not None:
                context.set_label("http.route", route)

    LabelledRequest.__name__ = LabelledRequest.__qualname__ = base.__name__
    app.request_class = LabelledRequest
    app.wsgi_app = wsgi(app.wsgi_app)
    return app
