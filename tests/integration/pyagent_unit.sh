#!/usr/bin/env bash
# pyagent_unit.sh - the Python agent's unit tests (agents/python/tests, unittest): the profile.proto encoder
# (decoded back by an independent reader, by loadctl's pprof_tool and by `go tool pprof`), label parsing with
# bad and hostile headers, the sampler's attribution (threads, WSGI, ASGI, Django middleware), its stack walker
# against a plain f_back walk (test_stacks.py), the endpoint;
# then `pip install ./agents/python` into a scratch directory and an import from there.
set -euo pipefail
: "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skip: no python3"; exit 77; }
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || { echo "skip: python3 is older than 3.9"; exit 77; }
WORK=$(mktemp -d /tmp/loadctl-pyagent-unit-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LOADCTL_BUILD PYTHONDONTWRITEBYTECODE=1

cd "$LOADCTL_SRC/agents/python"
set +e
timeout 300 "$PY" -m unittest discover -s tests -v >"$WORK/unit.txt" 2>&1
rc=$?
set -e
grep -E ' \.\.\. (ok|FAIL|ERROR|skipped)' "$WORK/unit.txt" | sed 's/^/  /'
tail -4 "$WORK/unit.txt"
if grep -q "skipped 'SKIP" "$WORK/unit.txt"; then
  echo "NOTE: some checks were skipped (see the SKIP lines above)"
fi
[ "$rc" -eq 0 ] || { echo "FAIL: agent unit tests (exit $rc)"; cat "$WORK/unit.txt"; exit 1; }

# pip install ./agents/python: offline, with the interpreter's own setuptools and wheel (no build isolation),
# from a copy, since setuptools writes build/ and *.egg-info beside the sources
if "$PY" -c 'import pip, setuptools, wheel' 2>/dev/null; then
  mkdir -p "$WORK/src" && cp -r "$LOADCTL_SRC/agents/python/pyproject.toml" "$LOADCTL_SRC/agents/python/loadctl_agent" "$WORK/src/"
  timeout 120 "$PY" -m pip install --quiet --no-build-isolation --no-index --no-deps --target "$WORK/site" \
    "$WORK/src" >"$WORK/pip.txt" 2>&1 || { cat "$WORK/pip.txt"; echo "FAIL: pip install"; exit 1; }
  got=$(cd "$WORK" && PYTHONPATH="$WORK/site" "$PY" -c 'import loadctl_agent; print(loadctl_agent.__file__)')
  case "$got" in "$WORK/site/"*) echo "pip install: ok ($got)" ;; *) echo "FAIL: imported $got"; exit 1 ;; esac
else
  echo "NOTE: pip install not checked: $PY lacks pip, setuptools or wheel (Debian: python3-pip python3-wheel)"
fi
echo "ok: agent unit tests passed"
