#!/usr/bin/env bash
# profile_shop.sh - the demo shop's known answers: exact /debug/count, and each planted fault present with
# its flag on and gone with it off: (a) main.fraudScore makes large-cart checkouts slow, (b)
# main.reindexCatalog burns CPU periodically, (c) main.inventoryReserve shows in the mutex profile.
set -euo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go"; exit 77; }
command -v hey >/dev/null || { echo "skip: no hey"; exit 77; }
TOOL=$LOADCTL_BUILD/pprof_tool
WORK=$(mktemp -d /tmp/loadctl-profile-shop-XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export SHOP_BIN=$LOADCTL_BUILD/shop SHOP_PIDFILE=$WORK/shop.pid SHOP_LOG=$WORK/shop.log SHOP_DURATION=60s
export SHOP_ADDR=127.0.0.1:$(port) SHOP_PPROF_ADDR=127.0.0.1:$(port)
SHOP="$LOADCTL_SRC/scripts/shop"
cleanup() { "$SHOP" stop; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 -c 'import json;print(json.dumps({"items":[{"book_id":i+1,"qty":1} for i in range(35)]}))' >"$WORK/big.json"
echo '{"items":[{"book_id":1,"qty":1},{"book_id":2,"qty":2}]}' >"$WORK/small.json"

login() { curl -fsS -XPOST -d '{"user":"it"}' "http://$SHOP_ADDR/api/session" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])'; }
# ms of the fastest of 5 checkouts with body file $1: the code's own cost (a loaded machine only adds to it;
# the median of 5 read 6 ms for a 5 ms bound with the faults off at load 9)
order_ms() {
  local t=$1 f=$2
  for _ in 1 2 3 4 5; do
    curl -fsS -o /dev/null -w '%{time_total}\n' -XPOST -H "Authorization: Bearer $t" -d @"$f" "http://$SHOP_ADDR/api/orders"
  done | sort -n | sed -n 1p | awk '{printf "%d", $1 * 1000}'
}
# ns of mutex delay in main.inventoryReserve while 8 clients add to cart for 2 s
mutex_ns() {
  local t=$1
  curl -fsS -o "$WORK/mutex.pb.gz" "http://$SHOP_PPROF_ADDR/debug/pprof/mutex?seconds=3" &
  local cp=$!
  sleep 0.2
  hey -z 2s -c 8 -m POST -H "Authorization: Bearer $t" -d '{"book_id":3,"qty":1}' "http://$SHOP_ADDR/api/cart" >/dev/null
  wait $cp
  "$TOOL" info "$WORK/mutex.pb.gz" delay | sed -n 's/^cum \([0-9]*\) main.inventoryReserve$/\1/p' | grep . || echo 0
}
# percent of CPU samples under main.reindexCatalog over 4 s (idle shop, reindex every 2 s for 1 s)
reindex_pct() {
  curl -fsS -o "$WORK/cpu.pb.gz" "http://$SHOP_PPROF_ADDR/debug/pprof/profile?seconds=4"
  "$TOOL" info "$WORK/cpu.pb.gz" cpu >"$WORK/cpu.txt"
  local total cum
  total=$(sed -n 's/^total //p' "$WORK/cpu.txt")
  cum=$(sed -n 's/^cum \([0-9]*\) main.reindexCatalog$/\1/p' "$WORK/cpu.txt" | grep . || echo 0)
  echo $((total > 0 ? 100 * cum / total : 0)) "$cum"
}

# ---- faults on
"$SHOP" start --reindex-every=2s --reindex-for=1s >/dev/null
T=$(login)
curl -fsS "http://$SHOP_ADDR/debug/count?reset=1" >/dev/null
for i in $(seq 1 17); do curl -fsS -o /dev/null "http://$SHOP_ADDR/api/books?page=$i"; done
for i in 1 2 3; do curl -fsS -o /dev/null "http://$SHOP_ADDR/api/books/$i"; done
curl -fsS -o /dev/null -XPOST -H "Authorization: Bearer $T" -d '{"book_id":5}' "http://$SHOP_ADDR/api/cart"
code=$(curl -sS -o /dev/null -w '%{http_code}' -XPOST -H "Authorization: Bearer $T" -d @"$WORK/small.json" "http://$SHOP_ADDR/api/orders")
[ "$code" = 201 ] || fail "checkout answered $code, want 201"
counts=$(curl -fsS "http://$SHOP_ADDR/debug/count")
echo "counts: $counts"
python3 - "$counts" <<'PY' || fail "exact counts differ"
import json, sys
c = json.loads(sys.argv[1])
want = {"GET /api/books": 17, "GET /api/books/id": 3, "POST /api/cart": 1, "POST /api/orders": 1, "total": 22}
bad = {k: (c.get(k), v) for k, v in want.items() if c.get(k) != v}
sys.exit(1 if bad else 0)
PY
big_on=$(order_ms "$T" "$WORK/big.json")
small_on=$(order_ms "$T" "$WORK/small.json")
mutex_on=$(mutex_ns "$T")
read -r reindex_on reindex_on_ns < <(reindex_pct)
"$SHOP" stop

# ---- faults off
"$SHOP" start --no-faults --reindex-every=2s --reindex-for=1s >/dev/null
T=$(login)
big_off=$(order_ms "$T" "$WORK/big.json")
mutex_off=$(mutex_ns "$T")
read -r reindex_off _ < <(reindex_pct)
"$SHOP" stop

echo "fault (a) checkout 35 items: ${big_on} ms on, ${big_off} ms off; 2 items: ${small_on} ms"
echo "fault (b) reindexCatalog CPU share: ${reindex_on} % on (${reindex_on_ns} ns), ${reindex_off} % off"
echo "fault (c) inventoryReserve mutex delay: ${mutex_on} ns on, ${mutex_off} ns off"
[ "$big_on" -ge 15 ] && [ "$big_on" -ge $((5 * (small_on + 1))) ] || fail "(a) large carts not slow enough"
[ "$big_off" -le 5 ] || fail "(a) large carts slow with --fault-cart=false"
[ "$reindex_on" -ge 50 ] || fail "(b) reindexCatalog only $reindex_on % of CPU"
[ "$reindex_off" -eq 0 ] || fail "(b) reindexCatalog present with --fault-reindex=false"
[ "$mutex_on" -ge 500000000 ] || fail "(c) only $mutex_on ns mutex delay in inventoryReserve"
[ "$mutex_off" -le $((mutex_on / 20)) ] || fail "(c) mutex delay with --fault-lock=false is $mutex_off ns"
echo "profile_shop: ok"
