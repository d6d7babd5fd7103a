#!/usr/bin/env python3
"""parse.py - read one benchmark tool's output and print "rps p50_ms p99_ms" (NA when a figure is
missing), so bench/run can tabulate wrk, h2load, hey, locust, bare_curl and loadctl alike.
usage: parse.py TOOL FILE   (TOOL: wrk, h2load, hey, locust, bare_curl, loadctl, loadctl-open)"""
import csv
import json
import re
import sys

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def ms(value, unit):
    return float(value) * UNIT_MS[unit]


def wrk(text):
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    pct = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s*(50|99)\.000%\s+([\d.]+)(us|ms|s|m)\b", text, re.M))
    if not pct:  # wrk without --latency's "Latency Distribution" block keeps "50%   1.2ms"
        pct = dict((p, ms(v, u)) for p, v, u in re.findall(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m)\b", text, re.M))
    return (float(rps.group(1)) if rps else None, pct.get("50"), pct.get("99"))


def h2load(text):
    """h2load prints no percentiles: they come from its --log-file (start, status, latency us)."""
    rps = re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", text)
    lat = []
    log = re.search(r"^LOGFILE (.+)$", text, re.M)
    if log:
        with open(log.group(1)) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[1] == "200":
                    lat.append(int(parts[2]) / 1000.0)
    lat.sort()
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else None)
    return (float(rps.group(1)) if rps else None, p(0.50), p(0.99))


def hey(text):
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    pct = dict((p, float(v) * 1000.0) for p, v in re.findall(r"^\s*(50|99)%+ in ([\d.]+) secs", text, re.M))
    return (float(rps.group(1)) if rps else None, pct.get("50"), pct.get("99"))


def locust(path):
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get("Name") == "Aggregated":
                return (float(row["Requests/s"]), float(row["50%"]), float(row["99%"]))
    return (None, None, None)


def bare_curl(text):
    rps = re.search(r"(?:requests/s|req/s|rps|Requests/sec)\s*[:=]?\s*([\d.]+)", text, re.I)
    p50 = re.search(r"p50(?:_ms)?\s*[:=]\s*([\d.]+)", text)
    p99 = re.search(r"p99(?:_ms)?\s*[:=]\s*([\d.]+)", text)
    return tuple(float(m.group(1)) if m else None for m in (rps, p50, p99))


def loadctl(path):
    with open(path) as f:
        summary = json.load(f)
    totals = summary.get("totals", {})
    reqs = summary.get("requests") or [{}]
    top = max(reqs, key=lambda r: r.get("count", 0))
    return (totals.get("rps"), top.get("p50_ms"), top.get("p99_ms"))


def show(values):
    return " ".join("NA" if v is None else "%.3f" % v for v in values)


def main():
    tool, path = sys.argv[1], sys.argv[2]
    try:
        if tool in ("locust", "loadctl"):
            values = {"locust": locust, "loadctl": loadctl}[tool](path)
        else:
            with open(path, errors="replace") as f:
                text = f.read()
            values = {"wrk": wrk, "h2load": h2load, "hey": hey, "bare_curl": bare_curl}[tool](text)
    except (OSError, ValueError, KeyError) as e:
        print("NA NA NA", file=sys.stdout)
        print("parse.py %s %s: %s" % (tool, path, e), file=sys.stderr)
        return 0
    print(show(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
