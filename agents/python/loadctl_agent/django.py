"""django.py - Django middleware: `"loadctl_agent.django.Middleware"` first in settings.MIDDLEWARE labels
each request's thread with its traceparent/baggage and, once URL resolution has run, its route template
(`http.route`, e.g. "api/products/<int:pid>"). Sync middleware: under ASGI Django runs it in a thread
(sync_to_async), which is the thread the sampler then sees serving the request."""

from . import context, labels as _labels


class Middleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = getattr(request, "META", {})
        tp, bg = meta.get("HTTP_TRACEPARENT"), meta.get("HTTP_BAGGAGE")
        # unparsed and unchecked, as in wsgi.py: the sampler bounds the tuples it keeps (labels.bounded)
        request_labels = (_labels.RAW, tp, bg) if tp is not None or bg is not None else ()
        token = context.enter(request_labels)
        try:
            return self.get_response(request)
        finally:
            context.leave(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        route = getattr(match, "route", None)
        if route:
            context.set_label("http.route", route)
        return None
