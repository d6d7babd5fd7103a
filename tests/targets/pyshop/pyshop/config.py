"""config.py - the shop's settings, from the environment (scripts/pyshop sets them)."""

import os


def _flag(name, default="1"):
    return os.environ.get(name, default) not in ("0", "false", "no", "")


FAULTS = _flag("PYSHOP_FAULTS")  # all planted faults at once (0 = the control run)
AGENT = _flag("PYSHOP_AGENT")  # start loadctl_agent (0 = the overhead baseline)
PPROF_ADDR = os.environ.get("PYSHOP_PPROF_ADDR", "127.0.0.1:6061")
AGENT_HZ = int(os.environ.get("PYSHOP_AGENT_HZ", "100"))
DATA_DIR = os.environ.get("PYSHOP_DATA", "/tmp")
REINDEX_EVERY_S = float(os.environ.get("PYSHOP_REINDEX_EVERY", "8"))
REINDEX_FOR_S = float(os.environ.get("PYSHOP_REINDEX_FOR", "2"))
CARRIER_DELAY_S = float(os.environ.get("PYSHOP_CARRIER_DELAY", "0.06"))
PRODUCTS = 400
REVIEWS = 30000
PAGE_SIZE = 25
