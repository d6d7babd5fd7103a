"""bookings.py - the bookings, kept in memory by id (the service's primary store is not part of the
fault variants), and the changes to them, each written to the audit trail."""

import random
import threading
import time

from . import config
from .audit import log as audit
from .rates import NIGHTS, RateCache

_lock = threading.Lock()
_bookings = {}
_next = [1]
STARTING = 20000


def seed():
    rnd = random.Random(9)
    for _ in range(STARTING):
        _store(rnd.randrange(config.HOTELS), rnd.choice(config.ROOMS), rnd.randint(1, 7), rnd.randrange(2000),
               time.time() + rnd.uniform(-1, 5) * 86400)


def _store(hotel, room, nights, account, checkin):
    with _lock:
        bid = _next[0]
        _next[0] += 1
        _bookings[bid] = {"id": bid, "hotel": hotel, "room": room, "nights": nights, "account": account,
                          "checkin": checkin, "status": "confirmed"}
    return bid


def get(bid):
    with _lock:
        b = _bookings.get(bid)
        return dict(b) if b else None


def create(hotel, room, nights, account, checkin):
    total = RateCache.quote(hotel, room, nights)
    if total is None:
        return None
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
