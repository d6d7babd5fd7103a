#!/usr/bin/env bash
# tags_exact.sh - tags counted exactly across workers (docs/scenario-api.md "Tags"): 4 VUs x 50 iterations
# on 2 workers, each iteration tagging requests kind=static (one of them inside a group tagged
# flow=browse), one untagged, and each VU's first iteration one slow kind=api request (600 ms); options.tags adds
# env=ci to all. summary.json's per-tag counts are exact (api 4, static 400, browse 200, env 604), the
# run's p99 passes "< 500" where p99{kind=api} fails it (exit 99), intervals.jsonl's tagged series add up
# to the same counts, a Trend recorded with tags keeps exact tagged series (cart{kind=big}: 20 of 200
# values), two scenarios (3 VUs x 40 and 70 shared iterations of 2 requests) carry scenario=NAME and
# their tags exactly, `loadctl report` rebuilds the same tags, report.html has the Tags selector, and bad
# tags are refused naming file:line.
# ctest: pair - exact counts; the one latency bound (p99 < 500 ms for 1 ms requests) is generous: may run beside one other such test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

cat >"$T/tags.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "per-vu-iterations", vus = 4, iterations = 50,
  tags = { env = "ci" },
  thresholds = { p99 = "< 500", ["p99{kind=api}"] = "< 500", ["requests{kind=static}"] = "== 400",
                 ["requests{group=assets,flow=browse}"] = "== 200", ["cart{kind=big}"] = "count == 20" } }
local cart = metrics.trend("cart")
task(1, function(vu)
  cart:add(vu.iteration % 10 == 0 and 100 or 1, { kind = vu.iteration % 10 == 0 and "big" or "small" })
  if vu.iteration == 0 then http.get("/delay/600", { name = "api", tags = { kind = "api" } }) end
  http.get("/ok", { name = "logo", tags = { kind = "static" } })
  group("assets", { tags = { flow = "browse" } }, function()
    http.get("/ok", { name = "css", tags = { kind = "static" } })
  end)
  http.get("/ok", { name = "plain" })
end)
LUA
timeout 90 "$LOADCTL" start "$T/tags.lua" --quiet --workers 2 --threads 2 --out "$T/run" >"$T/run.log" 2>&1
rc=$?
[ $rc -eq 99 ] || fail "expected exit 99 (p99{kind=api} fails), got $rc"
S="$T/run/summary.json"
got=$(json "$S" '" ".join(str(d["tags"][k][v]["count"]) for k, v in (("kind","api"),("kind","static"),("flow","browse"),("env","ci")))')
echo "summary.json tags counts (kind=api kind=static flow=browse env=ci): $got"
[ "$got" = "4 400 200 604" ] || fail "per-tag counts should be 4 400 200 604: $got"
keys=$(json "$S" '",".join(sorted(d["tags"]))')
[ "$keys" = "env,flow,kind" ] || fail "tag keys should be env,flow,kind (no scenario tag in a one-scenario run): $keys"
names=$(json "$S" 'd["tags"]["kind"]["static"]["requests"]')
[ "$names" = 2 ] || fail "kind=static was carried by 2 request names (logo, assets::css), summary says $names"
th=$(json "$S" '"; ".join("%s: %s" % (t["expr"], t["ok"]) for t in sorted(d["thresholds"], key=lambda t: t["expr"]))')
echo "thresholds: $th"
want="cart{kind=big} count == 20: True; p99 < 500: True; p99{kind=api} < 500: False; requests{group=assets,flow=browse} == 200: True; requests{kind=static} == 400: True"
[ "$th" = "$want" ] || fail "thresholds should be: $want"
m=$(json "$S" '" ".join("%s:%d:%g" % (m["name"], m["count"], m.get("p95", 0)) for m in sorted(d["metrics"], key=lambda m: m["name"]) if m["name"].startswith("cart"))')
echo "custom metric cart and its tagged series (name:count:p95): $m"
[ "$m" = "cart:200:100 cart{env=ci,kind=big}:20:100 cart{env=ci,kind=small}:180:1" ] || fail "cart's series: $m"
api_p99=$(json "$S" '[t["value"] for t in d["thresholds"] if t["expr"] == "p99{kind=api} < 500"][0]')
echo "p99{kind=api} = $api_p99 ms (each api request waits 600 ms)"
python3 -c "import sys; sys.exit(0 if float('$api_p99') >= 600 else 1)" || fail "p99{kind=api} $api_p99 < 600 ms"

