#!/usr/bin/env bash
# profile_pprof.sh - the pprof collectors against the real Go shop: back-to-back CPU windows while another
# client holds the CPU profiler (Go's 500 "cpu profiling already in use" -> gap windows, retried), mutex
# delta windows, every saved window decodes, and `go tool pprof -top` opens our merged profile.
set -euo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go"; exit 77; }
command -v hey >/dev/null || { echo "skip: no hey"; exit 77; }
TOOL=$LOADCTL_BUILD/pprof_tool
WORK=$(mktemp -d /tmp/loadctl-profile-pprof-XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export SHOP_BIN=$LOADCTL_BUILD/shop SHOP_PIDFILE=$WORK/shop.pid SHOP_LOG=$WORK/shop.log SHOP_DURATION=60s
export SHOP_ADDR=127.0.0.1:$(port) SHOP_PPROF_ADDR=127.0.0.1:$(port)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  "$LOADCTL_SRC/scripts/shop" stop
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$WORK/profiles/index.jsonl" 2>/dev/null || true; exit 1; }

"$LOADCTL_SRC/scripts/shop" start --reindex-every=100h >/dev/null
TOKEN=$(curl -fsS -XPOST -d '{"user":"it"}' "http://$SHOP_ADDR/api/session" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
python3 -c 'import json;print(json.dumps({"items":[{"book_id":i+1,"qty":1} for i in range(30)]}))' >"$WORK/big.json"

# load for 8 s: large-cart checkouts (CPU in main.fraudScore, labelled) and add-to-cart (the global lock)
hey -z 8s -c 3 -m POST -H "Authorization: Bearer $TOKEN" \
  -H 'baggage: loadctl.name=POST%20%2Fapi%2Forders,k6.name=POST%20%2Fapi%2Forders' \
  -D "$WORK/big.json" "http://$SHOP_ADDR/api/orders" >"$WORK/hey1.txt" &
PIDS+=($!)
hey -z 8s -c 4 -m POST -H "Authorization: Bearer $TOKEN" -d '{"book_id":3,"qty":1}' \
  "http://$SHOP_ADDR/api/cart" >"$WORK/hey2.txt" &
PIDS+=($!)
# someone else holds the CPU profiler for the first 3 s
curl -fsS -o "$WORK/other.pb.gz" "http://$SHOP_PPROF_ADDR/debug/pprof/profile?seconds=3" &
PIDS+=($!)
sleep 0.3
"$TOOL" collect "$WORK/profiles" 7 \
  pprof "http://$SHOP_PPROF_ADDR/debug/pprof/profile" cpu 2 \
  pprof "http://$SHOP_PPROF_ADDR/debug/pprof/mutex" cpu 2 | tee "$WORK/collect.txt"
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()

IDX=$WORK/profiles/index.jsonl
[ -s "$IDX" ] || fail "no index.jsonl"
gaps=$(grep '"type":"cpu"' "$IDX" | grep '"status":"gap"' | grep -c 'cpu profiling already in use' || true)
okcpu=$(grep '"type":"cpu"' "$IDX" | grep -c '"status":"ok"' || true)
okmutex=$(grep '"type":"mutex"' "$IDX" | grep -c '"status":"ok"' || true)
errors=$(grep -c '"status":"error"' "$IDX" || true)
echo "cpu gaps (busy) $gaps, cpu ok $okcpu, mutex ok $okmutex, errors $errors"
[ "$gaps" -ge 2 ] || fail "expected >= 2 busy-profiler gaps, got $gaps"
[ "$okcpu" -ge 1 ] && [ "$okcpu" -le 3 ] || fail "expected 1..3 ok CPU windows, got $okcpu"
[ "$okmutex" -ge 2 ] || fail "expected >= 2 mutex delta windows, got $okmutex"
[ "$errors" -eq 0 ] || fail "unexpected error windows"
grep -q 'stop took [0-9]\{1,3\} ms' "$WORK/collect.txt" || fail "stop took too long: $(cat "$WORK/collect.txt")"

# every saved window decodes; CPU windows are dominated by main.fraudScore, mutex by main.inventoryReserve
cpu_files=() mutex_files=()
while read -r f; do cpu_files+=("$WORK/profiles/$f"); done < <(grep '"type":"cpu"' "$IDX" | grep '"status":"ok"' | sed 's/.*"file":"\([^"]*\)".*/\1/')
while read -r f; do mutex_files+=("$WORK/profiles/$f"); done < <(grep '"type":"mutex"' "$IDX" | grep '"status":"ok"' | sed 's/.*"file":"\([^"]*\)".*/\1/')
for f in "${cpu_files[@]}" "${mutex_files[@]}"; do "$TOOL" info "$f" >/dev/null || fail "$f does not decode"; done
"$TOOL" merge "$WORK/cpu.pb.gz" "${cpu_files[@]}"
"$TOOL" info "$WORK/cpu.pb.gz" cpu >"$WORK/cpu.txt"
top=$(grep -m1 '^self [0-9]* cum [0-9]* ' "$WORK/cpu.txt" | sed 's/^self [0-9]* cum [0-9]* //')
[ "$top" = "main.fraudScore" ] || fail "top CPU function is '$top', want main.fraudScore"
"$TOOL" merge "$WORK/mutex.pb.gz" "${mutex_files[@]}"
"$TOOL" info "$WORK/mutex.pb.gz" delay >"$WORK/mutex.txt"
total=$(sed -n 's/^total //p' "$WORK/mutex.txt")
cum=$(sed -n 's/^cum \([0-9]*\) main.inventoryReserve$/\1/p' "$WORK/mutex.txt")
[ -n "$cum" ] && [ "$total" -gt 0 ] && [ $((cum * 100 / total)) -ge 90 ] ||
  fail "main.inventoryReserve has ${cum:-0} of $total ns mutex delay, want >= 90 %"

# label filter: the orders' samples carry loadctl.name
"$TOOL" filter "$WORK/cpu.pb.gz" loadctl.name "POST /api/orders" "$WORK/orders.pb.gz" | grep '^kept [1-9]' >/dev/null ||
  fail "no samples labelled loadctl.name=POST /api/orders"

# go tool pprof reads our encoding of the merged profile
go tool pprof -top "$WORK/cpu.pb.gz" >"$WORK/top.txt" 2>&1 || fail "go tool pprof failed: $(cat "$WORK/top.txt")"
grep -E -m1 '^ +[0-9.]+m?s +[0-9.]+% .* main\.fraudScore$' "$WORK/top.txt" >/dev/null ||
  fail "go tool pprof -top lacks main.fraudScore: $(head -20 "$WORK/top.txt")"
first=$(awk '/flat%/{getline; print $NF; exit}' "$WORK/top.txt")
[ "$first" = "main.fraudScore" ] || fail "go tool pprof -top first line is $first"
go tool pprof -tagfocus='loadctl.name=POST /api/orders' -top "$WORK/cpu.pb.gz" 2>&1 | grep 'main.fraudScore' >/dev/null ||
  fail "go tool pprof -tagfocus on our labels found nothing"
# every other profile Go serves decodes too, with its own sample type
for spec in heap:inuse_space allocs:alloc_space block:delay goroutine:goroutine threadcreate:threadcreate; do
  t=${spec%%:*} want=${spec#*:}
  curl -fsS -o "$WORK/$t.pb.gz" "http://$SHOP_PPROF_ADDR/debug/pprof/$t"
  "$TOOL" info "$WORK/$t.pb.gz" "$want" >"$WORK/$t.txt" || fail "$t profile does not decode"
  [ "$(sed -n 's/^total //p' "$WORK/$t.txt")" -gt 0 ] || fail "$t profile has no $want"
done
echo "profile_pprof: ok ($okcpu cpu windows, $gaps busy gaps, $okmutex mutex windows)"
