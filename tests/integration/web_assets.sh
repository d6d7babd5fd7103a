#!/usr/bin/env bash
# web_assets.sh - the pages' assets (master/report/assets/) are linted: every script parses (node --check),
# no asset loads anything from the network (no http(s) URL but the SVG namespace), every file opens with a
# comment saying what it is for, and the build embeds each one. Needs node (else 77).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
SRC=${LOADCTL_SRC:?}
command -v node >/dev/null || { echo "SKIP: node missing"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
dir="$SRC/master/report/assets"
n=0
for f in "$dir"/*.js; do
  node --check "$f" || fail "$f does not parse"
  head -1 "$f" | grep "^// $(basename "$f") - " >/dev/null || fail "$f: the first line is not '// $(basename "$f") - what it is for'"
  n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n scripts in $dir"
for f in "$dir"/*; do
  bad=$(grep -no "https\?://[^'\" )]*" "$f" | grep -v "http://www.w3.org/2000/svg" || true)
  [ -z "$bad" ] || fail "$f refers to the network: $bad"
  name=$(basename "$f")
  grep -q "$name" "$SRC/CMakeLists.txt" || fail "$name is not embedded (CMakeLists.txt ASSET_PAIRS)"
done
grep -q "<!-- live.html - " "$dir/live.html" || fail "live.html does not say what it is for"
head -1 "$dir/style.css" | grep "^/\* style.css - " >/dev/null || fail "style.css does not say what it is for"
echo "web_assets: $n scripts parse, no URLs, all embedded"
