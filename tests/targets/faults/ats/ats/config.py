"""config.py - the service's settings from the environment (tests/targets/faults/ats/run sets them)."""

import os
import threading

VARIANT = os.environ.get("ATS_VARIANT", "ats_apply")
FAULT = os.environ.get("ATS_FAULT", "on") != "off"
PPROF_ADDR = os.environ.get("ATS_PPROF_ADDR", "127.0.0.1:6066")
DOCSTORE_CMD = os.environ.get("ATS_DOCSTORE_CMD", "faultsvc")
DURATION = os.environ.get("ATS_DURATION", "300s")
JOBS = 400
BIG_JOB = 20          # every 20th job (id % BIG_JOB == 3) is a graduate programme with thousands of applicants
EU = ("DE", "FR", "NL", "ES", "IT", "PL", "SE", "IE")

STATS = {"variant": VARIANT, "requests": 0, "faulty_requests": 0, "spans": []}
_stats_lock = threading.Lock()


def planted(variant):
    """Whether this variant's fault runs: one fault per run, the others' code paths are the fixed ones."""
    return FAULT and VARIANT == variant


def count(faulty=False):
    with _stats_lock:
        STATS["requests"] += 1
        STATS["faulty_requests"] += bool(faulty)


def record_span(t0, t1):
    with _stats_lock:
        STATS["spans"].append([t0, t1])
