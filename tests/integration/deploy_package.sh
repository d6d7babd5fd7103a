#!/usr/bin/env bash
# deploy_package.sh - scripts/package makes a .deb whose Depends name the libraries loadctl links (from
# dpkg-shlibdeps) plus lua-cjson, that holds the binary, the man page, the worker's systemd unit and
# the example scenarios, and that installs into a fresh directory root where `loadctl --version` runs.
# ctest: light cost=50 - builds a Release package (CPU) but asserts no timing: may run beside light tests
set -uo pipefail
SRC=${LOADCTL_SRC:?}
BUILD=${LOADCTL_BUILD:?}/package
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
deb=$("$SRC/scripts/package" "$BUILD" 2> "$TMP/package.err" | tail -1)
[ -f "$deb" ] || { echo "FAIL: scripts/package made no .deb"; tail -20 "$TMP/package.err"; exit 1; }
echo "package: $deb ($(stat -c %s "$deb") bytes)"

version=$(sed -n 's/^project(loadctl VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ "$(dpkg-deb -f "$deb" Package)" = loadctl ] || bad "Package is $(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || bad "Version $(dpkg-deb -f "$deb" Version) != $version"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$(dpkg --print-architecture)" ] || bad "Architecture"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
has_dep() { echo "$depends" | tr ',|' '\n\n' | sed 's/^ *//' | grep "^$1\( \|$\)" >/dev/null; }
for pkg in libc6 libuv1 libnanomsg5 libmsgpackc2 libsodium23 libjansson4 zlib1g lua-cjson; do
  has_dep $pkg || bad "Depends lacks $pkg"
done
# shlibdeps must cover every library the packaged binary links (curl, luajit, http-parser and
# protobuf-c appear once the code that uses them is linked into the binary)
dpkg-deb -x "$deb" "$TMP/needed"
for lib in $(readelf -d "$TMP/needed/usr/bin/loadctl" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  path=$(ldd "$TMP/needed/usr/bin/loadctl" | awk -v l="$lib" '$1 == l {print $3}')
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || { bad "no Debian package owns $lib ($path)"; continue; }
  has_dep "$pkg" || bad "loadctl links $lib but Depends lacks $pkg"
done
echo "$depends" | grep "libc6 (>= " >/dev/null || bad "Depends has no versioned libc6 (shlibdeps did not run)"

dpkg-deb -c "$deb" | awk '{print $NF}' > "$TMP/contents"
for f in ./usr/bin/loadctl ./usr/share/man/man1/loadctl.1 ./usr/lib/systemd/system/loadctl-worker@.service \
         ./usr/share/doc/loadctl/examples/worker.env.example ./usr/share/doc/loadctl/examples/scenarios/checkout.lua \
         ./usr/share/doc/loadctl/examples/scenarios/data/users.csv ./usr/share/doc/loadctl/tutorial.md; do
  grep -qxF "$f" "$TMP/contents" || bad "package lacks $f"
done
grep -q '^\./usr/\(lib\|bin\)/.*\.\(a\|h\)$' "$TMP/contents" && bad "package ships build artefacts"

root=$TMP/root
dpkg-deb -x "$deb" "$root" || bad "dpkg-deb -x failed"
out=$("$root/usr/bin/loadctl" --version 2>&1) || bad "extracted loadctl --version failed: $out"
[ "$out" = "loadctl $version" ] || bad "extracted loadctl --version says '$out'"
echo "extracted: $out"
ldd "$root/usr/bin/loadctl" | grep "not found" >/dev/null && bad "extracted binary misses libraries: $(ldd "$root/usr/bin/loadctl" | grep 'not found')"
if command -v man >/dev/null; then
  MANWIDTH=100 man -l "$root/usr/share/man/man1/loadctl.1" 2>"$TMP/man.err" | grep "loadctl start" >/dev/null ||
    bad "man page does not render: $(head -3 "$TMP/man.err")"
else
  echo "SKIP man page rendering: man is not installed"
fi
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$TMP/units"
  sed "s|/usr/bin/loadctl|$root/usr/bin/loadctl|" "$root/usr/lib/systemd/system/loadctl-worker@.service" \
    > "$TMP/units/loadctl-worker@.service"
  out=$(cd "$TMP/units" && systemd-analyze verify ./loadctl-worker@pkg.service 2>&1 | grep -v "man loadctl(1)")
  [ -z "$out" ] || bad "packaged unit does not verify: $out"
else
  echo "SKIP unit verification: systemd-analyze is not installed"
fi
[ $fail -eq 0 ] && echo "deploy_package: ok"
exit $fail
