#!/usr/bin/env bash
# web_browser.sh - the live page in headless Chromium (playwright-core from npm) during a real run: the
# per-name table updates, setting users lower from the page shows in the next intervals (intervals.jsonl),
# stop ends the run and the page shows the report's link; no script error. Screenshots go to
# $WEB_SHOTS when set. Skips (77) without node/npm, chromium, or when npm cannot fetch playwright-core.
# ctest: light - no timing-sensitive assertion (users and events read from run.json): may run beside other light tests
source "$(dirname "$0")/dist_lib.bash"
source "$(dirname "$0")/web_lib.bash"
need_chromium
start_testserver 120
need_engine

cat >"$T/s.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 6, duration = "60s" }
task(1, function(vu) http.get("/ok", {name = "GET ok"}) sleep(0.005) end)
LUA
timeout 90 "$LOADCTL" start "$T/s.lua" --quiet --workers 2 --threads 2 --web 127.0.0.1:0 --out "$T/run" \
  >"$T/run.log" 2>&1 &
pid=$!
PIDS+=($pid)
wait_url "$T/run.log"
mkdir -p "$T/shots"
NODE_PATH="$NPM_DIR/node_modules" timeout 120 node "$LOADCTL_SRC/tests/integration/web/browser.js" "$URL" "$T/shots" \
  >"$T/browser.out" 2>"$T/browser.log" || fail "browser run: $(cat "$T/browser.log")"
cat "$T/browser.out"
get() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print; exit}' "$T/browser.out"; }
read -r a b <<<"$(get table)"
[ "$a" -gt 0 ] && [ "$b" -gt "$a" ] || fail "the table did not update: requests $a then $b"
[ "$(get name)" = "GET ok" ] || fail "table row name: $(get name)"
[ "$(get users_card)" = 2 ] || fail "users card after scaling: $(get users_card)"
[ "$(get svg)" -ge 3 ] || fail "charts drawn: $(get svg)"
[ "$(get marks)" -ge 2 ] || fail "change marks on the charts: $(get marks)"
case "$(get final)" in *"The run ended (aborted)"*report.html*) ;; *) fail "final text: $(get final)" ;; esac
[ "$(get report_href)" = /report.html ] || fail "report link: $(get report_href)"
[ "$(get errors)" = 0 ] || fail "script errors: $(get errors)"
bwait $pid 30 || fail "the run did not end after stop"
[ -s "$T/run/report.html" ] || fail "no report.html"
at=$(json "$T/run/run.json" '[c["at_ms"] for c in d["changes"] if c["kind"]=="scale"][0]')
stop=$(json "$T/run/run.json" '[c["at_ms"] for c in d["changes"] if c["kind"]=="stop"][0]')
src=$(json "$T/run/run.json" '",".join(c["kind"] + ":" + c["source"] for c in d["changes"])')
[ "$src" = "scale:web,stop:web" ] || fail "run.json changes: $src"
read -r before after <<<"$(python3 - "$T/run/intervals.jsonl" "$at" "$stop" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"(all)"' in l]
at, stop = int(sys.argv[2]), int(sys.argv[3])
# whole intervals before the change (after the first, which ramps), and between the change and the stop
before = {r["users"] for r in rows if r["t"] + r["interval_ms"] <= at and r["t"] > rows[0]["t"]}
after = [r["users"] for r in rows if r["t"] >= at + 1000 and r["t"] + r["interval_ms"] <= stop]
print(",".join(map(str, sorted(before))), ",".join(map(str, after)))
PY
)"
echo "users before the change: $before; after: $after"
[ "$before" = 6 ] || fail "users before the change: $before (want 6)"
[ -n "$after" ] || fail "no interval after the change"
[ -z "$(echo "$after" | tr ',' '\n' | grep -vx 2)" ] || fail "users after the change: $after (want 2)"
[ -n "${WEB_SHOTS:-}" ] && cp "$T/shots/"*.png "$WEB_SHOTS/"
echo "web_browser: ok"
