"""config.py - the service's settings from the environment (tests/targets/faults/desk/run sets them)."""

import os

VARIANT = os.environ.get("DESK_VARIANT", "desk_bulk")
FAULT = os.environ.get("DESK_FAULT", "on") != "off"
PPROF_ADDR = os.environ.get("DESK_PPROF_ADDR", "127.0.0.1:6063")
ANTIVIRUS_CMD = os.environ.get("DESK_ANTIVIRUS_CMD", "")
DURATION = os.environ.get("DESK_DURATION", "300s")


def planted(variant):
    """Whether this variant's fault runs: one fault per run, the others' code paths are the fixed ones."""
    return FAULT and VARIANT == variant
