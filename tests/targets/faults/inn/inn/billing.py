"""billing.py - invoices. Guests pay the public rates (rates.RateCache); corporate accounts (every 10th)
pay the chain's negotiated rate card, a big read-only document loaded at start, with their own overrides
(a discount on some hotels) laid over it.

Planted fault (variant inn_invoice): corporate_rate_card makes the account's card by deep-copying the whole
chain card with a json round trip ("copy.deepcopy is slow") and writing the overrides into the copy: several
MB of json encoding and decoding per corporate invoice, in C below corporate_rate_card. With the fault off it
lays the overrides over the shared card (a ChainMap per hotel) without copying it."""

import json
import random
import time
from collections import ChainMap
from decimal import Decimal

from . import config
from .rates import NIGHTS, RateCache

QUARTERS = ("q1", "q2", "q3", "q4")
CHAIN_CARD = {}
OVERRIDES = {}  # account -> {hotel: discount}


def is_corporate(account):
    return account % 10 == 3


def load_cards():
    """The chain's negotiated card: per hotel, room type and quarter, the rate and its terms."""
    rnd = random.Random(5)
    for h in range(config.HOTELS):
        CHAIN_CARD[str(h)] = {room: [{"quarter": q, "rate": round(rnd.uniform(50, 350), 2), "currency": "EUR",
                                      "breakfast": rnd.random() < 0.5, "cancel_hours": rnd.choice((24, 48, 72)),
                                      "taxes": {"city": 2.5, "vat": 0.1}} for q in QUARTERS]
                              for room in config.ROOMS}
    for account in range(3, 2000, 10):
        OVERRIDES[account] = {str(h): 0.05 * (1 + h % 3) for h in rnd.sample(range(config.HOTELS), 12)}


def _discounted(terms, discount):
    return [dict(t, rate=round(t["rate"] * (1 - discount), 2)) for t in terms]


def corporate_rate_card(account):
    """The account's card: the chain card with the account's discounts applied."""
    overrides = OVERRIDES.get(account, {})
    if config.planted("inn_invoice"):
        t0 = time.time()
        card = json.loads(json.dumps(CHAIN_CARD))
        config.record_span(t0, time.time())
        for hotel, discount in overrides.items():
            card[hotel] = {room: _discounted(terms, discount) for room, terms in card[hotel].items()}
        return card
    return ChainMap({h: {room: _discounted(terms, d) for room, terms in CHAIN_CARD[h].items()}
                     for h, d in overrides.items()}, CHAIN_CARD)


def invoice(booking):
    """The invoice of a booking: one line per night."""
    hotel, room, nights, account = booking["hotel"], booking["room"], booking["nights"], booking["account"]
    if is_corporate(account):
        rate = Decimal(str(corporate_rate_card(account)[str(hotel)][room][0]["rate"]))
        lines = [{"night": n, "rate": str(rate)} for n in NIGHTS[:nights]]
    else:
        lines = [{"night": n, "rate": str(RateCache.get(hotel, room, n))} for n in NIGHTS[:nights]]
    total = sum(Decimal(line["rate"]) for line in lines)
    return {"booking": booking["id"], "account": account, "corporate": is_corporate(account), "lines": lines,
            "total": str(total), "vat": str((total * Decimal("0.1")).quantize(Decimal("0.01")))}
