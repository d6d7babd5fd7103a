#!/usr/bin/env bash
# web_next.sh - `loadctl master --web` serves run after run: a worker stays connected, the first run ends,
# the page stays up at the same address (state idle, the last run's report served), POST /api/next starts
# another run with other users and duration, whose intervals and run.json show them; /api/next during a
# run answers 409, scale between runs 409; Ctrl-C (SIGINT) between runs leaves with the last run's code.
# With node, npm and chromium (playwright-core as in web_browser.sh) the next run is started from the page's
# form in headless Chromium and the page follows it; without them, by curl (said in the output).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
source "$(dirname "$0")/web_lib.bash"
start_testserver 120
need_engine
scenario "$T/s.lua" 2 3s
P=$(free_port)
"$LOADCTL" worker --master "tcp://127.0.0.1:$P" --threads 1 --id stay --orphan-timeout 60s >"$T/worker.log" 2>&1 &
PIDS+=($!)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --expect-timeout 20s --quiet \
  --out "$T/run" --web 127.0.0.1:0 >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
req() { # METHOD PATH [curl args]: "STATUS BODY"
  local m=$1 p=$2; shift 2
  curl -s -o "$T/body" -w '%{http_code}' -X "$m" "$@" "${URL}${p#/}" >"$T/code"
  echo "$(cat "$T/code") $(cat "$T/body")"
}
H=(-H 'X-Loadctl-Client: test' -H 'Content-Type: application/json')
wait_url "$T/master.log"
case "$URL" in *:0/) fail "the page's port was not fixed before the first run: $URL" ;; esac
for _ in $(seq 1 100); do case "$(req GET /api/run)" in *'"state":"running"'*) break ;; esac; sleep 0.1; done
case "$(req POST /api/next "${H[@]}" -d '{"users":3}')" in "409 "*"stop it first"*) ;; *) fail "next during a run: $(cat "$T/code") $(cat "$T/body")" ;; esac
# the first run ends by itself; the page then says idle at the same address
for _ in $(seq 1 150); do case "$(req GET /api/run)" in *'"state":"idle"'*) break ;; esac; sleep 0.1; done
r=$(req GET /api/run)
case "$r" in "200 "*'"state":"idle"'*'"next":true'*) ;; *) fail "between runs /api/run: $r" ;; esac
case "$(req GET /report.html)" in "200 "*"loadctl report"*) ;; *) fail "the last run's report is not served between runs" ;; esac
case "$(req POST /api/scale "${H[@]}" -d '{"users":1}')" in "409 "*idle*) ;; *) fail "scale between runs: $(cat "$T/body")" ;; esac
case "$(req POST /api/next "${H[@]}" -d '{"users":3,"duration":"bogus"}')" in "400 "*duration*) ;; *) fail "bad duration: $(cat "$T/body")" ;; esac
if have_chromium; then
  echo "next run from the page (headless Chromium)"
  NODE_PATH="$NPM_DIR/node_modules" timeout 90 node "$LOADCTL_SRC/tests/integration/web/next.js" "$URL" 3 2s \
    "$T/next.png" >"$T/next.out" 2>"$T/next.log" || fail "browser: $(cat "$T/next.log")"
  cat "$T/next.out"
  [ "$(awk '$1=="errors" {print $2}' "$T/next.out")" = 0 ] || fail "script errors on the page"
  [ "$(awk '$1=="old_run" {print $2}' "$T/next.out")" != "$(awk '$1=="new_run" {print $2}' "$T/next.out")" ] ||
    fail "the page did not follow the next run"
  [ -n "${WEB_SHOTS:-}" ] && cp "$T/next.png" "$WEB_SHOTS/"
else
  echo "next run by curl (no node/chromium/playwright-core for the page's form)"
  r=$(req POST /api/next "${H[@]}" -d '{"users":3,"duration":"2s"}')
  case "$r" in "200 "*'"target":3'*) ;; *) fail "next run: $r" ;; esac
fi
for _ in $(seq 1 200); do [ -f "$T/run-2/summary.json" ] && break; sleep 0.1; done
[ -f "$T/run-2/summary.json" ] || fail "the second run wrote no summary (run-2)"
users=$(json "$T/run-2/run.json" 'd["options"]["users"]')
dur=$(json "$T/run-2/run.json" 'd["options"]["duration_s"]')
[ "$users" = 3.0 ] && [ "$dur" = 2.0 ] || fail "second run's options: users $users duration $dur"
max_users=$(python3 -c "import json,sys; print(max(json.loads(l)['users'] for l in open(sys.argv[1]) if '\"(all)\"' in l))" "$T/run-2/intervals.jsonl")
[ "$max_users" = 3 ] || fail "second run's intervals: max users $max_users, want 3"
[ "$(json "$T/run/run.json" 'd["options"]["users"]')" = 2.0 ] || fail "first run's options changed"
for _ in $(seq 1 100); do case "$(req GET /api/run)" in *'"state":"idle"'*) break ;; esac; sleep 0.1; done
kill -INT $M
bwait $M 20; rc=$?
[ $rc -eq 0 ] || fail "master exited $rc after Ctrl-C between runs, want the last run's 0"
echo "web_next: ok"
