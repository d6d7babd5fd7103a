"""rates.py - public nightly rates per hotel, room type and night, from the revenue-management system's
export (a CSV it rewrites when prices change), read into a class-level cache that searches, bookings and
invoices price from.

Planted fault (variant inn_search): the cache expires every TTL seconds and the request that finds it
stale re-reads the whole export while it holds the cache's lock, so every search and booking waits for
the parse. With the fault off the cache re-reads the export only when its mtime changes (it does not
during a run) and otherwise keeps serving the table it has."""

import csv
import os
import random
import threading
import time
from decimal import Decimal

from . import config

NIGHTS = ["2027-03-%02d" % d for d in range(1, 15)]
TTL = 5.0


def write_export(path):
    """The revenue system's export: one row per hotel, room type and night."""
    rnd = random.Random(3)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hotel", "room", "night", "rate", "currency", "min_stay"])
        for h in range(config.HOTELS):
            for room in config.ROOMS:
                for night in NIGHTS:
                    w.writerow([h, room, night, "%.2f" % rnd.uniform(60, 400), "EUR", rnd.choice((1, 1, 2))])


class RateCache:
    """Rates by (hotel, room, night). Class-level, shared by every thread of the worker."""

    path = None
    _lock = threading.RLock()
    _rates = {}
    _checked = 0.0
    _mtime = None

    @classmethod
    def configure(cls, path):
        cls.path = path
        with cls._lock:
            cls._reload()

    @classmethod
    def get(cls, hotel, room, night):
        with cls._lock:
            if time.monotonic() - cls._checked > TTL and cls._stale():
                t0 = time.time()
                cls._reload()
                config.record_span(t0, time.time())
            return cls._rates.get((hotel, room, night))

    @classmethod
    def _stale(cls):
        if config.planted("inn_search"):
            return True
        cls._checked = time.monotonic()
        return os.stat(cls.path).st_mtime != cls._mtime

    @classmethod
    def _reload(cls):
        rates = {}
        with open(cls.path, newline="") as f:
            for row in csv.DictReader(f):
                rates[(int(row["hotel"]), row["room"], row["night"])] = Decimal(row["rate"])
        cls._rates, cls._mtime, cls._checked = rates, os.stat(cls.path).st_mtime, time.monotonic()

    @classmethod
    def quote(cls, hotel, room, nights):
        """The price of a stay from the first night of the season, or None when a night has no rate."""
        total = Decimal(0)
        for night in NIGHTS[:nights]:
            rate = cls.get(hotel, room, night)
            if rate is None:
                return None
            total += rate
        return total
