"""wsgi.py - label the thread that serves a WSGI request for as long as the app runs for it: from the
call until the server closes the response body (so streamed bodies are labelled too). A body the
server iterates on another thread (rare) is not labelled there."""

from . import context, labels as _labels


class _Body:
    """The app's response iterable; close() ends the request's labelling."""

    __slots__ = ("body", "token", "__weakref__")

    def __init__(self, body, token):
        self.body, self.token = body, token

    def __iter__(self):
        return iter(self.body)

    def close(self):
        token, self.token = self.token, None
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if token is not None:
                context.leave(token)


def wsgi(app):
    """Wrap a WSGI application: each request's traceparent/baggage become the labels of its samples."""

    def loadctl_agent_wsgi(environ, start_response):
        token = context.enter(_labels.raw_environ(environ))
        ctx = context.CURRENT.set(context.ACTIVE.get(token[0], ()))
        try:
            body = app(environ, start_response)
        except BaseException:
            context.leave(token)
            raise
        finally:
            context.CURRENT.reset(ctx)
        return _Body(body, token)

    loadctl_agent_wsgi.__wrapped__ = app
    return loadctl_agent_wsgi


def flask(app):
    """Wrap a Flask app in place (app.wsgi_app) and label requests with their route template
    (`http.route`, e.g. "/api/products/<int:pid>"). Returns app."""
    from flask import request  # only when asked for: the agent itself needs no Flask

    app.wsgi_app = wsgi(app.wsgi_app)

    def loadctl_agent_route():
        rule = getattr(request, "url_rule", None)
        if rule is not None:
            context.set_label("http.route", rule.rule)

    app.before_request(loadctl_agent_route)
    return app
