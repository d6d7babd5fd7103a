#!/usr/bin/env bash
# profile_checkout.sh - end to end: `loadctl start scenarios/checkout.lua` against the demo shop with all
# faults on; the run directory gets profiles/ as the run goes (CPU and mutex windows back to back, an
# index), every saved window decodes, the CPU samples carry the scenario's request names (baggage ->
# pprof labels), and the shop's planted functions are in them. Also: loadctl's per-request counts agree
# with the shop's own (/debug/count), up to one request in flight per user at the end.
# ctest: pair - counts, windows and functions present, no timing bound: may run beside one other such test
set -euo pipefail
: "${LOADCTL:?}" "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go"; exit 77; }
TOOL=$LOADCTL_BUILD/pprof_tool
WORK=$(mktemp -d /tmp/loadctl-profile-checkout-XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export SHOP_BIN=$LOADCTL_BUILD/shop SHOP_PIDFILE=$WORK/shop.pid SHOP_LOG=$WORK/shop.log SHOP_DURATION=90s
export SHOP_ADDR=127.0.0.1:$(port) SHOP_PPROF_ADDR=127.0.0.1:$(port)
cleanup() { "$LOADCTL_SRC/scripts/shop" stop; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$WORK/run/profiles/index.jsonl" 2>/dev/null | head -20 || true; exit 1; }

"$LOADCTL_SRC/scripts/shop" start --reindex-every=5s --reindex-for=2s >/dev/null
curl -fsS "http://$SHOP_ADDR/debug/count?reset=1" >/dev/null
set +e
"$LOADCTL" start "$LOADCTL_SRC/scenarios/checkout.lua" --duration 16s --users 20 --out "$WORK/run" >"$WORK/out.txt" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || { cat "$WORK/out.txt"; fail "loadctl start exited $rc"; }
IDX=$WORK/run/profiles/index.jsonl
[ -s "$IDX" ] || fail "no profiles/index.jsonl in the run directory"
okcpu=$(grep '"type":"cpu"' "$IDX" | grep -c '"status":"ok"' || true)
okmutex=$(grep '"type":"mutex"' "$IDX" | grep -c '"status":"ok"' || true)
echo "windows: cpu ok $okcpu, mutex ok $okmutex, all $(wc -l <"$IDX")"
[ "$okcpu" -ge 2 ] || fail "expected >= 2 CPU windows of 2 s in 16 s, got $okcpu"
[ "$okmutex" -ge 2 ] || fail "expected >= 2 mutex windows, got $okmutex"
files=()
while read -r f; do files+=("$WORK/run/profiles/$f"); done < <(grep '"type":"cpu"' "$IDX" | grep '"status":"ok"' | sed 's/.*"file":"\([^"]*\)".*/\1/')
"$TOOL" merge "$WORK/cpu.pb.gz" "${files[@]}" >/dev/null || fail "CPU windows do not merge"
"$TOOL" info "$WORK/cpu.pb.gz" cpu >"$WORK/cpu.txt"
grep -q ' main.fraudScore$' "$WORK/cpu.txt" || fail "main.fraudScore not in the CPU profile"
grep -q ' main.reindexCatalog$' "$WORK/cpu.txt" || fail "main.reindexCatalog not in the CPU profile"
"$TOOL" filter "$WORK/cpu.pb.gz" loadctl.name "POST /api/orders" "$WORK/orders.pb.gz" | grep '^kept [1-9]' >/dev/null ||
  fail "no CPU samples labelled loadctl.name=POST /api/orders (baggage -> pprof labels)"
"$TOOL" info "$WORK/orders.pb.gz" cpu | grep ' main.fraudScore$' >/dev/null || fail "orders' samples lack main.fraudScore"

# the terminal's final summary lists the top findings after the thresholds, one line each, as in summary.json
python3 - "$WORK/run/summary.json" "$WORK/out.txt" <<'PY' || { cat "$WORK/out.txt"; fail "findings not listed in the terminal"; }
import json, re, sys
found = json.load(open(sys.argv[1]))["findings"]
out = open(sys.argv[2]).read()
start, th = out.find("\nfindings"), out.find("threshold ")
assert start > 0 and (th < 0 or th < start), "no 'findings' section after the thresholds"
lines = [l for l in out[start:].split("\n")[1:] if re.match(r"  \d+\. ", l)]
want = found[:5]
print(f"terminal lists {len(lines)} finding(s); summary.json has {len(found)}")
assert len(lines) == len(want), f"{len(lines)} lines for {len(want)} findings"
for line, f in zip(lines, want):
    assert f["kind"] in line and (f.get("function") or "") [:40] in line, f"{line!r} is not {f}"
if not found: assert "findings: none" in out
PY
curl -fsS "http://$SHOP_ADDR/debug/count" >"$WORK/count.json"
python3 - "$WORK/run/summary.json" "$WORK/count.json" 20 <<'PY' || fail "loadctl's counts disagree with the shop's"
import json, sys
summary, shop, users = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
names = {"GET /api/books": "GET /api/books", "GET /api/books/{id}": "GET /api/books/id",
         "POST /api/cart": "POST /api/cart", "POST /api/orders": "POST /api/orders",
         "POST /api/session": "POST /api/session"}
ours = {r["name"]: r["count"] for r in summary["requests"]}
bad = 0
for name, key in names.items():
    n, want = ours.get(name, 0), shop[key]
    print(f"{name}: loadctl {n}, shop {want}")
    if not (want - users <= n <= want) or want == 0:
        bad += 1
total = summary["totals"]["requests"]
print(f"total: loadctl {total}, shop {shop['total']}")
sys.exit(1 if bad or not (shop["total"] - users <= total <= shop["total"]) else 0)
PY
echo "profile_checkout: ok"
