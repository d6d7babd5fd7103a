"""bookings.py - the bookings, kept in memory by id (the service's primary store is not part of the
fault variants), and the changes to them, each written to the audit trail.

Hotels on a tour operator's allotment contract (every 8th) may sell only ALLOTMENT rooms of a type per
night through us: a booking there first counts the confirmed bookings its stay overlaps, under the store's
lock so that two bookings cannot both take the last room.

Planted fault (variant w6b_allot): allotment_left counts, night by night of the stay, by scanning every
booking in the store (20 000 at start and growing), turning each one's check-in into dates to test whether
it covers the night: tens of ms of Python under the lock for each allotment booking, while every other
booking, lookup and cancellation waits for the lock.
With the fault off it counts from an index of the bookings by hotel and room type (a few dozen)."""

import datetime
import random
import threading
import time

from . import config
from .audit import log as audit
from .rates import NIGHTS, RateCache

_lock = threading.Lock()
_bookings = {}
_by_room = {}  # (hotel, room) -> ids of its bookings
_next = [1]
STARTING = 20000
ALLOTMENT = 60  # rooms of a type the contract lets us sell per night


def seed():
    rnd = random.Random(9)
    for _ in range(STARTING):
        _store(rnd.randrange(config.HOTELS), rnd.choice(config.ROOMS), rnd.randint(1, 7), rnd.randrange(2000),
               time.time() + rnd.uniform(-1, 5) * 86400)


def on_allotment(hotel):
    return hotel % 8 == 5


def _insert(hotel, room, nights, account, checkin):
    bid = _next[0]
    _next[0] += 1
    _bookings[bid] = {"id": bid, "hotel": hotel, "room": room, "nights": nights, "account": account,
                      "checkin": checkin, "status": "confirmed"}
    _by_room.setdefault((hotel, room), []).append(bid)
    return bid


def _store(hotel, room, nights, account, checkin):
    with _lock:
        return _insert(hotel, room, nights, account, checkin)


def _stay(checkin, nights):
    first = datetime.datetime.fromtimestamp(checkin).date()
    return first, first + datetime.timedelta(days=nights)


def allotment_left(hotel, room, checkin, nights):
    """Rooms of the allotment still free on every night of the stay. The caller holds _lock."""
    start, _ = _stay(checkin, nights)
    left, t0 = ALLOTMENT, time.time()
    for n in range(nights):
        night = start + datetime.timedelta(days=n)
        if config.planted("w6b_allot"):
            taken = 0
            for b in _bookings.values():
                first, last = _stay(b["checkin"], b["nights"])
                if first <= night < last and b["hotel"] == hotel and b["room"] == room \
                        and b["status"] == "confirmed":
                    taken += 1
        else:
            taken = 0
            for bid in _by_room.get((hotel, room), ()):
                b = _bookings[bid]
                first, last = _stay(b["checkin"], b["nights"])
                taken += first <= night < last and b["status"] == "confirmed"
        left = min(left, ALLOTMENT - taken)
    if config.planted("w6b_allot"):
        config.record_span(t0, time.time())
    return left


def get(bid):
    with _lock:
        b = _bookings.get(bid)
        return dict(b) if b else None


def create(hotel, room, nights, account, checkin):
    total = RateCache.quote(hotel, room, nights)
    if total is None:
        return None
    if on_allotment(hotel):
        with _lock:
            if allotment_left(hotel, room, checkin, nights) <= 0:
                return None
            bid = _insert(hotel, room, nights, account, checkin)
    else:
        bid = _store(hotel, room, nights, account, checkin)
    audit.info("booking %d created: hotel %d %s x%d nights, account %d, total %s", bid, hotel, room, nights,
               account, total)
    return {"id": bid, "total": str(total), "nights": NIGHTS[:nights]}


def cancel(bid, agent, waive_penalty):
    """Cancels a booking. Inside 48 h of check-in a penalty of one night applies unless an agent waives it
    (a policy exception: audited at WARNING)."""
    with _lock:
        b = _bookings.get(bid)
        if b is None or b["status"] != "confirmed":
            return None
        b["status"] = "cancelled"
        late = b["checkin"] - time.time() < 48 * 3600
    if late and waive_penalty:
        audit.warning("booking %d cancelled late by %s: penalty waived (policy exception)", bid, agent)
        return {"id": bid, "penalty": "waived"}
    audit.info("booking %d cancelled by %s, penalty %s", bid, agent, "one night" if late else "none")
    return {"id": bid, "penalty": "one night" if late else "none"}
