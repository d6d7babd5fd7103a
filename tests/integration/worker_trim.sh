#!/usr/bin/env bash
# worker_trim.sh - a worker gives back the heap pages of a VU burst (worker/agent.c, trim_heap): the open
# model grows a worker's VUs to its max_vus while the target stalls (~19 KB each), and a master pause
# stops the load; glibc kept those freed pages resident (the soak's workers crept +1.7 %/h). One worker,
# 200 VUs at most, against a local testserver: steady load, then the target SIGSTOPped 3 s (the burst),
# then the master SIGSTOPped 7 s (the worker stops its engine after 5 s of silence, destroys it when the
# master is back and trims), then steady load again. Asserted, on the worker's RSS less its histograms'
# pages sampled every 0.25 s: the burst raised it by at least BURST_MIN_KB over the steady level before it
# (else this run tests nothing), and once the master is back its lowest sample (19-25 s: the stopped
# engine destroyed and the heap trimmed, the new engine not yet warmed up) is within BACK_KB of that
# steady level (what is left is live: the stats held over the pause, the new engine). Measured at load
# 10-11: bursts +3,496-3,888 KB; after, with the trim +96, +236, +364, +276, +252, +192 KB; without it
# (WORKER_TRIM_DISABLE=1) +2,204, +2,412 KB.
# WORKER_TRIM_DISABLE=1 LD_PRELOADs tests/preload/notrim.c (malloc_trim a no-op) into the worker: the
# test must then fail.
# ctest: pair cost=40 - little CPU; bounds in KB, not time: may run beside one other such test
set -uo pipefail
: "${LOADCTL_BUILD:?}"
LOADCTL=${LOADCTL:-$LOADCTL_BUILD/loadctl}
BURST_MIN_KB=${WORKER_TRIM_BURST_MIN_KB:-1500}
BACK_KB=${WORKER_TRIM_BACK_KB:-1000}
HIST_KB=188
[ -x "$LOADCTL" ] && [ -x "$LOADCTL_BUILD/testserver" ] || { echo "SKIP: build loadctl and testserver first"; exit 77; }
getconf GNU_LIBC_VERSION >/dev/null 2>&1 || { echo "SKIP: the trim is glibc's malloc_trim; this libc is not glibc"; exit 77; }
PRE=()
if [ -n "${WORKER_TRIM_DISABLE:-}" ]; then
  [ -r "$LOADCTL_BUILD/libnotrim.so" ] || { echo "SKIP: $LOADCTL_BUILD/libnotrim.so not built"; exit 77; }
  PRE=(env LD_PRELOAD="$LOADCTL_BUILD/libnotrim.so")
  echo "worker_trim: malloc_trim disabled in the worker (libnotrim.so): this run must fail"
fi
T=$(mktemp -d /tmp/loadctl-trim-XXXXXX)
TS='' M='' W='' SAMPLER=''
cleanup() {
  for p in $SAMPLER $W $M $TS; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${WORKER_TRIM_KEEP:-}" ] && echo "worker_trim: kept $T" || rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "worker_trim: FAIL: $*"; tail -5 "$T/w.log" "$T/m.log" 2>/dev/null; exit 1; }

"$LOADCTL_BUILD/testserver" --port 0 --duration-s 90 >"$T/ts.out" 2>"$T/ts.log" &
TS=$!
for _ in $(seq 1 400); do grep -q '^PORT' "$T/ts.out" 2>/dev/null && break; sleep 0.05; done
TPORT=$(awk '/^PORT/ {print $2; exit}' "$T/ts.out")
[ -n "$TPORT" ] || fail "the testserver did not start: $(tail -2 "$T/ts.log")"
P=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
cat >"$T/s.lua" <<LUA
options = { target = "http://127.0.0.1:$TPORT", rate = 200, max_vus = 200, duration = "28s", timeout = "5s" }
task(1, function(vu) http.get("/ok", {name = "GET /ok"}) end)
LUA
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --quiet --out "$T/run" \
  >"$T/m.out" 2>"$T/m.log" &
M=$!
"${PRE[@]}" "$LOADCTL" worker --master "tcp://127.0.0.1:$P" --threads 1 --id trim-w >"$T/w.log" 2>&1 &
W=$!
T0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - T0) / 1000000 )); }
# RSS less the histograms' resident pages (their own MADV_DONTDUMP mappings, as bench/soak counts them)
rest_kb() {
  awk -v one=$HIST_KB 'function flush() { if (anon && dd && size % one == 0) h += rss }
    /^[0-9a-f]+-[0-9a-f]+ / { flush(); anon = NF == 5; dd = 0; size = 0; rss = 0; next }
    /^Size:/ { size = $2 } /^Rss:/ { rss = $2; all += $2 }
    /^VmFlags:/ { for (i = 2; i <= NF; i++) if ($i == "dd") dd = 1 }
    END { flush(); if (all) print all - h }' "/proc/$1/smaps" 2>/dev/null
}
( while kill -0 "$W" 2>/dev/null; do k=$(rest_kb "$W"); [ -n "$k" ] && echo "$(ms) $k"; sleep 0.25; done ) >"$T/rss.txt" &
SAMPLER=$!
at() { while [ "$(ms)" -lt "$1" ]; do sleep 0.1; done; }
at 7000
kill -STOP "$TS"; at 10000; kill -CONT "$TS"  # the burst: arrivals wait for VUs, up to 200
at 12000
kill -STOP "$M"; at 19000; kill -CONT "$M"    # the worker stops after 5 s of silence, resumes at 19 s
for _ in $(seq 1 600); do kill -0 "$M" 2>/dev/null || break; sleep 0.1; done
kill -0 "$M" 2>/dev/null && fail "the master did not end within 60 s of its run's end"
wait "$M"
mrc=$?
[ "$mrc" -eq 0 ] || fail "master exit $mrc"
kill "$SAMPLER" 2>/dev/null
python3 - "$T/rss.txt" "$BURST_MIN_KB" "$BACK_KB" <<'PY'
import statistics, sys
rows = [tuple(int(x) for x in l.split()) for l in open(sys.argv[1]) if len(l.split()) == 2]
burst_min, back = int(sys.argv[2]), int(sys.argv[3])
span = lambda a, b: [kb for t, kb in rows if a <= t < b]
before, burst, after = span(4000, 7000), span(7000, 19000), span(19000, 25000)
if len(before) < 4 or len(after) < 4 or not burst:
    print("worker_trim: FAIL: too few samples (%d before, %d in the burst, %d after)" % (len(before), len(burst), len(after)))
    sys.exit(1)
# before: the steady level (median); after: the lowest sample once the master is back (the stopped
# engine destroyed and the heap trimmed, before the new engine has warmed up)
b, peak, a = statistics.median(before), max(burst), min(after)
print("worker_trim: RSS less histograms: steady %d KB (4-7 s), burst peak %d KB (%+d), after the master pause "
      "%d KB (lowest of 19-25 s): %+d KB; bounds: burst >= +%d, after <= +%d"
      % (b, peak, peak - b, a, a - b, burst_min, back))
if peak - b < burst_min:
    print("worker_trim: FAIL: the target's stall raised the worker by only %+d KB: this run did not test the trim" % (peak - b))
    sys.exit(1)
if a - b > back:
    print("worker_trim: FAIL: the burst's pages stayed: %+d KB over the steady level before it" % (a - b))
    sys.exit(1)
print("worker_trim: pass")
PY
