#!/usr/bin/env bash
# fuzz_short.sh - CI's short fuzz pass: build every harness with clang (LOADCTL_FUZZ=ON, its own build
# directory) and run each for a fixed number of runs from its seed corpus; any crash, leak or
# sanitizer report fails. Skipped (77) when clang or its libFuzzer runtime is missing.
# ctest: light cost=70 - builds and fuzzes (CPU) but asserts no timing: may run beside light tests
set -euo pipefail
SRC=${LOADCTL_SRC:?}
BUILD=${LOADCTL_BUILD:?}/fuzz-short
RUNS=${FUZZ_SHORT_RUNS:-20000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 77; }
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$TMP/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$TMP/probe.c" -o "$TMP/probe" 2>"$TMP/probe.err"; then
  echo "SKIP: clang's libFuzzer runtime is missing (libclang-rt-14-dev): $(head -1 "$TMP/probe.err")"
  exit 77
fi

CC=clang cmake -S "$SRC" -B "$BUILD" -DLOADCTL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$TMP/configure.log"
grep 'fuzz: skipping' "$TMP/configure.log" || true
mapfile -t names < <(cmake --build "$BUILD" --target help | sed -n 's/^\.\.\. \(fuzz_[a-z0-9_]*\)$/\1/p' | sort)
[ ${#names[@]} -ge 4 ] || { echo "FAIL: only ${#names[@]} harnesses configured: ${names[*]}"; exit 1; }
cmake --build "$BUILD" -j2 --target "${names[@]}" > "$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log"; exit 1; }

fail=0
for name in "${names[@]}"; do
  seeds="$SRC/tests/fuzz/corpus/${name#fuzz_}"
  [ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "FAIL: $name has no seed corpus in $seeds"; fail=1; continue; }
  mkdir -p "$TMP/$name"
  # past findings (tests/fuzz/regressions/<name>/) must stay fixed
  regress="$SRC/tests/fuzz/regressions/${name#fuzz_}"
  if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
    if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$BUILD/$name" "$regress"/* > "$TMP/$name.regress.log" 2>&1; then
      echo "FAIL: $name: a regression input in $regress crashes again:"
      grep -m3 -E "ERROR|runtime error|Running:" "$TMP/$name.regress.log"
      fail=1
      continue
    fi
    echo "ok   $name: $(ls "$regress" | wc -l) regression inputs replayed"
  fi
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      "$BUILD/$name" -runs="$RUNS" -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$TMP/$name-" "$TMP/$name" "$seeds" > "$TMP/$name.log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMP/$name.log" | tail -1)
    # -runs counts mutations after the seeds are read: the harness must really have run them
    if [ "${execs:-0}" -lt "$RUNS" ]; then echo "FAIL: $name executed ${execs:-0} < $RUNS"; fail=1; continue; fi
    echo "ok   $name: $execs executions, 0 crashes"
  else
    echo "FAIL: $name"; tail -40 "$TMP/$name.log"
    for a in "$TMP/$name"-*; do [ -f "$a" ] && { echo "crash input (base64):"; base64 -w0 "$a"; echo; }; done
    fail=1
  fi
done
exit $fail
