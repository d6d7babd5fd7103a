#!/usr/bin/env bash
# report_live_tmux.sh - the live view on a real TTY (tmux): a table redrawn in place with the request
# names, totals, progress bar and thresholds; and NO_COLOR / a pipe give plain text. Needs tmux (else 77).
# ctest: pair - no CPU to speak of; the one timing bound is the first frame within 1.2 s: may run beside one other such test
set -u
BUILD=${LOADCTL_BUILD:?}
command -v tmux >/dev/null || { echo "tmux missing: skip"; exit 77; }
work=$(mktemp -d)
sock="loadctl-live-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

tmux -L "$sock" -f /dev/null new-session -d -x 130 -y 30 \
  "TERM=xterm-256color $BUILD/mkrun $work/run --intervals 30 --slow --live; echo EXIT=\$?; sleep 30"
sleep 1.2
tmux -L "$sock" capture-pane -p -e > "$work/mid.txt"
tmux -L "$sock" capture-pane -p > "$work/mid-plain.txt"
for _ in $(seq 60); do grep -q EXIT= <(tmux -L "$sock" capture-pane -p) && break; sleep 0.2; done
tmux -L "$sock" capture-pane -p -S -60 > "$work/end.txt"
echo "--- mid-run capture ---"; cat "$work/mid-plain.txt"
grep -q '^loadctl \[=*>* *\] *[0-9]*%  [0-9ms]* / 30s ([0-9ms]* left)  users [0-9]*' "$work/mid-plain.txt" || fail "no progress line"
grep -q '^GET /api/books  *[0-9]' "$work/mid-plain.txt" || fail "no GET /api/books row"
grep -q '^POST /api/orders  *[0-9]' "$work/mid-plain.txt" || fail "no POST row"
grep -q '^total ' "$work/mid-plain.txt" || fail "no total row"
[ "$(grep -c '^name ' "$work/mid-plain.txt")" -eq 1 ] || fail "table not redrawn in place (header repeated)"
grep -q $'\033\\[31m' "$work/mid.txt" || fail "no colour for errors on a TTY"
grep -q 'EXIT=0' "$work/end.txt" || fail "mkrun did not exit 0"
grep -q '^summary after 30s' "$work/end.txt" || fail "no final summary"
grep -q 'p99{name=POST /api/orders} < 250ms .* pass' "$work/end.txt" || fail "no thresholds table"
# NO_COLOR on a TTY: no escapes; a pipe: one plain line per interval
tmux -L "$sock" kill-server
tmux -L "$sock" -f /dev/null new-session -d -x 130 -y 30 "NO_COLOR=1 $BUILD/mkrun $work/run2 --intervals 3 --slow --live; sleep 30"
sleep 1
tmux -L "$sock" capture-pane -p -e > "$work/nc.txt"
grep -q $'\033\\[3[12]m' "$work/nc.txt" && fail "colour despite NO_COLOR"
"$BUILD/mkrun" "$work/run3" --intervals 5 --live > "$work/pipe.txt"
[ "$(grep -c '^\[[0-9]*s\] users=' "$work/pipe.txt")" -eq 5 ] || fail "not one plain line per interval"
grep -q $'\033' "$work/pipe.txt" && fail "escape codes in a pipe"
echo ok
