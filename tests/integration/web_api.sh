#!/usr/bin/env bash
# web_api.sh - the master's --web control API against a real run (2 in-process workers, testserver):
# scale lowers the users in the next intervals (intervals.jsonl) and is recorded in run.json and on the
# report's charts; stop ends the run early with a report; bad bodies get 400s naming why; POSTs need the
# page's origin or X-Loadctl-Client; cross-origin and foreign Host are refused; no CORS header ever; a
# non-loopback bind without --web-token refuses to start; with a token every API request needs it.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
source "$(dirname "$0")/web_lib.bash"
start_testserver 120
need_engine

# req METHOD PATH [curl args...]: prints "STATUS BODY"
req() {
  local m=$1 p=$2; shift 2
  curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "${URL}${p#/}" >"$T/code"
  echo "$(cat "$T/code") $(cat "$T/body")"
}
expect() { # expect "WHAT" WANT_STATUS WANT_TEXT GOT
  case "$4" in "$2 "*"$3"*) ;; *) fail "$1: want $2 with '$3', got: $4" ;; esac
}
H=(-H 'X-Loadctl-Client: test' -H 'Content-Type: application/json')

# 1. a non-loopback bind without a token refuses to start, before any load
scenario "$T/s.lua" 6 30s
base=$(count)
timeout 20 "$LOADCTL" start "$T/s.lua" --quiet --web 0.0.0.0:0 --out "$T/r0" >"$T/r0.log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "non-loopback --web without --web-token exited $rc, want 1"
grep -q -- "--web-token" "$T/r0.log" || fail "the refusal does not name --web-token: $(cat "$T/r0.log")"
[ "$(count)" = "$base" ] || fail "a refused start sent load"

# 2. a run steered over the API
timeout 60 "$LOADCTL" start "$T/s.lua" --quiet --workers 2 --threads 2 --web 127.0.0.1:0 --out "$T/r1" \
  >"$T/r1.log" 2>&1 &
pid=$!
PIDS+=($pid)
wait_url "$T/r1.log"
for _ in $(seq 1 100); do
  [ -s "$T/r1/intervals.jsonl" ] && grep -q '"users":6' "$T/r1/intervals.jsonl" && break
  sleep 0.1
done
expect "GET /api/stats" 200 '"users":6' "$(req GET /api/stats)"
expect "GET /api/run" 200 '"state":"running"' "$(req GET /api/run)"
expect "GET /" 200 'loadctl live' "$(req GET /)"
expect "GET /assets/chart.js" 200 'var loadctl' "$(req GET /assets/chart.js)"
cmp -s "$T/body" "$LOADCTL_SRC/master/report/assets/chart.js" || fail "the served chart.js is not master/report/assets/chart.js"
expect "POST without origin or client header" 403 "X-Loadctl-Client" "$(req POST /api/scale -d '{"users":2}')"
expect "cross-origin POST" 403 "cross-origin" "$(req POST /api/scale "${H[@]}" -H 'Origin: http://evil.example' -d '{"users":2}')"
expect "foreign Host" 403 "not a loopback name" "$(req GET /api/stats -H 'Host: evil.example')"
expect "OPTIONS preflight" 405 "no CORS" "$(req OPTIONS /api/scale -H 'Origin: http://evil.example')"
expect "not JSON" 400 'body:1:' "$(req POST /api/scale "${H[@]}" -d '{"users":')"
expect "not an object" 400 'must be an object' "$(req POST /api/scale "${H[@]}" -d '[2]')"
expect "unknown key" 400 "unknown key 'usres'" "$(req POST /api/scale "${H[@]}" -d '{"usres":2}')"
expect "both keys" 400 'not both' "$(req POST /api/scale "${H[@]}" -d '{"users":2,"rate":3}')"
expect "negative" 400 'whole number from 0' "$(req POST /api/scale "${H[@]}" -d '{"users":-1}')"
expect "fraction" 400 'whole number' "$(req POST /api/scale "${H[@]}" -d '{"users":2.5}')"
expect "string" 400 'whole number' "$(req POST /api/scale "${H[@]}" -d '{"users":"2"}')"
expect "rate on a closed run" 400 'closed model' "$(req POST /api/scale "${H[@]}" -d '{"rate":5}')"
expect "form body" 400 'not application/json' "$(req POST /api/scale -H 'X-Loadctl-Client: t' -d 'users=2')"
expect "GET on scale" 405 'use POST' "$(req GET /api/scale)"
raw=$(python3 - "$URL" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.create_connection((u.hostname, u.port), timeout=5)
s.sendall(b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n")
print(s.recv(4096).decode(errors="replace").replace("\r\n", " "))
PY
)
case "$raw" in "HTTP/1.1 400 "*'"error"'*) ;; *) fail "a malformed request: $raw" ;; esac
expect "unknown path" 404 'no such page' "$(req GET /nope)"
head -c 70000 /dev/zero | tr '\0' ' ' >"$T/big"
expect "huge body" 413 '64 KiB' "$(req POST /api/scale "${H[@]}" --data-binary @"$T/big")"
curl -s -D "$T/headers" -o /dev/null -H 'Origin: http://evil.example' "${URL}api/stats"
! grep -qi '^access-control' "$T/headers" || fail "a response carries a CORS header"
n_before=$(grep -c '"(all)"' "$T/r1/intervals.jsonl")
expect "scale to 2 users" 200 '"target":2' "$(req POST /api/scale "${H[@]}" -d '{"users":2}')"
for _ in $(seq 1 100); do
  [ "$(grep -c '"(all)"' "$T/r1/intervals.jsonl")" -ge $((n_before + 4)) ] && break
  sleep 0.1
