"""pricing.py - the shared helper: a pure-Python digest that every price, coupon check and the search
index use, so a profile's hottest leaf is here whichever fault is active (a helper is never the answer)."""

from . import config

PRICE_ROUNDS = 150  # per cart line: ~0.25 ms, so every checkout spends time in digest


def digest(text, rounds):
    """A deterministic 32-bit digest of text after `rounds` mixing rounds (CPU in Python bytecode)."""
    h = 2166136261
    data = text.encode()
    for _ in range(rounds):
        for b in data:
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def price_cart(items):
    """Cents for a cart of {"sku": int, "qty": int} items (a little digest work per item)."""
    total = 0
    for it in items:
        sku, qty = int(it.get("sku", 1)), max(1, min(int(it.get("qty", 1)), 99))
        total += (100 + digest("sku-%d" % sku, PRICE_ROUNDS) % 4900) * qty
    return total


def discount_cents(coupon, total):
    """The coupon's discount without fraud checks (the no-faults path)."""
    return total // 10 if coupon and config.PRODUCTS else 0
