"""app.py - the hotel booking API, a plain WSGI application with a small regex router; what gunicorn serves
is `inn.app:application`. The worker writes the rate export, loads the rate cards and the bookings, opens
the audit trail and starts loadctl_agent (CPU and wall profiles) on INN_PPROF_ADDR.

    GET  /api/search?city=C&nights=N         the cheapest rooms of a city's hotels
    GET  /api/hotels/<id>/availability?night=D
    POST /api/bookings                       {"hotel", "room", "nights", "account"}
    GET  /api/bookings/<id>
    GET  /api/bookings/<id>/invoice
    POST /api/bookings/<id>/cancel           {"agent", "waive_penalty"}
    GET  /debug/faults                       for bench/accuracy: the variant, its spans and faulty requests"""

import atexit
import json
import os
import re
import shutil
import tempfile
import time

import loadctl_agent

from . import audit, availability, billing, bookings, config, content
from .rates import NIGHTS, RateCache, write_export

STATS = {"variant": config.VARIANT, "requests": 0, "faulty_requests": 0, "spans": config.SPANS}
CITIES = 20
ROUTES = []


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def route(method, pattern):
    def add(fn):
        ROUTES.append((method, re.compile(pattern + "$"), fn))
        return fn
    return add


def count(faulty=False):
    STATS["requests"] += 1
    STATS["faulty_requests"] += bool(faulty)


def body_of(environ):
    try:
        n = int(environ.get("CONTENT_LENGTH") or 0)
        return json.loads(environ["wsgi.input"].read(n) or b"{}")
    except ValueError:
        raise HTTPError(400, "body: want a JSON object")


def query(environ, key, default):
    for pair in environ.get("QUERY_STRING", "").split("&"):
        k, _, v = pair.partition("=")
        if k == key:
            return v
    return default


@route("GET", r"/api/search")
def search(environ):
    count()
    city, nights = int(query(environ, "city", "0")) % CITIES, max(1, min(7, int(query(environ, "nights", "1"))))
    offers = []
    for hotel in range(city, config.HOTELS, CITIES):
        for room in config.ROOMS:
            total = RateCache.quote(hotel, room, nights)
            if total is not None:
                offers.append((total, hotel, room))
    offers.sort()
    return 200, [{"hotel": h, "room": r, "total": str(t)} for t, h, r in offers[:10]]


@route("GET", r"/api/hotels/(\d+)/availability")
def hotel_availability(environ, hotel):
    hotel = int(hotel) % config.HOTELS
    count((config.planted("inn_avail") and availability.is_partner(hotel)) or
          (config.planted("ha_reviews") and availability.refreshing()) or
          (config.planted("ha_content") and content.is_imported(hotel)))
    return 200, availability.page(hotel, query(environ, "night", NIGHTS[0]))


@route("POST", r"/api/bookings")
def book(environ):
    b = body_of(environ)
    hotel = int(b.get("hotel", 0)) % config.HOTELS
    count(config.planted("w6b_allot") and bookings.on_allotment(hotel))
    made = bookings.create(hotel, b.get("room", "standard"),
                           max(1, min(7, int(b.get("nights", 1)))), int(b.get("account", 0)),
                           time.time() + 86400 * int(b.get("days_ahead", 7)))
    if made is None:
        raise HTTPError(422, "no rate or no room left for that room and stay")
    return 201, made


def booking_or_404(bid):
    b = bookings.get(int(bid))
    if b is None:
        raise HTTPError(404, "no booking %s" % bid)
    return b


@route("GET", r"/api/bookings/(\d+)")
def show(environ, bid):
    count()
    return 200, booking_or_404(bid)


@route("GET", r"/api/bookings/(\d+)/invoice")
def invoice(environ, bid):
    b = booking_or_404(bid)
    count(config.planted("inn_invoice") and billing.is_corporate(b["account"]))
    return 200, billing.invoice(b)


@route("POST", r"/api/bookings/(\d+)/cancel")
def cancel(environ, bid):
    b = body_of(environ)
    done = bookings.cancel(int(bid), str(b.get("agent", "web")), bool(b.get("waive_penalty")))
    count(config.planted("inn_cancel") and done is not None and done["penalty"] == "waived")
    if done is None:
        raise HTTPError(409, "booking %s is not confirmed" % bid)
    return 200, done


@route("GET", r"/debug/faults")
def faults(environ):
    return 200, STATS


def dispatch(environ):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    for m, pattern, fn in ROUTES:
        hit = pattern.match(path)
        if hit and m == method:
            return fn(environ, *hit.groups())
    raise HTTPError(404, "no route for %s %s" % (method, path))


def app(environ, start_response):
    try:
        status, doc = dispatch(environ)
    except HTTPError as e:
        status, doc = e.status, {"error": str(e)}
    except (ValueError, KeyError) as e:
        status, doc = 400, {"error": "bad request: %s" % e}
    out = json.dumps(doc).encode()
    start_response("%d %s" % (status, "OK" if status < 400 else "Error"),
                   [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]


_dir = tempfile.mkdtemp(prefix="inn-")
atexit.register(shutil.rmtree, _dir, True)
rates_path = os.path.join(_dir, "rates.csv")
write_export(rates_path)
RateCache.configure(rates_path)
billing.load_cards()
bookings.seed()
content.load_imports()
audit.open_trail(os.path.join(_dir, "audit.log"))
if config.REVIEW_CACHE:
    availability.start_review_cache()
loadctl_agent.start(listen=config.PPROF_ADDR)
application = loadctl_agent.wsgi(app)
