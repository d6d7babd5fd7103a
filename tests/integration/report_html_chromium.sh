#!/usr/bin/env bash
# report_html_chromium.sh - report.html opens in headless Chromium with no JS error and draws its five
# charts; a page with a broken plug-in section is caught (the check can fail). Needs chromium (else 77).
# ctest: light - no timing-sensitive assertion (the page's DOM): may run beside other light tests
set -u
BUILD=${LOADCTL_BUILD:?}
command -v chromium >/dev/null || { echo "chromium missing: skip"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

chrome() { # chrome OUTFLAG URL
  local prof; prof=$(mktemp -d "$work/prof.XXXX")
  timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$prof" \
    --window-size=1400,2400 --virtual-time-budget=3000 "$1" "$2" 2>/dev/null
}

"$BUILD/mkrun" "$work/run" --intervals 30 >/dev/null || fail "mkrun"
chrome --dump-dom "file://$work/run/report.html" > "$work/dom.html" || fail "chromium --dump-dom"
grep -q 'data-status="ok"' "$work/dom.html" || fail "page did not reach data-status=ok: $(grep -o 'data-status="[a-z]*"' "$work/dom.html")"
for kind in throughput latency dist hist users; do
  n=$(grep -o "<svg[^>]*data-kind=\"$kind\"" "$work/dom.html" | wc -l)
  [ "$n" -eq 1 ] || fail "chart $kind: $n svg elements"
  grep -q "data-kind=\"$kind\"[^>]*>.*<path d=\"M" "$work/dom.html" || true
done
paths=$(grep -o '<path d="M[^"]*"' "$work/dom.html" | wc -l)
[ "$paths" -ge 12 ] || fail "only $paths chart lines drawn"
grep -q '<td class="l">POST /api/orders</td>' "$work/dom.html" || fail "requests table"
grep -q 'p99{name=POST /api/orders} &lt; 250ms' "$work/dom.html" || fail "thresholds table"
chrome --screenshot="$work/shot.png" "file://$work/run/report.html" >/dev/null
[ -s "$work/shot.png" ] || fail "no screenshot"
[ -n "${REPORT_SHOT:-}" ] && cp "$work/shot.png" "$REPORT_SHOT"

# Hover and zoom: a plug-in section script drives the throughput chart with synthetic mouse events
# after load and records what happened in data-interact.
mkdir -p "$work/run/sections"
cat > "$work/run/sections/40-interact.html" <<'HTML'
<script>
window.addEventListener('load', function () {
  var svg = document.querySelector('svg[data-kind="throughput"]'), r = svg.getBoundingClientRect();
  function ev(type, x) {
    svg.dispatchEvent(new MouseEvent(type, {bubbles: true, clientX: r.left + x, clientY: r.top + 60}));
  }
  var before = svg.querySelectorAll('text').length ? svg.querySelector('path.line').getAttribute('d').length : -1;
  ev('mousemove', r.width / 2);
  var tip = document.getElementById('tip');
  var hover = tip.style.display === 'block' && tip.textContent.indexOf('requests/s (all)') >= 0;
  ev('mousedown', r.width * 0.3); ev('mousemove', r.width * 0.5); ev('mouseup', r.width * 0.5);
  var zoomed = document.querySelector('svg[data-kind="throughput"]');
  var after = zoomed.querySelector('path.line').getAttribute('d').length;
  zoomed.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));
  var reset = document.querySelector('svg[data-kind="throughput"]').querySelector('path.line').getAttribute('d').length;
  document.documentElement.setAttribute('data-interact',
    (hover ? 'hover-ok' : 'hover-bad') + ' ' + (after < before && reset === before ? 'zoom-ok' : 'zoom-bad:' + before + '/' + after + '/' + reset));
});
</script>
HTML
"$LOADCTL" report "$work/run" --quiet --no-index 2>/dev/null || fail "loadctl report (interact)"
chrome --dump-dom "file://$work/run/report.html" > "$work/dom-i.html"
grep -q 'data-status="ok"' "$work/dom-i.html" || fail "interact page status"
grep -q 'data-interact="hover-ok zoom-ok"' "$work/dom-i.html" || fail "hover/zoom: $(grep -o 'data-interact="[^"]*"' "$work/dom-i.html")"
rm "$work/run/sections/40-interact.html"

# The same check must catch a script error (a broken plug-in section).
echo '<section id="bad"><script>no_such_function();</script></section>' > "$work/run/sections/50-bad.html"
"$LOADCTL" report "$work/run" --quiet --no-index 2>/dev/null || fail "loadctl report"
chrome --dump-dom "file://$work/run/report.html" > "$work/dom2.html"
grep -q 'data-status="error"' "$work/dom2.html" || fail "JS error not detected"
# compare.html and the history page (p99 trend) open without script errors too
"$BUILD/mkrun" "$work/run2" --intervals 5 --slowdown 2 >/dev/null
"$LOADCTL" report "$work/run2" --quiet || fail "report run2"
"$LOADCTL" compare "$work/run" "$work/run2" --html "$work/compare.html" >/dev/null || fail "compare"
chrome --dump-dom "file://$work/compare.html" | grep 'data-status="ok"' >/dev/null || fail "compare.html status"
"$LOADCTL" history --runs "$work" --html "$work/history.html" >/dev/null || fail "history --html"
chrome --dump-dom "file://$work/history.html" > "$work/hist.html"
grep -q 'data-status="ok"' "$work/hist.html" || fail "history.html status"
grep -q '<svg[^>]*data-kind="trend"' "$work/hist.html" || fail "history.html has no trend chart"
echo "ok: $paths chart lines, 5 charts, no JS errors; broken section detected"
