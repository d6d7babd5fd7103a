"""config.py - the shop's settings, from the environment (scripts/pyshop sets them)."""

import os


def _flag(name, default="1"):
    return os.environ.get(name, default) not in ("0", "false", "no", "")


FAULT_NAMES = ("coupon", "reindex", "carrier", "nplus1")
_faults = os.environ.get("PYSHOP_FAULTS", "all").strip().lower()
if _faults in ("all", "1", "yes", "true"):
    FAULTS = set(FAULT_NAMES)
elif _faults in ("none", "0", "no", "false", ""):
    FAULTS = set()  # the control run
else:
    FAULTS = {f.strip() for f in _faults.split(",")}
    _unknown = FAULTS - set(FAULT_NAMES)
    if _unknown:
        raise SystemExit("pyshop: PYSHOP_FAULTS: unknown fault(s) %s (known: %s, all, none)"
                         % (", ".join(sorted(_unknown)), ", ".join(FAULT_NAMES)))
AGENT = _flag("PYSHOP_AGENT")  # start loadctl_agent (0 = the overhead baseline)
PPROF_ADDR = os.environ.get("PYSHOP_PPROF_ADDR", "127.0.0.1:6061")
AGENT_HZ = int(os.environ.get("PYSHOP_AGENT_HZ", "100"))
AGENT_TICK = os.environ.get("PYSHOP_AGENT_TICK", "full")  # none: the sampler wakes and reads nothing
if AGENT_TICK not in ("full", "none"):  # (bench/pyagent_wakeups: what the wake-ups alone cost)
    raise SystemExit("pyshop: PYSHOP_AGENT_TICK is full or none, not %r" % AGENT_TICK)
DATA_DIR = os.environ.get("PYSHOP_DATA", "/tmp")
REINDEX_EVERY_S = float(os.environ.get("PYSHOP_REINDEX_EVERY", "8"))
REINDEX_FOR_S = float(os.environ.get("PYSHOP_REINDEX_FOR", "2"))
CARRIER_DELAY_S = float(os.environ.get("PYSHOP_CARRIER_DELAY", "0.06"))
PRODUCTS = 400
REVIEWS = 10000
PAGE_SIZE = 25
