"""faults.py - the planted faults, each a function the correlation must name (the manifests in
tests/targets/faults/pyshop-*/ give the answers):

  apply_coupon_rules    CPU on the minority of POST /api/checkout requests with a coupon (~40 ms), all of it
                        inside the shared helper pricing.digest, which typical checkouts also run
  rebuild_search_index  a background thread that every PYSHOP_REINDEX_EVERY s, for PYSHOP_REINDEX_FOR s,
                        sorts large lists (C code that holds the GIL) and digests: every endpoint stalls
  quote_carrier         an off-CPU wait (~60 ms) on a local dependency (the carrier service, a socket) for
                        GET /api/shipping requests whose zip code is not cached (~1 in 8)
  (store.product_page   N+1 queries against sqlite: see store.py)"""

import random
import socket
import socketserver
import threading
import time

from . import config, pricing

SPANS_MAX = 1000
_lock = threading.Lock()
STATE = {"spans": [], "requests": 0, "faulty_requests": 0}  # what /debug/faults reports


def count(faulty):
    """Count one request (and whether it took a planted fault's path)."""
    with _lock:
        STATE["requests"] += 1
        STATE["faulty_requests"] += 1 if faulty else 0


def report():
    """{"spans": [[t0, t1], ...] (unix seconds, background fault), "requests", "faulty_requests"}."""
    with _lock:
        return {"spans": [list(s) for s in STATE["spans"]], "requests": STATE["requests"],
                "faulty_requests": STATE["faulty_requests"]}


COUPON_ROUNDS = 500  # digest rounds per coupon rule: 8 rules ~ 160k digest steps, ~40 ms of CPU
COUPON_RULES = 8


def apply_coupon_rules(coupon, items):
    """Fraud rules on a coupon: every rule digests the coupon with the cart's lines (the slow path)."""
    lines = ",".join(str(it.get("sku", 0)) for it in items[:8])
    score = 0
    for rule in range(COUPON_RULES):
        score ^= pricing.digest(("%s/%d/%s" % (coupon, rule, lines)).ljust(40, "."), COUPON_ROUNDS)
    return score % 7 != 0


INDEX_TERMS = 200000  # one sorted() of this many floats holds the GIL for ~50-100 ms (C code, no switch)


def rebuild_search_index(stop):
    """The background job: while enabled, every REINDEX_EVERY_S burn REINDEX_FOR_S holding the GIL."""
    rng = random.Random(7)
    unsorted = [rng.random() for _ in range(INDEX_TERMS)]
    while not stop.wait(config.REINDEX_EVERY_S):
        t0, end = time.time(), time.monotonic() + config.REINDEX_FOR_S
        while time.monotonic() < end and not stop.is_set():
            terms = sorted(unsorted)  # one C call: the GIL is held throughout, every request thread waits
            pricing.digest("index-%f" % terms[0], 40)
        with _lock:
            STATE["spans"] = (STATE["spans"] + [(t0, time.time())])[-SPANS_MAX:]


def start_reindexer():
    stop = threading.Event()
    threading.Thread(target=rebuild_search_index, args=(stop,), name="pyshop-reindex", daemon=True).start()
    return stop


class _CarrierHandler(socketserver.BaseRequestHandler):
    def handle(self):
        zip_code = self.request.recv(64).strip()
        time.sleep(config.CARRIER_DELAY_S)  # the carrier's own latency
        self.request.sendall(b"%d\n" % (500 + (sum(zip_code) % 900)))


class _CarrierServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_carrier():
    """The local dependency: a TCP service on a free loopback port that answers after CARRIER_DELAY_S."""
    srv = _CarrierServer(("127.0.0.1", 0), _CarrierHandler)
    threading.Thread(target=srv.serve_forever, name="pyshop-carrier", daemon=True).start()
    return srv.server_address


def quote_carrier(address, zip_code):
    """Shipping cents from the carrier service (off-CPU: blocked in connect/recv)."""
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(zip_code.encode() + b"\n")
        return int(s.recv(64).strip() or b"0")


def local_quote(zip_code):
    """Shipping cents from the local table (the fast path)."""
    return 500 + sum(zip_code.encode()) % 900
