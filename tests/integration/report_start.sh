#!/usr/bin/env bash
# report_start.sh - the report path through a real `loadctl start` against a local python http.server:
# thresholds exit 0 / 99, the live view under tmux, and kill -9 mid-run then `loadctl report` rebuilding
# the run up to its last full interval. Skipped (77) while `loadctl start` cannot run scenarios yet.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
LOADCTL=${LOADCTL:?}
work=$(mktemp -d)
# free ports, picked by the kernel (a port derived from the pid, as here before, and the one after it for
# the metrics endpoint, could be in use: an ephemeral port of another test's connections, in the range)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port=$(free_port)
sock="loadctl-start-$$"
srv=
lpid=
cleanup() {
  [ -n "$lpid" ] && kill -9 -- "-$lpid" 2>/dev/null
  [ -n "$srv" ] && kill "$srv" 2>/dev/null
  tmux -L "$sock" kill-server 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$work/www" && echo hello > "$work/www/index.html"
(cd "$work/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
srv=$!
scenario() { # scenario FILE DURATION THRESHOLD
  cat > "$1" <<LUA
options = { target = "http://127.0.0.1:$port", users = 2, duration = "$2",
            thresholds = { ["$3"] = "< 5s" } }
task(1, function(vu) http.get("/index.html", {name="GET /index.html"}) sleep(0.01) end)
LUA
}
scenario "$work/ok.lua" 3s "p99{name=GET /index.html}"
"$LOADCTL" check "$work/ok.lua" > "$work/check.txt" 2>&1 || { echo "loadctl check fails ($(head -c 200 "$work/check.txt")): skip"; exit 77; }
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# 1. thresholds: pass -> 0; a failing one -> 99; summary says which
timeout 60 "$LOADCTL" start "$work/ok.lua" --out "$work/ok" --quiet --threads 1 > "$work/ok.txt" 2>&1; rc=$?
[ $rc -eq 0 ] || fail "passing run exit $rc: $(tail -5 "$work/ok.txt")"
grep -q '"ok": true' "$work/ok/summary.json" || fail "summary thresholds not ok"
sed 's/< 5s/< 0.001ms/' "$work/ok.lua" > "$work/bad.lua"
timeout 60 "$LOADCTL" start "$work/bad.lua" --out "$work/bad" --quiet --threads 1 --junit "$work/bad.xml" > "$work/bad.txt" 2>&1; rc=$?
[ $rc -eq 99 ] || fail "failing threshold exit $rc, want 99"
grep -q 'failures="1"' "$work/bad.xml" || fail "junit"
grep -q 'FAIL' "$work/bad.txt" || fail "no FAIL in the printed threshold table"

# 2. live view on a TTY, and the OpenMetrics endpoint while it runs
mport=$(free_port)
scenario "$work/live.lua" 8s "p99{name=GET /index.html}"
tmux -L "$sock" -f /dev/null new-session -d -x 130 -y 30 "$LOADCTL start $work/live.lua --out $work/live --threads 1 --metrics-listen 127.0.0.1:$mport; echo EXIT=\$?; sleep 30"
for _ in $(seq 120); do  # the first interval reaches the endpoint a second or two after start (under ASan, beside three other tests, ten seconds were once not enough)
  curl -s --max-time 1 "http://127.0.0.1:$mport/metrics" > "$work/metrics.txt" 2>/dev/null
  grep -q '^loadctl_requests_total{name="GET /index.html"} [1-9]' "$work/metrics.txt" && break
  sleep 0.25
done
grep -q '^loadctl_requests_total{name="GET /index.html"} [1-9]' "$work/metrics.txt" ||
  fail "metrics on port $mport: '$(head -5 "$work/metrics.txt")'; loadctl start under tmux: $(tmux -L "$sock" capture-pane -p -S -40 | grep -v '^$' | tail -15)"
grep -q '^loadctl_users 2$' "$work/metrics.txt" || fail "metrics users: $(grep users "$work/metrics.txt")"
grep -q '^loadctl_workers [1-9]' "$work/metrics.txt" || fail "metrics workers"
sleep 1
tmux -L "$sock" capture-pane -p > "$work/live.txt"
echo "--- live view of loadctl start under tmux ---"; cat "$work/live.txt"
grep -q '^GET /index.html  *[0-9]' "$work/live.txt" || fail "live table lacks the request row"
grep -q '^loadctl \[' "$work/live.txt" || fail "live view lacks the progress bar"
for _ in $(seq 50); do grep -q EXIT= <(tmux -L "$sock" capture-pane -p) && break; sleep 0.2; done
tmux -L "$sock" capture-pane -p -S -50 | grep '^summary after' >/dev/null || fail "no final summary under tmux"

# 3. kill -9 mid-run, then rebuild
scenario "$work/long.lua" 60s "p99"
setsid "$LOADCTL" start "$work/long.lua" --out "$work/killed" --quiet --threads 1 > /dev/null 2>&1 &
lpid=$!
for _ in $(seq 100); do [ "$(cat "$work/killed/intervals.jsonl" 2>/dev/null | grep -c '"(all)"')" -ge 3 ] && break; sleep 0.1; done
kill -9 -- "-$lpid"; wait "$lpid" 2>/dev/null; lpid=
[ ! -e "$work/killed/summary.json" ] || fail "summary.json before the rebuild"
"$LOADCTL" report "$work/killed" --no-index > "$work/rep.txt" 2>&1 || fail "report: $(cat "$work/rep.txt")"
python3 - "$work/killed" <<'PY' || fail "rebuilt numbers"
import json, sys
d = sys.argv[1]
full = []
for line in open(d + "/intervals.jsonl"):
    try: o = json.loads(line)
    except ValueError: continue
    if o["name"] == "(all)": full.append(o)
s = json.load(open(d + "/summary.json"))
assert len(full) >= 3, len(full)
assert s["totals"]["requests"] == sum(o["count"] for o in full) > 0, (s["totals"], [o["count"] for o in full])
assert s["requests"][0]["name"] == "GET /index.html"
print("ok: killed run rebuilt: %d intervals, %d requests" % (len(full), s["totals"]["requests"]))
PY
echo ok
