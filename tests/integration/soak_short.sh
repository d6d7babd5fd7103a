#!/usr/bin/env bash
# soak_short.sh - bench/soak for 3 minutes (3 chaos cycles: target restart, worker kill -9 and restart,
# master paused 6 s, run directory's disk full for 3 s). Counts, intervals, histograms mapped, descriptors
# and the rebuilt report are checked as in the long soak. RSS (less the histograms' pages): 3 minutes cannot
# resolve the 1 %/h goal of the long run (bench/soak, default 30 min, gives that figure), so here the bound
# is 400 %/h, which still catches a leak per request of ~40 bytes at the soak's 300 requests/s on a ~11 MB
# process (soak_leak.sh shows the fit measures a planted leak). The slope is fitted over every 2 s sample
# after the 36 s warm-up and printed with its 95 % interval.
# ctest: light cost=180 - little CPU and no timing-sensitive assertion: may run beside other light tests
set -uo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
SOAK_S=${SOAK_SHORT_S:-180} SOAK_RSS_PCT_H=${SOAK_SHORT_RSS_PCT_H:-400} exec "$LOADCTL_SRC/bench/soak" "$LOADCTL_BUILD"
