#!/usr/bin/env bash
# faults_disk.sh - disk full under the run directory (docs/faults.md "disk full"): the run directory is on a
# 256 KiB tmpfs that 60 request names fill within a few intervals. The master says which file it could not
# write and why, keeps the run and the live view going (the final summary still counts every request the
# target served), exits 2, and leaves nothing half-written: every streaming file ends at a full line, each
# interval is in all of them or in none, no .tmp files are left, and `loadctl report` rebuilds a copy.
# Needs root to mount a tmpfs (else exit 77, saying so); unmounted whatever happens.
# ctest: light - no timing-sensitive assertion (counts and files): may run beside other light tests
source "$(dirname "$0")/dist_lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to mount a tmpfs"; exit 77; }
MNT=$T/mnt
disk_cleanup() {
  mountpoint -q "$MNT" 2>/dev/null && umount -l "$MNT"
  cleanup
}
trap disk_cleanup EXIT
mkdir -p "$MNT"
mount -t tmpfs -o size=256k tmpfs "$MNT" 2>"$T/mount.err" || { echo "SKIP: cannot mount a tmpfs here: $(cat "$T/mount.err")"; exit 77; }
start_testserver 60
need_engine
cat >"$T/s.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 4, duration = "6s" }
task(1, function(vu) http.get("/delay/2", {name = "GET n" .. math.random(60)}) end)
LUA
base=$(count)
t0=$(date +%s)
"$LOADCTL" start "$T/s.lua" --threads 1 --out "$MNT/run" >"$T/out.txt" 2>"$T/err.log" &
S=$!; PIDS+=($S)
bwait $S 40; rc=$?
served=$(( $(count) - base ))
echo "loadctl start exited $rc after $(( $(date +%s) - t0 )) s; tmpfs: $(df -k --output=used,size "$MNT" | tail -1)"
cat "$T/err.log"

r_code=pass; [ $rc -eq 2 ] || r_code=fail
echo "case: exit code on disk full result=$r_code (exit $rc, want 2)"
r_log=pass
grep -q "cannot write the run directory: $MNT/run/[a-z_]*\.[a-z]*: No space left on device" "$T/err.log" || r_log=fail
[ "$(grep -c "cannot write the run directory" "$T/err.log")" = 1 ] || r_log=fail # said once, not per interval
read -r unwritten total_iv < <(sed -n 's/.*master: \([0-9]*\) of \([0-9]*\) interval(s) could not be written.*/\1 \2/p' "$T/err.log")
[ -n "${unwritten:-}" ] || r_log=fail
echo "case: write failure logged naming the file result=$r_log ($(grep -o "run directory: [^;]*" "$T/err.log" | head -1))"
live_lines=$(grep -c '^\[.*\] users=' "$T/out.txt")
final=$(awk '$1 == "total" {print $2}' "$T/out.txt")
r_live=pass
[ -n "${unwritten:-}" ] && [ "$unwritten" -ge 1 ] && [ "$unwritten" -lt "$total_iv" ] && [ "$live_lines" -ge "$total_iv" ] || r_live=fail
[ "$final" = "$served" ] || r_live=fail
echo "case: run and live view go on result=$r_live ($live_lines live lines, ${unwritten:-?} of ${total_iv:-?} intervals not on disk, final summary $final requests, target served $served)"

r_files=pass
ls "$MNT/run"/*.tmp >/dev/null 2>&1 && { echo "left over: $(ls "$MNT/run"/*.tmp)"; r_files=fail; }
python3 - "$MNT/run" <<'PY' || r_files=fail
import json, os, sys
d = sys.argv[1]
for f in ("intervals.jsonl", "exemplars.jsonl", "latency.hlog", "stats_history.csv"):
    raw = open(os.path.join(d, f)).read()
    assert raw == "" or raw.endswith("\n"), f + " ends mid-line"
lines = [json.loads(l) for l in open(os.path.join(d, "intervals.jsonl"))]  # every line complete JSON
for l in open(os.path.join(d, "exemplars.jsonl")):
    json.loads(l)
alls = [l for l in lines if l["name"] == "(all)"]
# each interval whole or absent: per-name lines only for intervals with an "(all)" line, and the same
# intervals in stats_history.csv (its "Aggregated" rows, stamped at the interval's end in seconds)
ts = {l["t"] for l in alls}
assert {l["t"] for l in lines} == ts, "per-name lines of an interval without its (all) line"
for t in ts:
    assert sum(l["count"] for l in lines if l["t"] == t and l["name"] != "(all)") == \
        [l["count"] for l in alls if l["t"] == t][0], "interval %d incomplete" % t
hist = [r.split(",") for r in open(os.path.join(d, "stats_history.csv")).read().splitlines()[1:]]
agg = sorted(int(r[0]) for r in hist if r[3] == "Aggregated")
want = sorted((l["t"] + l["interval_ms"]) // 1000 for l in alls)
assert agg == want, "stats_history.csv intervals %s != intervals.jsonl %s" % (agg, want)
assert len(alls) >= 1, "no interval on disk at all"
print("on disk: %d whole interval(s), %d requests" % (len(alls), sum(l["count"] for l in alls)))
PY
echo "case: nothing half-written result=$r_files"
r_report=pass
cp -r "$MNT/run" "$T/copy"
"$LOADCTL" report "$T/copy" --no-index >"$T/report.out" 2>"$T/report.log" || r_report=fail
python3 - "$T/copy" <<'PY' || r_report=fail
import json, sys
d = sys.argv[1]
alls = [json.loads(l) for l in open(d + "/intervals.jsonl")]
alls = [l for l in alls if l["name"] == "(all)"]
s = json.load(open(d + "/summary.json"))
assert s["totals"]["requests"] == sum(l["count"] for l in alls), (s["totals"]["requests"], "!= intervals on disk")
PY
echo "case: loadctl report rebuilds the run dir result=$r_report"
for r in $r_code $r_log $r_live $r_files $r_report; do [ $r = pass ] || fail "a case failed (see above)"; done
echo "faults_disk: ok"
