#!/usr/bin/env bash
# faults_limits.sh - issue 9's resource limits: (a) a 100 MB body fetched over and over by a few VUs is
# streamed and discarded beyond options.max_body, and loadctl's peak RSS stays under 100 MB on both
# backends; (b) 100k distinct URLs without name= are folded into STATS_MAX_NAMES request names
# ("(other)" holds the rest) with a warning, and peak RSS stays bounded. Peak RSS is the VmHWM of the
# loadctl process tree, polled from /proc, and the kernel's ru_maxrss at exit, whichever is higher.
# One line per case: case: <name> backend=<b> result=<pass|FAIL> errors=<kind:count> <figures>
set -u
. "$(dirname "$0")/dist_lib.bash"

BIG=104857600            # /big/<bytes>: 100 MB
MAX_BODY=262144          # options.max_body in case (a)
BIG_RSS_LIMIT_KB=102400  # (a): 100 MB
NAMES_KEPT=1000          # STATS_MAX_NAMES (common/stats.h): 999 names + "(other)"
URLS_MIN=100000          # (b): distinct URLs at least
NAMES_RSS_LIMIT_KB=524288 # (b): 512 MB (measured ~120 MB; each kept name costs histograms)
START=$(date +%s)
SANITIZED=
grep -qE '^LOADCTL_(ASAN|TSAN):BOOL=ON' "$LOADCTL_BUILD/CMakeCache.txt" 2>/dev/null && SANITIZED=1

start_testserver 300
BASE="http://127.0.0.1:$PORT"
count() { curl -fsS "$BASE/count"; }

# rss.py TIMEOUT_S LOG CMD...: run CMD (output to LOG) bounded in time; print PEAK_KB=, POLLED_KB=, RC=
cat >"$T/rss.py" <<'PY'
import os, signal, sys, time
def tree(pid):
    pids = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    pids += tree(int(child))
    except OSError:
        pass
    return pids
def hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
limit = time.monotonic() + float(sys.argv[1])
pid = os.fork()
if pid == 0:
    fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execvp(sys.argv[3], sys.argv[3:])
peak = 0
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    peak = max(peak, sum(hwm_kb(p) for p in tree(pid)))
    if time.monotonic() > limit:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.05)
rc = os.waitstatus_to_exitcode(status)
print(f"PEAK_KB={max(peak, usage.ru_maxrss)} POLLED_KB={peak} RC={rc if rc >= 0 else 128 - rc}")
PY

cat >"$T/same.py" <<'PY'
import json, sys
def key(f):
    d = json.load(open(f))
    return (d["totals"]["requests"], d["totals"]["errors"],
            sorted((r["name"], r["count"], r["errors"], sorted(r["errors_by_kind"].items())) for r in d["requests"]))
if key(sys.argv[1]) != key(sys.argv[2]):
    sys.exit("loadctl report rebuilt other numbers than the run wrote")
PY

FAILED=0 CASE_FAILED=
bad() { CASE_FAILED="${CASE_FAILED:+$CASE_FAILED; }$*"; }
want() { awk -v a="$2" -v b="$4" "BEGIN { exit !(a $3 b) }" || bad "$1 = $2, expected $3 $4"; }
report_case() { # report_case NAME BACKEND ERRORS DETAILS
  local result=pass
  [ -n "$CASE_FAILED" ] && result=FAIL
  echo "case: $1 backend=$2 result=$result errors=$3 $4"
  if [ -n "$CASE_FAILED" ]; then
    echo "  FAIL: $CASE_FAILED" >&2
    FAILED=$((FAILED + 1))
  fi
  CASE_FAILED=
}

# run_measured NAME LUA_FILE: loadctl start under rss.py; sets PEAK_KB, RC, SERVED, DIR; checks the rebuild
run_measured() {
  DIR="$T/run-$1"
  local c0 out
  c0=$(count)
  out=$(python3 "$T/rss.py" 60 "$T/$1.log" "$LOADCTL" start "$2" --quiet --out "$DIR")
  eval "$out"
  SERVED=$(($(count) - c0))
  case "$RC" in 0 | 99) ;; *) bad "loadctl exited $RC" ;; esac
  [ -s "$DIR/summary.json" ] || { bad "no summary.json"; return; }
  cp "$DIR/summary.json" "$DIR/summary.run.json"
  if ! "$LOADCTL" report "$DIR" --no-index --quiet >"$T/$1.report.log" 2>&1; then
    bad "loadctl report failed"
  elif ! python3 "$T/same.py" "$DIR/summary.run.json" "$DIR/summary.json"; then
    bad "report rebuild differs"
  fi
}

