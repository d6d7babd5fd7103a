#!/usr/bin/env bash
# boundaries.sh - the layers are enforced by the build: a worker file that includes a master header
# does not compile (target boundary_probe_bad), while the same kind of file including only worker and
# common headers does (boundary_probe_good, the control). Both compile exactly as loadctl_worker's files.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -uo pipefail
BUILD=${LOADCTL_BUILD:?}
command -v cmake >/dev/null || { echo "SKIP: cmake is needed to build the probes"; exit 77; }

if ! out=$(cmake --build "$BUILD" --target boundary_probe_good 2>&1); then
  echo "FAIL: the control probe (worker including worker/common headers) did not build:"
  echo "$out" | tail -20
  exit 1
fi
if out=$(cmake --build "$BUILD" --target boundary_probe_bad 2>&1); then
  echo "FAIL: a worker file including master/plan.h compiled; the layer boundary is not enforced"
  exit 1
fi
if ! echo "$out" | grep 'master/plan.h' >/dev/null; then
  echo "FAIL: boundary_probe_bad failed, but not on master/plan.h:"
  echo "$out" | tail -20
  exit 1
fi
echo "ok: worker -> master include refused (master/plan.h: $(echo "$out" | grep -o 'No such file[^"]*' | head -1)); control probe builds"
