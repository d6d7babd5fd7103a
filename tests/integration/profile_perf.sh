#!/usr/bin/env bash
# profile_perf.sh - the `command` profile source with real `perf record -F 99 -g -p PID` + `perf script` on a
# native target (tests/targets/profile_burn: 75 % of its CPU in burn_hot, 25 % in burn_cold), folded by our
# own code and cut by sample time into 1 s windows (master/profile/perfsplit.c); skipped (77) where perf
# cannot record here.
set -euo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
TOOL=$LOADCTL_BUILD/pprof_tool
BURN=$LOADCTL_BUILD/profile_burn
WORK=$(mktemp -d /tmp/loadctl-profile-perf-XXXXXX)
BURN_PID=
cleanup() {
  [ -n "$BURN_PID" ] && kill "$BURN_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$WORK/profiles/index.jsonl" "$WORK"/profiles/*.stderr 2>/dev/null || true; exit 1; }

command -v perf >/dev/null || { echo "skip: no perf"; exit 77; }
if ! perf record -F 99 -g -o "$WORK/probe.data" -- true >/dev/null 2>&1; then
  echo "skip: perf cannot record here (perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid))"
  exit 77
fi

"$BURN" 9 >/dev/null &
BURN_PID=$!
CMD="perf record -F 99 -g -p $BURN_PID -o $WORK/perf.data -- sleep \$LOADCTL_WINDOW_S && perf script -i $WORK/perf.data"
# 8 s of 2 s windows: on a loaded machine perf script can take seconds after each window
"$TOOL" collect "$WORK/profiles" 8 command "$CMD" folded 2 | tee "$WORK/collect.txt"
kill "$BURN_PID" 2>/dev/null || true
wait "$BURN_PID" 2>/dev/null || true
BURN_PID=

IDX=$WORK/profiles/index.jsonl
ok=$(grep -c '"status":"ok"' "$IDX" || true)
# 1..4 commands of 2 s in 8 s, each cut into the wall-clock seconds its samples fall in (2 or 3 each)
[ "$ok" -ge 2 ] && [ "$ok" -le 12 ] || fail "expected 2..12 ok perf windows of <= 1 s in 8 s, got $ok"
longest=$(grep '"status":"ok"' "$IDX" | sed 's/.*"start_ms":\([0-9]*\),"end_ms":\([0-9]*\).*/\2 \1/' |
  awk '{ d = $1 - $2; if (d > m) m = d } END { print m + 0 }')
[ "$longest" -le 1000 ] || fail "a perf window lasts $longest ms, want <= 1000 (split by sample time)"
files=()
while read -r f; do files+=("$WORK/profiles/$f"); done < <(grep '"status":"ok"' "$IDX" | sed 's/.*"file":"\([^"]*\)".*/\1/')
for f in "${files[@]}"; do
  case "$f" in *-command-folded.folded) ;; *) fail "unexpected file name $f" ;; esac
done
"$TOOL" merge "$WORK/all.pb.gz" "${files[@]}"
"$TOOL" info "$WORK/all.pb.gz" >"$WORK/info.txt"
cat "$WORK/info.txt" | head -6
total=$(sed -n 's/^total //p' "$WORK/info.txt")
hot=$(sed -n 's/^self \([0-9]*\) cum [0-9]* burn_hot$/\1/p' "$WORK/info.txt")
cold=$(sed -n 's/^self \([0-9]*\) cum [0-9]* burn_cold$/\1/p' "$WORK/info.txt")
# 99 Hz x 2 s of CPU per window: about 198 samples each when the burner has its core, fewer when the
# machine is shared (the burner gets less CPU); 30 a window still shows perf sampled it throughout
[ "$total" -ge $((15 * ok)) ] || fail "only $total samples in $ok windows"
share=$((100 * ${hot:-0} / total))
echo "perf: $total samples, burn_hot $hot ($share %), burn_cold ${cold:-0}"
[ "$share" -ge 62 ] && [ "$share" -le 88 ] || fail "burn_hot share $share %, want 75 +- 13"
[ $((100 * ${cold:-0} / total)) -ge 12 ] || fail "burn_cold share too low"
grep -q '^cum [0-9]* profile_burn$' "$WORK/info.txt" || fail "the command name is not the root frame"
echo "profile_perf: ok"
