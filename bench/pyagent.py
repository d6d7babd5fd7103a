"""pyagent.py - bench/pyagent's arithmetic and its in-process part (see bench/pyagent):
  round MODE RATE SUMMARY F0 F1 A0 A1   one round as a JSON line: loadctl's totals, the worker's CPU and
                                        requests (/debug/faults before F0 and after F1) and the agent's own
                                        CPU (its index page before A0 and after A1; empty files when off)
  rate ROUNDS                           40 % of the median agent-off throughput of the closed-model rounds
  wrap                                  the WSGI wrapper's CPU per call: a Flask app called in-process with
                                        and without loadctl_agent.flask, the fastest of 60 alternated batches
                                        of 200 calls
                                        with loadctl's traceparent and baggage headers, thread CPU time
  report ROUNDS WRAP HZ SHAPE LOAD      the table: per figure the median of the pairs' changes (on vs off of
                                        the same pair) and a distribution-free interval for that median (sign
                                        test), with a verdict against the goal only when the interval allows it
  inproc HZ [ROUNDS]                    the sampler's cost with nothing else between: one process, a Flask app
                                        wrapped by loadctl_agent.flask called by 8 threads in a loop, rounds of
                                        1 s alternating sampling on (CPU and wall collectors) and off; process
                                        CPU per request, and without the sampler thread's own CPU (what the
                                        app's threads pay: frames read, GIL hand-offs)
  calls VARIANT N                       N requests (after 200) to a Flask app in one thread: off (bare), wsgi
                                        (loadctl_agent.wsgi), flask (loadctl_agent.flask) or slots (flask, with
                                        the external sampler's label slots written); for instruction
                                        counts, run under valgrind --tool=callgrind with N and with 0
  ticks N TICK [STABLE]                 8 threads, each parked in a new 25-frame stack under the WSGI wrapper N
                                        times, of which the STABLE (default 0) frames below the wrapper stay on
                                        the stack from tick to tick (a request in progress) and the rest are new;
                                        TICK=1: the sampler ticks once while they are parked (CPU and wall
                                        collectors), TICK=0: it does not; under callgrind, (TICK=1 - TICK=0) / N
                                        is a tick's instructions, what the app's threads pay for it included
  still N                               8 threads blocked in Event.wait, N sampler ticks from the main thread:
                                        under callgrind, (N=1010 - N=10) / 1000 is a still tick's instructions
  exttick [TICKS [DEPTH [MODE]]]        the external sampler's tick on its own, in this process: 8 threads
                                        parked DEPTH (60) frames deep (locals, a generator's frame: stacks over
                                        more than one data-stack chunk), TICKS (300) ticks 10 ms apart with a
                                        CPU and a wall collector (no label records): thread CPU per tick, the
                                        median of 5 runs, of a still tick (nothing moved) and of a tick that
                                        walks every thread's whole stack anew; MODE still or walk: one run of
                                        that kind (under callgrind, (TICKS=110 - TICKS=10) / 100 is a tick's
                                        instructions)
  tickcost [RATE [SECONDS]]             the external sampler process's CPU per tick: an app of 8 threads
                                        (tickapp) serving RATE (300) wrapped requests/s, CPU and wall profiles
                                        of SECONDS (10) pulled at once; the index line's figures
wrap, inproc, calls, ticks, still and tickcost import loadctl_agent from $PYAGENT_SRC when it is set (another copy of
agents/python, to compare two versions with one harness)."""

import json
import math
import os
import re
import statistics
import sys
import time

WRAP_BATCHES = 60  # alternated batches of 200 calls per app
AGENT_RE = re.compile(r"(\d+) ticks at \d+ Hz, sampler CPU ([0-9.]+) s \(([0-9.]+) s reading stacks\), "
                      r"encoding CPU ([0-9.]+) s")


EXT_RE = re.compile(r"external sampler process: (\d+) ticks, CPU ([0-9.]+) s \(([0-9.]+) s ticks, ([0-9.]+) s encoding\)")
EXT_MORE_RE = re.compile(r"stacks read (\d+); sampled ([0-9.]+) s \([0-9.]+ ticks/s\), scheduled (\w+)")


