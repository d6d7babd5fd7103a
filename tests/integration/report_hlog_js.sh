#!/usr/bin/env bash
# report_hlog_js.sh - latency.hlog is readable by another implementation: hdr-histogram-js's
# HistogramLogReader decodes every interval histogram with the counts and p99 intervals.jsonl states;
# each name's service-time histogram ("service:<name>" tags, what `loadctl report` rebuilds "service"
# from) decodes too, one per name per interval with the same count.
# Needs node + npm and the hdr-histogram-js package (npm install into a temp dir), else skipped (77).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
BUILD=${LOADCTL_BUILD:?}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm missing: skip"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
(cd "$work" && timeout 120 npm install --no-audit --no-fund --silent hdr-histogram-js >/dev/null 2>&1) ||
  { echo "npm install hdr-histogram-js failed (offline?): skip"; exit 77; }
"$BUILD/mkrun" "$work/run" --intervals 8 >/dev/null || fail mkrun
cat > "$work/read.js" <<'JS'
const fs = require('fs'), hdr = require('hdr-histogram-js');
const r = new hdr.HistogramLogReader(fs.readFileSync(process.argv[2], 'utf8'));
let h;
while ((h = r.nextIntervalHistogram()) !== null)
  if (h.tag && h.tag !== 'NO TAG') console.log([h.tag, h.startTimeStampMsec, h.totalCount, h.getValueAtPercentile(99)].join('\t'));
JS
node "$work/read.js" "$work/run/latency.hlog" | sort > "$work/all.tsv" || fail "hdr-histogram-js could not read the log"
grep -v '^service:' "$work/all.tsv" > "$work/js.tsv"
grep '^service:' "$work/all.tsv" | sed 's/^service://' | cut -f1-3 > "$work/service.tsv"
python3 - "$work/run/intervals.jsonl" <<'PY' | sort > "$work/ours.tsv"
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["name"] == "(all)" or o["count"] == 0: continue
    print("%s\t%d\t%d\t%d" % (o["name"].replace(" ", "_"), o["t"], o["count"], round(o["p99_ms"] * 1000)))
PY
n=$(wc -l < "$work/js.tsv")
[ "$n" -eq 24 ] || fail "expected 24 tagged histograms (8 intervals x 3 names), got $n"
diff "$work/ours.tsv" "$work/js.tsv" || fail "hdr-histogram-js disagrees with intervals.jsonl"
cut -f1-3 "$work/ours.tsv" | diff - "$work/service.tsv" || fail "service-time histograms: not one per name per interval with its count"
echo "ok: $n histograms decoded by hdr-histogram-js, counts and p99 equal"