sums=$(python3 - "$T/run/intervals.jsonl" <<'PY'
import json, sys
tot = {}
for line in open(sys.argv[1]):
    for s in json.loads(line).get("tagged", []):
        for k, v in s["tags"].items():
            tot[k + "=" + v] = tot.get(k + "=" + v, 0) + s["count"]
print(tot.get("kind=api"), tot.get("kind=static"), tot.get("flow=browse"), tot.get("env=ci"))
PY
)
echo "intervals.jsonl tagged series summed: $sums"
[ "$sums" = "4 400 200 604" ] || fail "intervals.jsonl's tagged series add up to $sums"

mkdir -p "$T/rebuilt" && cp "$T/run/run.json" "$T/run/intervals.jsonl" "$T/run/latency.hlog" "$T/run/exemplars.jsonl" "$T/rebuilt/"
"$LOADCTL" report "$T/rebuilt" >"$T/report.log" 2>&1
same=$(python3 -c "import json,sys; a,b=(json.load(open(p))['tags'] for p in sys.argv[1:]); print(a == b)" "$S" "$T/rebuilt/summary.json")
[ "$same" = True ] || fail "loadctl report rebuilt other tags than the run wrote"
grep -q 'id="tag-key"' "$T/run/report.html" || fail "report.html has no tag-key selector"
grep -q '<tr data-key="kind">' "$T/run/report.html" || fail "report.html's Tags table has no kind rows"

cat >"$T/scen.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", tags = { env = "ci" },
  scenarios = {
    browse = { executor = "per-vu-iterations", vus = 3, iterations = 40, exec = "browse", tags = { flow = "look" } },
    buy = { executor = "shared-iterations", vus = 2, iterations = 70, exec = "buy" } },
  thresholds = { ["requests{scenario=buy}"] = "== 140", ["requests{scenario=browse, kind=api}"] = "== 120" } }
function browse(vu) http.get("/ok", { name = "list", tags = { kind = "api" } }) end
function buy(vu) http.get("/ok", { name = "cart", tags = { kind = "api" } }); http.get("/ok", { name = "pay" }) end
LUA
timeout 90 "$LOADCTL" start "$T/scen.lua" --quiet --workers 2 --threads 1 --out "$T/scen" >"$T/scen.log" 2>&1 ||
  fail "the two-scenario run exited $? (its {scenario=...} thresholds should pass)"
got=$(json "$T/scen/summary.json" '" ".join(str(d["tags"][k][v]["count"]) for k, v in (("scenario","browse"),("scenario","buy"),("flow","look"),("kind","api"),("env","ci")))')
echo "two scenarios on 2 workers, tags counts (scenario=browse scenario=buy flow=look kind=api env=ci): $got"
[ "$got" = "120 140 120 190 260" ] || fail "scenario tag counts should be 120 140 120 190 260: $got"

printf 'task(1, function(vu) end)\noptions = { users = 1, duration = "1s",\n  tags = { kind = 1 } }\n' >"$T/bad.lua"
msg=$("$LOADCTL" check "$T/bad.lua" 2>&1)
echo "bad options.tags: $msg"
case "$msg" in *"bad.lua:3: option 'tags': tag 'kind': the value must be a string"*) ;; *) fail "no file:line: $msg" ;; esac
cat >"$T/badreq.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "per-vu-iterations", vus = 1, iterations = 1 }
task(1, function(vu)
  http.get("/ok", { tags = { kind = string.rep("x", 65) } })
end)
LUA
timeout 60 "$LOADCTL" start "$T/badreq.lua" --quiet --threads 1 --out "$T/badreq" >"$T/badreq.log" 2>&1
grep -q "badreq.lua:3: http.get(): tag 'kind': a tag value is a string of 1 to 64 bytes" "$T/badreq/failures.csv" ||
  fail "a bad request tag is not reported with file:line: $(cat "$T/badreq/failures.csv")"
echo "ok: per-tag counts exact across 2 workers, threshold selectors, intervals, rebuild, report, errors"
