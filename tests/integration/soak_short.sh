#!/usr/bin/env bash
# soak_short.sh - bench/soak for 3 minutes (3 chaos cycles: target restart, worker kill -9 and restart,
# master paused 6 s, run directory's disk full for 3 s). Counts, intervals, histograms mapped, descriptors
# and the rebuilt report are checked as in the long soak. RSS (less the histograms' pages): 3 minutes cannot
# resolve the 1 %/h goal of the long run (bench/soak, default 30 min, gives that figure), so here the bound
# is 400 %/h, which still catches a leak per request of ~40 bytes at the soak's 300 requests/s on a ~11 MB
# process (soak_leak.sh shows the fit measures a planted leak). The slope is fitted over every 2 s sample
# after the 36 s warm-up and printed with its 95 % interval.
# The target's restart on its own port is tested too: at the first restart a listener of the soak's own
# holds that port for 8 s (SOAK_TEST_HOLD_PORT_S), so the soak must wait for it (5 s), see its first start
# fail ("address already in use"), and start the target on that port at the next try.
# ctest: light cost=180 - little CPU and no timing-sensitive assertion: may run beside other light tests
set -uo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
out=$(SOAK_S=${SOAK_SHORT_S:-180} SOAK_RSS_PCT_H=${SOAK_SHORT_RSS_PCT_H:-400} SOAK_TEST_HOLD_PORT_S=8 \
  "$LOADCTL_SRC/bench/soak" "$LOADCTL_BUILD" 2>&1)
rc=$?
echo "$out"
[ $rc -ne 77 ] || exit 77
fail() { echo "soak_short: FAIL: $*"; exit 1; }
[ $rc -eq 0 ] || fail "bench/soak exit $rc"
grep -q 'target start 1 of 5 failed: exited 2; stderr: testserver: listen 127.0.0.1:[0-9]*: address already in use' \
  <<<"$out" || fail "the start on the held port did not fail as it should (address already in use)"
grep -qE '^soak: target: 3 restarts, [1-9][0-9]* failed start\(s\) retried' <<<"$out" ||
  fail "expected 3 target restarts, at least 1 start retried: $(grep '^soak: target:' <<<"$out")"
echo "soak_short: pass (the target restarted on its port after a start refused while the port was held)"
