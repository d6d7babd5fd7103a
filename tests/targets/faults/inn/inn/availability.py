"""availability.py - a hotel's availability page: rooms, rate plans and the review score, fetched from
three services in parallel on a shared thread pool and merged.

Most hotels' rooms come from our own inventory service (~2 ms). Hotels that sell through a partner's
channel manager (every 10th) have their rooms from the channel manager's availability API instead.

Planted fault (variant inn_avail): channel_rooms asks the channel manager's live API on every page view
(~60 ms a call). With the fault off it reads the availability the channel manager pushes to our inventory
service (the same ~2 ms call as the other hotels).

The review score comes from a cache that a background thread (review_cache_loop, started by the app)
refreshes every 6 s for every hotel (where the deployment turns it on: config.REVIEW_CACHE) with the reviews service's full summary (~25 ms a call); a page whose
hotel is not cached yet asks the reviews service itself.

Planted fault (variant ha_reviews): refresh_review_cache fetches the 400 summaries on POOL, the executor the
pages fan out on ("it is idle most of the time"): for the ~0.5 s a refresh takes, every page's three calls
queue behind hundreds of summary fetches. With the fault off the refresher has a pool of its own."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from . import config, content, upstream

POOL = ThreadPoolExecutor(max_workers=24, thread_name_prefix="fanout")
REFRESH_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reviews-refresh")
REFRESH_EVERY = 6.0
_reviews = {}  # hotel -> the reviews service's summary, refreshed by review_cache_loop
_refreshing = [False]


def is_partner(hotel):
    return hotel % 10 == 7


def inventory_rooms(hotel, night):
    return upstream.call("/wait?ms=2&svc=inventory&hotel=%d&night=%s" % (hotel, night))


def channel_rooms(hotel, night):
    if config.planted("inn_avail"):
        return upstream.call("/wait?ms=60&svc=channel-manager&hotel=%d&night=%s" % (hotel, night))
    return upstream.call("/wait?ms=2&svc=inventory&pushed=channel&hotel=%d&night=%s" % (hotel, night))


def rooms(hotel, night):
    if is_partner(hotel):
        return channel_rooms(hotel, night)
    return inventory_rooms(hotel, night)


def rate_plans(hotel):
    return upstream.call("/wait?ms=1&svc=rateplans&hotel=%d" % hotel)


def review_score(hotel):
    cached = _reviews.get(hotel)
    if cached is not None:
        return cached
    return upstream.call("/wait?ms=2&svc=reviews&hotel=%d" % hotel)


def review_summary(hotel):
    return upstream.call("/wait?ms=25&svc=reviews&summary=full&hotel=%d" % hotel)


def refresh_review_cache():
    """Fetches every hotel's review summary, in parallel, into the cache."""
    pool = POOL if config.planted("ha_reviews") else REFRESH_POOL
    t0 = time.time()
    _refreshing[0] = True
    futures = {hotel: pool.submit(review_summary, hotel) for hotel in range(config.HOTELS)}
    wait(futures.values(), timeout=30)
    for hotel, f in futures.items():
        if f.done() and f.exception() is None:
            _reviews[hotel] = f.result()
    _refreshing[0] = False
    if config.planted("ha_reviews"):
        config.record_span(t0, time.time())


def review_cache_loop():
    while True:
        time.sleep(REFRESH_EVERY)
        try:
            refresh_review_cache()
        except OSError:
            pass


def refreshing():
    return _refreshing[0]


def start_review_cache():
    threading.Thread(target=review_cache_loop, name="review-cache", daemon=True).start()


def page(hotel, night):
    """The availability page of a hotel for a night: the three calls at once, then merged."""
    parts = {"rooms": POOL.submit(rooms, hotel, night), "plans": POOL.submit(rate_plans, hotel),
             "reviews": POOL.submit(review_score, hotel)}
    got = {name: f.result(timeout=5) for name, f in parts.items()}
    described = content.room_descriptions(hotel)
    return {"hotel": hotel, "night": night, "partner": is_partner(hotel),
            "rooms": [{"type": r, "left": (hotel + i) % 5, **described.get(r, {})} for i, r in enumerate(config.ROOMS)],
            "rate": got["plans"].get("rate"), "upstream_ms": sum(g.get("after_ms", 0) for g in got.values())}