rss_limit() { # rss_limit LIMIT_KB: assert peak RSS (not under sanitizers: their shadow memory dominates)
  if [ -n "$SANITIZED" ]; then echo "  (sanitizer build: peak RSS ${PEAK_KB} KB not asserted)"; return; fi
  want "peak RSS KB" "$PEAK_KB" "<" "$1"
}

# (a) 100 MB body: 4 VUs for 3 s, the script reads r.body
for b in h1 curl; do
  cat >"$T/big-$b.lua" <<LUA
options = { target = "$BASE", users = 4, duration = "3s", http = "$b", max_body = $MAX_BODY, timeout = "30s" }
task(1, function(vu)
  local r = http.get("/big/$BIG", {name = "big"})
  check(r, {["status 200"] = function(r) return r.status == 200 end,
            ["body cut at max_body"] = function(r) return #r.body == $MAX_BODY end})
end)
LUA
  run_measured "big-$b" "$T/big-$b.lua"
  eval "$(json "$DIR/summary.json" "' '.join(['N=%d' % d['totals']['requests'], 'E=%d' % d['totals']['errors'],
    'BYTES=%d' % d['requests'][0]['bytes_in'],
    'CUT=%d' % [c['passes'] for c in d['checks'] if c['name'] == 'body cut at max_body'][0],
    'OK200=%d' % [c['passes'] for c in d['checks'] if c['name'] == 'status 200'][0]])")"
  want "requests" "$N" ">=" 8
  want "errors" "$E" "==" 0
  want "served" "$SERVED" "==" "$N"
  want "bodies cut at max_body" "$CUT" "==" "$N"
  want "status 200" "$OK200" "==" "$N"
  want "bytes in" "$BYTES" ">=" "$((N * BIG))"
  rss_limit "$BIG_RSS_LIMIT_KB"
  report_case big_body "$b" none "requests=$N served=$SERVED bytes_in=$BYTES body_kept=$MAX_BODY peak_rss_kb=$PEAK_KB (/proc VmHWM polled: $POLLED_KB) exit=$RC"
done

# (b) 100k distinct URLs: every request has its own path and no name=, so its default name is new. Each
# of the 8 VUs runs exactly URLS_MIN/8 iterations (per-vu-iterations) and the run ends when all are done,
# so the count does not depend on the machine's speed (duration is only the bound on a loaded machine).
PER_VU=$(( (URLS_MIN + 7) / 8 ))
cat >"$T/urls.lua" <<LUA
options = { target = "$BASE", executor = "per-vu-iterations", vus = 8, iterations = $PER_VU,
            duration = "180s", http = "h1" }
task(1, function(vu)
  vu.n = (vu.n or 0) + 1
  http.get("/p/" .. vu.id .. "-" .. vu.n, {expect = 404})
end)
LUA
run_measured urls "$T/urls.lua"
eval "$(json "$DIR/summary.json" "' '.join(['N=%d' % d['totals']['requests'], 'E=%d' % d['totals']['errors'],
  'NAMES=%d' % len(d['requests']),
  'OTHER=%d' % sum(r['count'] for r in d['requests'] if r['name'] == '(other)'),
  'ONCE=%d' % sum(1 for r in d['requests'] if r['name'] != '(other)' and r['count'] == 1)])")"
want "distinct URLs requested" "$N" ">=" "$URLS_MIN"
want "errors" "$E" "==" 0
want "served" "$SERVED" "==" "$N"
want "request names kept" "$NAMES" "==" "$NAMES_KEPT"
want "names seen once each" "$ONCE" "==" "$((NAMES_KEPT - 1))"
want "(other) count" "$OTHER" "==" "$((N - NAMES_KEPT + 1))"
grep -q "more than $((NAMES_KEPT - 1)) request names" "$T/urls.log" || bad "no warning about the request name cap"
rss_limit "$NAMES_RSS_LIMIT_KB"
report_case distinct_urls h1 none "urls=$N served=$SERVED names_kept=$NAMES other=$OTHER peak_rss_kb=$PEAK_KB (/proc VmHWM polled: $POLLED_KB) exit=$RC"
grep -m1 "more than $((NAMES_KEPT - 1)) request names" "$T/urls.log" | sed 's/^/  warning: /'

echo "faults_limits: $(($(date +%s) - START)) s"
[ "$FAILED" -eq 0 ] || fail "$FAILED case(s) failed"
echo "1 passed, 0 failed"