done
at=$(json "$T/r1/run.json" '[c["at_ms"] for c in d["changes"] if c["kind"]=="scale" and c["users"]==2][0]')
users_after=$(python3 - "$T/r1/intervals.jsonl" "$at" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"(all)"' in l]
# intervals that start a full second after the change
print(" ".join(str(r["users"]) for r in rows if r["t"] >= int(sys.argv[2]) + 1000))
PY
)
echo "users in the intervals after the change: $users_after"
[ -n "$users_after" ] || fail "no interval after the change"
for u in $users_after; do [ "$u" = 2 ] || fail "users after scaling to 2: $users_after"; done
grep -m1 '"(all)"' "$T/r1/intervals.jsonl" | grep '"users":6' >/dev/null || fail "the first interval did not have 6 users"
req GET /api/stats >/dev/null
cpu=$(json "$T/body" '[w["cpu"] for w in d["workers"]]')
python3 -c "import sys; v=$cpu; sys.exit(0 if len(v)==2 and all(isinstance(x,(int,float)) and 0<=x<=100*64 for x in v) else 1)" ||
  fail "workers' CPU in /api/stats: $cpu"
expect "stop" 200 '"state":"stopping"' "$(req POST /api/stop "${H[@]}")"
bwait $pid 30
rc=$?
[ $rc -eq 0 ] || fail "the stopped run exited $rc"
[ "$(json "$T/r1/run.json" 'd["status"]')" = aborted ] || fail "run.json status after stop"
kinds=$(json "$T/r1/run.json" '",".join(c["kind"] for c in d["changes"])')
[ "$kinds" = "scale,stop" ] || fail "run.json changes: $kinds"
dur=$(json "$T/r1/summary.json" 'd["totals"]["duration_s"]')
python3 -c "import sys; sys.exit(0 if float('$dur') < 25 else 1)" || fail "the run went on for $dur s after stop"
grep -q '"label":"users 2"' "$T/r1/report.html" || fail "report.html does not mark the change"
grep -q '"label":"stop"' "$T/r1/report.html" || fail "report.html does not mark the stop"

# 3. --web-token: every API request needs the bearer token (the page shell does not)
printf 'abcdefghijklmnop0123456789\n' >"$T/token"
timeout 60 "$LOADCTL" start "$T/s.lua" --quiet --web 127.0.0.1:0 --web-token "$T/token" --out "$T/r2" \
  >"$T/r2.log" 2>&1 &
pid=$!
PIDS+=($pid)
wait_url "$T/r2.log"
grep -q "token required" "$T/r2.log" || fail "the address line does not say a token is required"
expect "no token" 401 'Bearer' "$(req GET /api/stats)"
expect "wrong token" 401 'Bearer' "$(req GET /api/stats -H 'Authorization: Bearer abcdefghijklmnop012345678X')"
expect "stop without token, with the client header" 401 'Bearer' "$(req POST /api/stop "${H[@]}")"
expect "page shell without token" 200 'loadctl live' "$(req GET /)"
AUTH=(-H 'Authorization: Bearer abcdefghijklmnop0123456789')
for _ in $(seq 1 100); do
  case "$(req GET /api/stats "${AUTH[@]}")" in 200*'"state":"running"'*) break ;; esac
  sleep 0.1
done
expect "right token" 200 '"state":"running"' "$(req GET /api/stats "${AUTH[@]}")"
expect "stop with token" 200 'stopping' "$(req POST /api/stop "${AUTH[@]}")"
bwait $pid 30 || fail "the token run did not end after stop"
echo "web_api: ok"
