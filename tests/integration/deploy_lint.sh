#!/usr/bin/env bash
# deploy_lint.sh - deploy/ stays valid: yamllint on the k8s manifests and cloud-init, their cross
# references (Service selects the master pod, workers dial the Service, replicas = --expect-workers,
# every container has resources and runs as non-root), the systemd unit through `systemd-analyze
# verify`, and the Dockerfile (multi-stage, non-root, runtime packages exist and cover every library
# the loadctl binary links). Schema checks that Debian does not package are skipped with a message.
# ctest: light - no timing-sensitive assertion: may run beside other light tests
set -uo pipefail
LOADCTL=${LOADCTL:?}
SRC=${LOADCTL_SRC:?}
D=$SRC/deploy
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# --- YAML
if command -v yamllint >/dev/null; then
  (cd "$D" && yamllint -s -c .yamllint k8s cloud-init) && echo "ok   yamllint deploy/k8s deploy/cloud-init" || bad yamllint
else
  echo "SKIP yamllint: not installed (apt-get install yamllint)"
fi
for tool in kubeconform kubeval; do
  if command -v $tool >/dev/null; then
    $tool -strict -ignore-missing-schemas "$D"/k8s/*-*.yaml "$D"/k8s/namespace.yaml && echo "ok   $tool" || bad "$tool"
  else
    echo "SKIP $tool: not installed (not packaged in Debian 12)"
  fi
done

python3 - "$D" <<'PY' || fail=1
import os, re, sys, yaml
d = sys.argv[1]; k = os.path.join(d, "k8s"); errors = []
def err(m): errors.append(m)
kust = yaml.safe_load(open(os.path.join(k, "kustomization.yaml")))
docs = {}
for r in kust["resources"]:
    p = os.path.join(k, r)
    if not os.path.exists(p): err("kustomization: resource %s missing" % r); continue
    for doc in yaml.safe_load_all(open(p)):
        for key in ("apiVersion", "kind", "metadata"):
            if key not in doc: err("%s: no %s" % (r, key))
        docs[doc["kind"]] = doc
for g in kust.get("configMapGenerator", []):
    for f in g["files"]:
        if not os.path.exists(os.path.join(k, f.split("=")[-1])): err("configMapGenerator file %s missing" % f)
if "key" not in open(os.path.join(k, ".gitignore")).read().split():
    err("deploy/k8s/.gitignore must keep the generated key out of git")
job, svc, dep = docs.get("Job"), docs.get("Service"), docs.get("Deployment")
if not (job and svc and dep): err("need a Job, a Service and a Deployment, got %s" % sorted(docs))
else:
    jlabels = job["spec"]["template"]["metadata"]["labels"]
    if any(jlabels.get(a) != b for a, b in svc["spec"]["selector"].items()):
        err("Service selector %s does not select the master pod %s" % (svc["spec"]["selector"], jlabels))
    ports = {p["port"] for p in svc["spec"]["ports"]}
    if ports != {5557, 9464}: err("Service ports %s, want 5557 and 9464" % ports)
    margs = job["spec"]["template"]["spec"]["containers"][0]["args"]
    wargs = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    if margs[0] != "master" or wargs[0] != "worker": err("master/worker subcommands wrong")
    want = "tcp://%s:5557" % svc["metadata"]["name"]
    if wargs[wargs.index("--master") + 1] != want: err("workers dial %s, want %s" % (wargs[wargs.index("--master") + 1], want))
    if int(margs[margs.index("--expect-workers") + 1]) != dep["spec"]["replicas"]:
        err("--expect-workers %s != worker replicas %s" % (margs[margs.index("--expect-workers") + 1], dep["spec"]["replicas"]))
    if "0.0.0.0:9464" not in margs: err("master does not serve metrics on 9464")
    for name, obj in (("master", job), ("worker", dep)):
        spec = obj["spec"]["template"]["spec"]
        if not spec.get("securityContext", {}).get("runAsNonRoot"): err("%s pod not runAsNonRoot" % name)
        for c in spec["containers"]:
            res = c.get("resources", {})
            if not (res.get("requests") and res.get("limits")): err("%s container without requests/limits" % name)
            if "--key-file" not in c["args"]: err("%s runs without the pre-shared key" % name)
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            vols = {v["name"] for v in spec.get("volumes", [])}
            if mounts - vols: err("%s mounts undefined volumes %s" % (name, mounts - vols))
        secrets = [v for v in spec["volumes"] if "secret" in v]
        if not secrets or secrets[0]["secret"]["secretName"] != kust["secretGenerator"][0]["name"]:
            err("%s does not mount the generated key Secret" % name)
    if job["spec"]["template"]["spec"].get("restartPolicy") != "Never": err("master Job must not restart")
    # workers serve run after run (no --once): a Deployment keeps them, each master Job is one run
    if dep["kind"] != "Deployment" or "--once" in wargs: err("k8s workers must be a Deployment running without --once")
# cloud-init
ci_path = os.path.join(d, "cloud-init", "worker.yaml")
text = open(ci_path).read()
if not text.startswith("#cloud-config\n"): err("cloud-init: first line must be #cloud-config")
ci = yaml.safe_load(text)
known = {"package_update", "packages", "write_files", "runcmd", "final_message", "users", "bootcmd"}
if set(ci) - known: err("cloud-init: unexpected keys %s" % (set(ci) - known))
paths = {f["path"]: f for f in ci["write_files"]}
if "/etc/loadctl/worker-main.env" not in paths: err("cloud-init does not write the unit's EnvironmentFile")
if paths.get("/etc/loadctl/key", {}).get("permissions") != "0600": err("cloud-init key file must be 0600")
if "LOADCTL_MASTER=" not in paths["/etc/loadctl/worker-main.env"]["content"]: err("env file lacks LOADCTL_MASTER")
cmds = [" ".join(c) if isinstance(c, list) else c for c in ci["runcmd"]]
if not any(re.search(r"apt-get install .*\.deb", c) for c in cmds): err("cloud-init does not install the .deb")
if not any("enable --now loadctl-worker@main.service" in c for c in cmds): err("cloud-init does not enable the unit")
unit = open(os.path.join(d, "systemd", "loadctl-worker@.service")).read()
if "EnvironmentFile=/etc/loadctl/worker-%i.env" not in unit or "LoadCredential=key:/etc/loadctl/key" not in unit:
    err("cloud-init paths do not match the systemd unit")
exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
if "--once" in exec_start or "Restart=on-failure" not in unit:
    err("systemd: the worker serves run after run (no --once) and is restarted only on failure")
for e in errors: print("FAIL:", e)
print("ok   k8s and cloud-init cross-checks" if not errors else "%d problems" % len(errors))
sys.exit(1 if errors else 0)
PY

if command -v cloud-init >/dev/null; then
  cloud-init schema -c "$D/cloud-init/worker.yaml" && echo "ok   cloud-init schema" || bad "cloud-init schema"
else
  echo "SKIP cloud-init schema: cloud-init not installed (its package pulls in dhcp client, fdisk, ...)"
fi

# --- systemd
unit=$D/systemd/loadctl-worker@.service
for opt in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict Restart=on-failure \
           EnvironmentFile=/etc/loadctl/worker-%i.env 'LoadCredential=key:'; do
  grep -q "^$opt" "$unit" || bad "unit lacks $opt"
done
if command -v systemd-analyze >/dev/null; then
  # verify with ExecStart pointing at the binary under test (the package installs it as /usr/bin/loadctl)
  mkdir -p "$TMP/units"
  sed "s|/usr/bin/loadctl|$LOADCTL|" "$unit" > "$TMP/units/loadctl-worker@.service"
  out=$(cd "$TMP/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify ./loadctl-worker@ci.service 2>&1 |
        grep -v "Command 'man loadctl(1)' failed")
  if [ -n "$out" ]; then bad "systemd-analyze verify: $out"; else echo "ok   systemd-analyze verify loadctl-worker@ci.service"; fi
  sec=$(cd "$TMP/units" && systemd-analyze security --offline=true ./loadctl-worker@ci.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  [ -n "$sec" ] && echo "     systemd-analyze security exposure: $sec (0 = locked down, 10 = none)"
  if [ -n "$sec" ] && python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 3.0 else 1)" "$sec"; then :
  elif [ -n "$sec" ]; then bad "unit exposure $sec > 3.0"; fi
else
  echo "SKIP systemd-analyze: not installed"
fi

# --- Dockerfile
df=$D/docker/Dockerfile
if command -v hadolint >/dev/null; then hadolint "$df" && echo "ok   hadolint" || bad hadolint
else echo "SKIP hadolint: not installed (not packaged in Debian 12); own checks follow"; fi
[ "$(grep -c '^FROM debian:bookworm' "$df")" -eq 2 ] || bad "Dockerfile: want two bookworm stages"
last_user=$(awk '/^FROM/ {u=""} /^USER/ {u=$2} END {print u}' "$df")
[ -n "$last_user" ] && [ "${last_user%%:*}" != root ] && [ "${last_user%%:*}" != 0 ] || bad "runtime stage runs as root"
grep -q '^ENTRYPOINT \["/usr/bin/loadctl"\]' "$df" || bad "ENTRYPOINT is not loadctl"
for x in .git build runs; do grep -qx "$x" "$SRC/.dockerignore" || bad ".dockerignore lacks $x"; done
runtime=$(awk '/^FROM .* AS runtime/ {r=1} r' "$df" | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' |
          grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|no-install-recommends|y)$' | sort -u)
build=$(awk '/^FROM .* AS build/ {b=1} /^FROM .* AS runtime/ {b=0} b' "$df" | sed -n '/apt-get install/,/rm -rf/p' |
        tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|no-install-recommends|y)$' | sort -u)
# one apt-cache call for all of them (each call reads the whole package cache: ~1 s apiece); a name it
# did not list is asked alone, so a failed batch call costs time, not a false failure
# shellcheck disable=SC2086
known=$(apt-cache show --no-all-versions $runtime $build 2>/dev/null | sed -n 's/^Package: //p' | sort -u)
for p in $runtime $build; do
  grep -qxF "$p" <<<"$known" || apt-cache show "$p" >/dev/null 2>&1 ||
    bad "Dockerfile names $p, which is no Debian package here"
done
# every shared library the binary needs directly must come from a package of the runtime stage
for lib in $(readelf -d "$LOADCTL" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
  path=$(ldd "$LOADCTL" | awk -v l="$lib" '$1 == l {print $3}')
  [ -n "$path" ] || { bad "$lib not found by ldd"; continue; }
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
  [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
  case "$pkg" in libc6|"") continue ;; esac
  grep -qxF "$pkg" <<<"$runtime" || bad "loadctl links $lib from $pkg, missing in the runtime stage"
done
echo "     Dockerfile runtime packages: $(echo $runtime)"
[ $fail -eq 0 ] && echo "deploy_lint: all checks passed"
exit $fail
