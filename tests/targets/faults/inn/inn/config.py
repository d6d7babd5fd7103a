"""config.py - the service's settings from the environment (tests/targets/faults/inn/run sets them)."""

import os

VARIANT = os.environ.get("INN_VARIANT", "inn_avail")
FAULT = os.environ.get("INN_FAULT", "on") != "off"
PPROF_ADDR = os.environ.get("INN_PPROF_ADDR", "127.0.0.1:6065")
UPSTREAM = os.environ.get("INN_UPSTREAM", "")
REVIEW_CACHE = VARIANT == "ha_reviews"  # the review-score cache (availability.review_cache_loop) is on
HOTELS = 400
ROOMS = ("standard", "double", "family", "suite")


SPANS = []  # [t0, t1] (unix seconds) of each run of the planted fault's work, for /debug/faults


def record_span(t0, t1):
    SPANS.append([t0, t1])


def planted(variant):
    """Whether this variant's fault runs: one fault per run, the others' code paths are the fixed ones."""
    return FAULT and VARIANT == variant
