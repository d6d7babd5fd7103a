"""djshop.py - the Django variant of the checkout endpoint (POST /dj/api/checkout), served through
loadctl_agent.django.Middleware, mounted beside the Flask app by wsgi.py."""

import json

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="pyshop-demo-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["loadctl_agent.django.Middleware"],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )

import django  # noqa: E402 - after settings

django.setup()

from django.http import HttpResponseNotAllowed, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from . import app as flask_app  # noqa: E402


def checkout_view(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    return JsonResponse(flask_app.checkout(body if isinstance(body, dict) else {}), status=201)


urlpatterns = [path("dj/api/checkout", checkout_view)]
application = get_wsgi_application()