def agent_cpu(path):
    """(ticks, sampler s, reading-stacks s, encoding s, external) from the agent's index page, or None:
    the external sampler process's figures when it runs (external 1: CPU outside the worker), else the
    in-process sampler's (external 0)."""
    with open(path) as f:
        text = f.read()
    m = EXT_RE.search(text)
    if m:
        more = EXT_MORE_RE.search(text)  # an older agent (PYAGENT_SRC) may not say
        return tuple(float(x) for x in m.groups()) + (1,) + ((float(more.group(1)), float(more.group(2)),
                                                              more.group(3)) if more else (0, 0, "?"))
    m = AGENT_RE.search(text)
    return tuple(float(x) for x in m.groups()) + (0,) if m else None


def round_line(mode, rate, summary, f0, f1, a0, a1):
    with open(summary) as f:
        t = json.load(f)["totals"]
    with open(f0) as f:
        w0 = json.load(f)
    with open(f1) as f:
        w1 = json.load(f)
    out = {"mode": mode, "rate": float(rate), "rps": t["rps"], "p50_ms": t["p50_ms"], "p99_ms": t["p99_ms"],
           "sent": t.get("requests", 0), "errors": t.get("errors", 0),
           "requests": w1["requests"] - w0["requests"], "worker_cpu_s": w1["cpu_s"] - w0["cpu_s"]}
    x0, x1 = agent_cpu(a0), agent_cpu(a1)
    if x0 and x1:
        out.update(ticks=x1[0] - x0[0], sampler_cpu_s=x1[1] - x0[1], stacks_cpu_s=x1[2] - x0[2],
                   encode_cpu_s=x1[3] - x0[3], external=x1[4])
        if len(x1) > 5:
            out.update(stacks_read=x1[5] - x0[5], sampled_s=x1[6] - x0[6], sched=x1[7])
    print(json.dumps(out))


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def rate(path):
    rps = [r["rps"] for r in load(path) if r["mode"] == "off" and not r["rate"]]
    print(int(0.4 * statistics.median(rps)))


def agent_src():
    """Where loadctl_agent is imported from: $PYAGENT_SRC (another copy of agents/python, to compare two
    versions with the same harness) or this checkout's agents/python."""
    return os.environ.get("PYAGENT_SRC") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                          "agents", "python")


