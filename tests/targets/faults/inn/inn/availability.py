"""availability.py - a hotel's availability page: rooms, rate plans and the review score, fetched from
three services in parallel on a shared thread pool and merged.

Most hotels' rooms come from our own inventory service (~2 ms). Hotels that sell through a partner's
channel manager (every 10th) have their rooms from the channel manager's availability API instead.

Planted fault (variant inn_avail): channel_rooms asks the channel manager's live API on every page view
(~60 ms a call). With the fault off it reads the availability the channel manager pushes to our inventory
service (the same ~2 ms call as the other hotels)."""

from concurrent.futures import ThreadPoolExecutor

from . import config, upstream

POOL = ThreadPoolExecutor(max_workers=24, thread_name_prefix="fanout")


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
    return upstream.call("/wait?ms=2&svc=reviews&hotel=%d" % hotel)


def page(hotel, night):
    """The availability page of a hotel for a night: the three calls at once, then merged."""
    parts = {"rooms": POOL.submit(rooms, hotel, night), "plans": POOL.submit(rate_plans, hotel),
             "reviews": POOL.submit(review_score, hotel)}
    got = {name: f.result(timeout=5) for name, f in parts.items()}
    return {"hotel": hotel, "night": night, "partner": is_partner(hotel),
            "rooms": [{"type": r, "left": (hotel + i) % 5} for i, r in enumerate(config.ROOMS)],
            "rate": got["plans"].get("rate"), "upstream_ms": sum(g.get("after_ms", 0) for g in got.values())}
