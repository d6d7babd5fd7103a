"""app.py - the Flask shop: products (N+1 when faulty), checkout (coupon rules), shipping (carrier wait)."""

import os

from flask import Flask, abort, jsonify, request

from . import config, faults, pricing, store

app = Flask("pyshop")
CARRIER = None  # (host, port) of the carrier service, set by wsgi.py
CACHED_ZIP_SUFFIXES = "012345678"  # zip codes ending in 9 are not cached (1 in 10 of random zips)


@app.get("/api/products")
def list_products():
    faults.count("nplus1" in config.FAULTS)
    return jsonify(store.product_page(request.args.get("page", 1, type=int)))


@app.get("/api/products/<int:pid>")
def get_product(pid):
    faults.count(False)
    p = store.product(pid)
    if p is None:
        abort(404)
    return jsonify(p)


def checkout(body):
    """Shared by the Flask and the Django checkout: price, coupon, order id."""
    items = body.get("items") or [{"sku": 1, "qty": 1}]
    total = pricing.price_cart(items)
    coupon = body.get("coupon")
    faults.count(bool(coupon) and "coupon" in config.FAULTS)
    if coupon:
        ok = faults.apply_coupon_rules(coupon, items) if "coupon" in config.FAULTS else True
        total -= pricing.discount_cents(coupon, total) if ok else 0
    return {"total_cents": total, "order": pricing.digest(str(items), 1)}


@app.post("/api/checkout")
def post_checkout():
    return jsonify(checkout(request.get_json(silent=True) or {})), 201


@app.get("/api/shipping")
def shipping():
    zip_code = request.args.get("zip", "00000")[:10]
    slow = "carrier" in config.FAULTS and CARRIER and zip_code[-1:] not in CACHED_ZIP_SUFFIXES
    faults.count(slow)
    if slow:
        cents = faults.quote_carrier(CARRIER, zip_code)
    else:
        cents = faults.local_quote(zip_code)
    return jsonify({"zip": zip_code, "cents": cents})


@app.get("/debug/faults")
def debug_faults():
    """When the background fault ran and how many requests took a fault's path (bench/accuracy reads it)."""
    t = os.times()
    return jsonify(dict(faults.report(), variant=os.environ.get("PYSHOP_FAULTS", "all"), pid=os.getpid(),
                        cpu_s=t.user + t.system))


@app.get("/healthz")
def healthz():
    return "ok\n"