def wsgi_environ(baggage):
    """The environ of GET /api/products/7 as a server hands it to the app, with loadctl's headers."""
    return {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/products/7", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "HTTP_BAGGAGE": baggage}


def call_wsgi(app, environ):
    """One request through a WSGI app: its body read to the end and closed."""
    env = dict(environ)
    env["wsgi.input"] = None
    body = app(env, lambda status, headers: None)
    for _ in body:
        pass
    body.close()


def _slots_writer():
    """A label-slot writer when the agent has one (slots.py; an older copy under $PYAGENT_SRC may not), with
    LOADCTL_AGENT_SAMPLER=inprocess: None (that sampler writes no slots)."""
    if os.environ.get("LOADCTL_AGENT_SAMPLER") == "inprocess":
        return None
    try:
        from loadctl_agent import slots
    except ImportError:
        return None
    return slots.Writer()


def wrap():
    sys.path.insert(0, agent_src())
    import loadctl_agent
    from flask import Flask, jsonify

    def make(agent):
        app = Flask("bench")

        @app.get("/api/products/<int:pid>")
        def product(pid):
            return jsonify({"id": pid, "name": "product %d" % pid})

        return loadctl_agent.flask(app) if agent else app

    environ = wsgi_environ("loadctl.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D,k6.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D")
    apps = {"off": make(False), "on": make(True)}

    def batch(app, n=200):
        t0 = time.thread_time_ns()
        for _ in range(n):
            call_wsgi(app, environ)
        return (time.thread_time_ns() - t0) / n / 1e3

    writer = _slots_writer()

    def mirrored(on):  # the external sampler's label slots: written by the wrapper when it runs
        if writer is not None:
            from loadctl_agent import context
            context.mirror(writer) if on else context.unmirror()

    # the fastest of many short alternated batches: a shared machine only ever adds time to a batch
    best = {"off": float("inf"), "on": float("inf")}
    for i in range(WRAP_BATCHES):
        for m in ("off", "on") if i % 2 == 0 else ("on", "off"):
            mirrored(m == "on")
            best[m] = min(best[m], batch(apps[m]))
            mirrored(False)
    print(json.dumps(best))


def spread(xs):
    return "%+.1f..%+.1f %%" % (min(xs), max(xs)) if xs else "-"


def sign_interval(d, level=0.95):
    """A distribution-free interval for the median of d: (low, high, coverage), the k-th smallest and k-th
    largest of d for the largest k whose coverage 1 - 2 P(Binomial(n, 1/2) < k) is at least level (the
    sign test's interval: it assumes only that the pairs are independent). None when n is too small."""
    n, xs = len(d), sorted(d)
    best = None
    for k in range(1, n // 2 + 1):
        coverage = 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2.0 ** n
        if coverage < level:
            break
        best = (xs[k - 1], xs[n - k], coverage)
    return best


def verdict(iv, limit, worse_above):
    """Against a goal (change must stay below limit when worse_above, above it otherwise)."""
    if iv is None:
        return "too few pairs for an interval"
    lo, hi, _ = iv
    inside = hi < limit if worse_above else lo > limit
    outside = lo > limit if worse_above else hi < limit
    goal = "%s %+.0f %%" % ("<" if worse_above else ">", limit)
    if inside:
        return "goal %s met (the whole interval)" % goal
    if outside:
        return "goal %s NOT met (the whole interval)" % goal
    return "goal %s not decided at this precision (the interval spans it)" % goal


def report(rounds_path, wrap_path, hz, shape, loadavg):
    rows = load(rounds_path)
    with open(wrap_path) as f:
        w = json.load(f)

    def pairs(closed, key):
        """Per-pair change on vs off (%), the runs paired in order, and the medians."""
        off = [r for r in rows if r["mode"] == "off" and bool(r["rate"]) != closed]
        on = [r for r in rows if r["mode"] == "on" and bool(r["rate"]) != closed]
        d = [100 * (b[key] - a[key]) / a[key] for a, b in zip(off, on) if a[key] > 0]
        return statistics.median(r[key] for r in off), statistics.median(r[key] for r in on), d

    for r in rows:
        r["cpu_us_req"] = 1e6 * r["worker_cpu_s"] / max(1, r["requests"])
    rate_used = next((r["rate"] for r in rows if r["rate"]), 0)
    fixed = [r for r in rows if r["rate"]]
    print("pyshop (faults off, 1 gunicorn gthread worker, 8 threads), agent at %s Hz, CPU and wall profiles "
          "pulled back to back; pairs of runs off-on / on-off: %s; load average %s" % (hz, shape, loadavg))
    if fixed:
        print("fixed rate %d req/s: %d to %d requests a run (median %d), %d errors in all" % (
            rate_used, min(r["sent"] for r in fixed), max(r["sent"] for r in fixed),
            statistics.median(r["sent"] for r in fixed), sum(r["errors"] for r in fixed)))
    print("%-40s %9s %9s %8s  %-26s %s" % ("", "off", "on", "median", "interval (coverage)", "pairs' range"))
    goals = {"rps": (-3.0, False), "p99_ms": (5.0, True)}
    verdicts = []
    for label, closed, key, fmt in (("throughput (req/s)", True, "rps", "%.1f"),
                                     ("worker CPU per request (us)", True, "cpu_us_req", "%.0f"),
                                     ("worker CPU per request at %d req/s (us)" % rate_used, False, "cpu_us_req",
                                      "%.0f"),
                                     ("p50 at %d req/s (ms)" % rate_used, False, "p50_ms", "%.2f"),
                                     ("p99 at %d req/s (ms)" % rate_used, False, "p99_ms", "%.2f")):
        a, b, d = pairs(closed, key)
        iv = sign_interval(d)
        ivs = "%+.1f .. %+.1f %% (%.1f %%)" % (iv[0], iv[1], 100 * iv[2]) if iv else "-"
        print("%-40s %9s %9s %+7.1f%%  %-26s %s  (%d pairs)" % (label, fmt % a, fmt % b, statistics.median(d), ivs,
                                                               spread(d), len(d)))
        if key in goals:
            verdicts.append("%s: %s" % (label.split(" (")[0], verdict(iv, *goals[key])))
    for v in verdicts:
        print("  " + v)
    # the machine's own noise at the same design: off runs of consecutive pairs, compared as on vs off are
    for label, closed, key in (("throughput", True, "rps"), ("p99", False, "p99_ms")):
        off = [r[key] for r in rows if r["mode"] == "off" and bool(r["rate"]) != closed]
        d = [100 * (b - a) / a for a, b in zip(off[0::2], off[1::2]) if a > 0]
        iv = sign_interval(d)
        print("  noise, off vs off (consecutive pairs' off runs) for %s: median %+.1f %%, interval %s, range %s "
              "(%d)" % (label, statistics.median(d) if d else 0, "%+.1f .. %+.1f %%" % iv[:2] if iv else "-",
                        spread(d), len(d)))
        runs = [r[key] for r in rows if bool(r["rate"]) != closed]  # in the order they ran, pair by pair
        d = [100 * (b - a) / a for a, b in zip(runs[0::2], runs[1::2]) if a > 0]
        iv = sign_interval(d)
        print("  order, a pair's second run vs its first (either mode) for %s: median %+.1f %%, interval %s "
              "(%d)" % (label, statistics.median(d) if d else 0, "%+.1f .. %+.1f %%" % iv[:2] if iv else "-", len(d)))
    on = [r for r in rows if r["mode"] == "on" and "ticks" in r]
    ticks = sum(r["ticks"] for r in on)
    tick_us = 1e6 * sum(r["sampler_cpu_s"] for r in on) / max(1, ticks)
    stacks_us = 1e6 * sum(r["stacks_cpu_s"] for r in on) / max(1, ticks)
    encode_us = 1e6 * sum(r["encode_cpu_s"] for r in on) / max(1, ticks)
    per_s = (tick_us + encode_us) * float(hz)  # the agent's CPU (us) per second of sampling
    rps_on = statistics.median(r["rps"] for r in on if not r["rate"])
    wrap_d = w["on"] - w["off"]
    off_cpu = statistics.median(r["cpu_us_req"] for r in rows if r["mode"] == "off" and not r["rate"])
    external = all(r.get("external") for r in on) and on
    if external:  # the sampler's CPU is another process's: only the wrapper's runs in the worker, under its GIL
        tick_us = 1e6 * sum(r["stacks_cpu_s"] for r in on) / max(1, ticks)
        proc_s = sum(r["sampler_cpu_s"] for r in on) / max(1e-9, sum(r["worker_cpu_s"] for r in on)) * 100
        print("the external sampler process (%d ticks): %.0f us per tick reading the worker's stacks, %.0f us "
              "encoding per tick; its CPU in all = %.1f %% of the worker's CPU, on another core, without the "
              "worker's GIL" % (ticks, tick_us, encode_us, proc_s))
        sampled = sum(r.get("sampled_s", 0) for r in on)
        if sampled:
            for label, closed in (("closed model (CPU saturated)", True), ("fixed rate", False)):
                part = [r for r in on if bool(r["rate"]) != closed]
                t, secs = sum(r["ticks"] for r in part), sum(r.get("sampled_s", 0) for r in part)
                print("  %s: %.1f ticks/s achieved of %s Hz, %.2f thread stacks read per tick (the rest known "
                      "unchanged)" % (label, t / max(secs, 1e-9), hz, sum(r.get("stacks_read", 0) for r in part) /
                                      max(t, 1)))
            print("  scheduled: %s" % ", ".join(sorted({r.get("sched", "?") for r in on})))
        own = wrap_d
        print("  in the worker: the Flask wrapper and label slots, %.1f us per request (in-process, fastest of %d "
              "batches: %.1f vs %.1f us per call)" % (wrap_d, WRAP_BATCHES, w["on"], w["off"]))
    else:
        own = per_s / rps_on + wrap_d
        print("the agent's own CPU while profiles are pulled (%d ticks): %.0f us per tick (%.0f reading stacks) + "
              "%.0f us encoding per tick = %.1f %% of a core at %s Hz" % (ticks, tick_us, stacks_us, encode_us,
                                                                         per_s / 1e4, hz))
        print("  per request at %.0f req/s: %.1f us, plus the Flask wrapper's %.1f us (in-process, fastest of %d "
              "batches: %.1f vs %.1f us per call)" % (rps_on, per_s / rps_on, wrap_d, WRAP_BATCHES, w["on"], w["off"]))
    print("  = %.1f us per request in the worker: %.1f %% of the agent-off worker's %.0f us of CPU per request (a "
          "GIL-bound worker's throughput falls by about that share)" % (own, 100 * own / off_cpu, off_cpu))


def _flask_app():
    sys.path.insert(0, agent_src())
    from flask import Flask, jsonify

    app = Flask("bench")

    @app.get("/api/products/<int:pid>")
    def product(pid):
        x = 0
        for i in range(300):
            x += i
        return jsonify({"id": pid, "name": "product %d" % pid})

    return app


def inproc(hz, rounds="8"):
    import threading
    app = _flask_app()
    import loadctl_agent
    from loadctl_agent import sampler as agent_sampler

    app = loadctl_agent.flask(app)
    environ = wsgi_environ("loadctl.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D")
    stop, count = threading.Event(), [0]

    def worker():
        while not stop.is_set():
            call_wsgi(app, environ)
            count[0] += 1
            time.sleep(0)  # a system call per request, where a server does its socket I/O (GIL released)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    s = agent_sampler.Sampler(int(hz))
    s.start()
    res = {"on": [], "off": []}
    time.sleep(0.5)
    for r in range(int(rounds)):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            cs = [s.subscribe("cpu"), s.subscribe("wall")] if mode == "on" else []
            c0, p0, a0 = count[0], time.process_time(), s.cpu_ns
            time.sleep(1.0)
            c1, p1, a1 = count[0], time.process_time(), s.cpu_ns
            for c in cs:
                s.unsubscribe(c)
            n = max(1, c1 - c0)
            res[mode].append((1e6 * (p1 - p0) / n, 1e6 * ((p1 - p0) - (a1 - a0) / 1e9) / n))
    stop.set()
    for t in threads:
        t.join()
    s.stop()
    off = [statistics.median(x[i] for x in res["off"]) for i in (0, 1)]
    on = [statistics.median(x[i] for x in res["on"]) for i in (0, 1)]
    print("in-process (8 threads calling a Flask app under loadctl_agent.flask; %s alternated 1 s rounds, sampling "
          "at %s Hz on/off): process CPU per request %.1f -> %.1f us (%+.1f %%); without the sampler thread's own "
          "CPU %.1f -> %.1f us (%+.1f %%)" % (rounds, hz, off[0], on[0], 100 * (on[0] - off[0]) / off[0], off[1], on[1],
                                              100 * (on[1] - off[1]) / off[1]))


def calls(variant, n):
    sys.path.insert(0, agent_src())
    import loadctl_agent
    from flask import Flask, jsonify

    app = Flask("bench")

    @app.get("/api/products/<int:pid>")
    def product(pid):
        return jsonify({"id": pid, "name": "product %d" % pid})

    if variant in ("flask", "slots"):
        loadctl_agent.flask(app)
        if variant == "slots":  # with the label slots written, as while the external sampler runs
            from loadctl_agent import context
            context.mirror(_slots_writer())
    elif variant == "wsgi":
        app.wsgi_app = loadctl_agent.wsgi(app.wsgi_app)
    elif variant != "off":
        raise SystemExit("calls: VARIANT is off, wsgi, flask or slots, not %r" % variant)
    environ = wsgi_environ("loadctl.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D,k6.name=GET%20%2Fapi%2Fproducts%2F%7Bid%7D")
    for _ in range(200 + int(n)):
        call_wsgi(app, environ)


def ticks(n, tick, stable="0", depth=25):
    import threading
    sys.path.insert(0, agent_src())
    import loadctl_agent
    from loadctl_agent import sampler as agent_sampler

    n, tick, stable = int(n), tick == "1", int(stable)
    go = [threading.Semaphore(0) for _ in range(8)]
    parked = threading.Semaphore(0)

    def deep(k, i):
        if k:
            return deep(k - 1, i) + 1
        parked.release()
        go[i].acquire()
        return 0

    def outer(k, i, times):  # `stable` frames that stay on the stack across the ticks, then the loop
        if k:
            return outer(k - 1, i, times) + 1
        for _ in range(times):
            deep(depth - stable, i)
        return 0

    app = loadctl_agent.wsgi(lambda environ, start_response: [outer(stable, environ["i"], environ["times"])])

    def worker(i):
        environ = {"i": i, "HTTP_TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                   "HTTP_BAGGAGE": "loadctl.name=GET%20%2Fx", "times": n + 1 if stable else 1}
        for _ in range(1 if stable else n + 1):
            app(environ, None)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    s = agent_sampler.Sampler(100)
    collectors = [agent_sampler.Collector("cpu"), agent_sampler.Collector("wall")]
    for it in range(n + 1):
        for _ in range(8):
            parked.acquire()
        if tick and it:
            s.tick(collectors, 10000000)
        for g in go:
            g.release()
    for t in threads:
        t.join()


def still(n):
    """8 threads blocked in Event.wait and N ticks of the sampler (CPU and wall collectors) from this thread;
    under callgrind, (N=1010 - N=10) / 1000 is a tick's instructions for still threads."""
    import threading
    sys.path.insert(0, agent_src())
    from loadctl_agent import sampler as agent_sampler

    gate = threading.Event()
    threads = [threading.Thread(target=gate.wait) for _ in range(8)]
    for t in threads:
        t.start()
    s = agent_sampler.Sampler(100)
    collectors = [agent_sampler.Collector("cpu"), agent_sampler.Collector("wall")]
    for _ in range(int(n)):
        s.tick(collectors, 10000000)
    gate.set()
    for t in threads:
        t.join()


def exttick(n="300", depth="60", mode="both"):
    import threading
    sys.path.insert(0, agent_src())
    from loadctl_agent import extsampler, layout, remote, sampler as agent_sampler, slots, stacks

    lay, parked_, _ = layout.discover()
    parked_.release()
    gate, parked = threading.Event(), threading.Semaphore(0)

    def deep(k):  # a frame of some size (its locals), as a service's functions have
        a = b = c = d = e = f = g = h = k
        if k == depth // 2:
            return sum(gen(k - 1)) + a + b + c + d + e + f + g + h
        return deep(k - 1) if k else parked.release() or gate.wait()

    def gen(k):
        yield deep(k)

    depth = int(depth)
    threads = [threading.Thread(target=deep, args=(depth,)) for _ in range(8)]
    [t.start() for t in threads]
    [parked.acquire() for _ in threads]
    time.sleep(0.05)

    class Table:
        torn = 0

        def ahead(self):
            return {}

        def table(self, heads=None, ahead=None):  # the ticking thread is the agent's: not sampled
            return {threading.get_native_id(): (slots.AGENT, ())}

    def run(walk_all):
        reader = remote.Reader(os.getpid(), lay)
        es = extsampler.ExtSampler.__new__(extsampler.ExtSampler)
        es.reader, es.table, es.pid, es.period_ns = reader, Table(), os.getpid(), 10000000
        es.tree, es.at, es.at_reset, es.last = stacks.Tree(None), {}, time.monotonic(), {}
        es.unreadable = es.reads = 0
        collectors = [agent_sampler.Collector("cpu"), agent_sampler.Collector("wall")]
        es.tick(collectors, 10000000)
        cpu = 0
        for _ in range(int(n)):
            if walk_all:
                for st in es.last.values():
                    st.node, st.walk, st.nodes, st.index = None, [], [], {}
            time.sleep(0.01)
            t0 = time.thread_time_ns()
            es.tick(collectors, 10000000)
            cpu += time.thread_time_ns() - t0
        reads = es.reads
        es._close_threads()
        reader.close()
        return cpu / 1000 / int(n), reads / int(n)

    out = {"still": [], "walk": []} if mode == "both" else {mode: []}
    for _ in range(5 if mode == "both" else 1):
        for k in out:
            out[k].append(run(k == "walk"))
    gate.set()
    [t.join() for t in threads]
    for k, v in out.items():
        print("exttick %s: %.0f us CPU per tick (runs: %s), %.1f stacks walked per tick" % (
            k, statistics.median(x[0] for x in v), " / ".join("%.0f" % x[0] for x in v), v[0][1]))


def tickapp(rate, seconds):
    """The app of `tickcost`: 8 threads serving a wrapped WSGI app (a 25-frame recursion and ~1 ms of
    arithmetic a request) fed at `rate` requests/s by this thread for `seconds`; prints the agent's address."""
    import queue
    import threading
    sys.path.insert(0, agent_src())
    import loadctl_agent

    def deep(n):
        return deep(n - 1) if n else sum(i * i for i in range(3000))

    def app(environ, start_response):
        deep(25)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    wrapped, q = loadctl_agent.wsgi(app), queue.Queue()

    def worker():
        for item in iter(q.get, None):
            for _ in wrapped(dict(wsgi_environ("loadctl.name=GET%%20%%2Fx%d" % (item % 4))),
                             lambda status, headers: None):
                pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in threads]
    agent = loadctl_agent.start(listen="127.0.0.1:0", hz=100)
    print("%s:%d" % agent.address, flush=True)
    end, n, due = time.monotonic() + float(seconds), 0, time.monotonic()
    while time.monotonic() < end:
        n += 1
        q.put(n)
        due += 1 / float(rate)
        time.sleep(max(0, due - time.monotonic()))
    [q.put(None) for _ in threads]
    [t.join() for t in threads]


def tickcost(rate="300", seconds="10"):
    """The sampler process's CPU per tick on a known app (tickapp) while CPU and wall profiles of `seconds`
    are pulled at once: its index line (ticks, CPU of its ticks, stacks read, rate achieved)."""
    import subprocess
    import threading
    import urllib.request
    app = subprocess.Popen([sys.executable, os.path.abspath(__file__), "tickapp", rate, str(float(seconds) + 3)],
                           stdout=subprocess.PIPE, text=True)
    addr = app.stdout.readline().strip()
    time.sleep(1)
    pulls = [threading.Thread(target=lambda k=k: urllib.request.urlopen(
        "http://%s/debug/pprof/%s?seconds=%s" % (addr, k, seconds), timeout=120).read()) for k in ("profile", "wall")]
    [t.start() for t in pulls]
    [t.join() for t in pulls]
    index = urllib.request.urlopen("http://%s/debug/pprof/" % addr, timeout=60).read().decode()
    app.wait()
    m = EXT_RE.search(index)
    if not m:
        print("tickcost: the agent did not sample out of process: %s" % index.strip().splitlines()[-1])
        sys.exit(1)
    ticks = int(m.group(1))
    print("tickcost: %d ticks, %.0f us CPU per tick (%s req/s, 8 threads); %s" % (
        ticks, 1e6 * float(m.group(3)) / max(1, ticks), rate, (EXT_MORE_RE.search(index) or m).group(0)))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"round": round_line, "rate": rate, "wrap": wrap, "report": report, "inproc": inproc, "calls": calls,
     "ticks": ticks, "still": still, "exttick": exttick, "tickapp": tickapp, "tickcost": tickcost}[cmd](*args)
