"""app.py - a forecast API as a plain ASGI app (no framework) on one asyncio event loop under uvicorn,
profiled by loadctl_agent (CPU and wall). Routes: GET /api/forecast?q=PLACE (a city name, or a postcode),
GET /api/cities?prefix=P, POST /api/subscriptions, and /debug/faults for bench/accuracy.

Planted fault (variant asgi_block): city names resolve from an in-memory gazetteer, but postcodes (~10 %
of forecasts) go to the geocoding service, and geocode_postcode calls it with urllib, a blocking client,
from the coroutine: the event loop stops for the ~30 ms round trip, so the postcode forecast and every
request in flight meanwhile wait. With WEATHER_FAULT=off the same call runs in a thread
(asyncio.to_thread) and the loop goes on.

Planted fault (variant asgi_refresh, WEATHER_VARIANT=asgi_refresh; asgi_block's is off then): the latest
observations of ~40 000 weather stations are refreshed every 6 s by a background task, refresh_loop, whose
refresh_observations decodes the whole feed (json.loads), sorts it and rebuilds the station index on the
event loop (~200-400 ms of CPU): every request in those ms waits. With WEATHER_FAULT=off the refresh
decodes only the feed's changes since the last one (a few hundred stations)."""

import asyncio
import ctypes
import json
import math
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import loadctl_agent

CITIES = ["paris", "lyon", "berlin", "hamburg", "madrid", "sevilla", "rome", "milan", "vienna", "prague",
          "warsaw", "krakow", "lisbon", "porto", "dublin", "oslo", "bergen", "helsinki", "tallinn", "riga"]
GAZETTEER = {c: (40 + i * 0.7, -8 + i * 1.3) for i, c in enumerate(CITIES)}
FAULT = os.environ.get("WEATHER_FAULT", "on") != "off"
VARIANT = os.environ.get("WEATHER_VARIANT", "asgi_block")
BLOCK = FAULT and VARIANT == "asgi_block"
STATS = {"requests": 0, "faulty_requests": 0, "spans": []}
OBSERVATIONS = {}
SUBSCRIPTIONS = []


def start_geocoder():
    """The geocoding service: faultsvc's dependency process, killed when this process dies."""
    libc = ctypes.CDLL(None, use_errno=True)

    def die_with_parent():
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    p = subprocess.Popen([os.environ["WEATHER_GEOCODER_CMD"], "--role=dependency", "--addr=127.0.0.1:0",
                          "--duration=" + os.environ.get("WEATHER_DURATION", "300s")],
                         stdout=subprocess.PIPE, preexec_fn=die_with_parent)
    return "http://" + p.stdout.readline().decode().strip()


GEOCODER = start_geocoder()


def geocode_postcode(code):
    """Coordinates of a postcode from the geocoding service (~30 ms)."""
    url = GEOCODER + "/wait?ms=30&postcode=" + urllib.parse.quote(code)
    with urllib.request.urlopen(url, timeout=5) as r:
        json.load(r)
    n = int(code) if code.isdigit() else 0
    return (40 + (n % 2000) / 100, -8 + (n % 3000) / 100)


async def coords_for(place):
    if place.isdigit():
        if BLOCK:
            return geocode_postcode(place)
        return await asyncio.to_thread(geocode_postcode, place)
    return GAZETTEER.get(place)


def forecast_at(lat, lon, days=7):
    """A toy model: daily highs and lows from the coordinates and the day of the year."""
    day = time.gmtime().tm_yday
    out = []
    for d in range(days):
        base = 25 - abs(lat - 20) * 0.4 + 8 * math.sin((day + d - 100) / 58)
        out.append({"day": d, "high": round(base + 4 + math.cos(lon + d), 1), "low": round(base - 4, 1)})
    return out


async def read_body(receive):
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return body


async def respond(send, status, obj):
    body = json.dumps(obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def forecast(scope, receive, send):
    place = urllib.parse.parse_qs(scope["query_string"].decode()).get("q", [""])[0].lower()
    STATS["requests"] += 1
    STATS["faulty_requests"] += BLOCK and place.isdigit()
    coords = await coords_for(place)
    if coords is None:
        return await respond(send, 404, {"error": "unknown place " + place})
    await respond(send, 200, {"place": place, "days": forecast_at(*coords)})


async def cities(scope, receive, send):
    prefix = urllib.parse.parse_qs(scope["query_string"].decode()).get("prefix", [""])[0].lower()
    STATS["requests"] += 1
    await respond(send, 200, sorted(c for c in CITIES if c.startswith(prefix)))


async def subscribe(scope, receive, send):
    STATS["requests"] += 1
    try:
        sub = json.loads(await read_body(receive))
    except ValueError:
        return await respond(send, 400, {"error": "JSON body wanted"})
    await asyncio.sleep(0.002)  # the subscription store's write
    SUBSCRIPTIONS.append(sub)
    del SUBSCRIPTIONS[:-1000]
    await respond(send, 201, {"id": len(SUBSCRIPTIONS)})


def observation_feed(stations):
    """The observation service's feed as it arrives: a JSON list of the latest reading per station."""
    t = int(time.time())
    return json.dumps([{"station": "ST%05d" % ((i * 7919) % stations), "t": t, "temp": round(10 + (i % 250) / 10, 1),
                        "wind": i % 40, "rain": (i % 13) / 10} for i in range(stations)])


def refresh_observations(feed):
    """Decode the feed and rebuild the station index (latest reading per station, in station order)."""
    readings = sorted(json.loads(feed), key=lambda o: (o["station"], o["t"]))
    OBSERVATIONS.update({o["station"]: o for o in readings})


async def refresh_loop(every=6.0):
    full, delta = observation_feed(40000), observation_feed(400)
    while True:
        await asyncio.sleep(every)
        t0 = time.time()
        refresh_observations(full if FAULT else delta)
        if FAULT:
            STATS["spans"].append([t0, time.time()])


async def faults(scope, receive, send):
    await respond(send, 200, {"variant": VARIANT, **STATS})


ROUTES = {("GET", "/api/forecast"): forecast, ("GET", "/api/cities"): cities,
          ("POST", "/api/subscriptions"): subscribe, ("GET", "/debug/faults"): faults}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        if VARIANT == "asgi_refresh":
            asyncio.get_running_loop().create_task(refresh_loop())
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        return await send({"type": "lifespan.shutdown.complete"})
    handler = ROUTES.get((scope["method"], scope["path"]))
    if handler is None:
        return await respond(send, 404, {"error": "no route"})
    await handler(scope, receive, send)


asgi_app = loadctl_agent.asgi(app)
loadctl_agent.start(listen=os.environ.get("WEATHER_PPROF_ADDR", "127.0.0.1:6062"))
