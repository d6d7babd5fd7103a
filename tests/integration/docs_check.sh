#!/usr/bin/env bash
# docs_check.sh - the docs stay true: every ```lua block in README.md and docs/*.md passes
# `loadctl check`, every option in docs/scenario-api.md's options table is accepted (and every option
# loadctl accepts is in that table), every function the page lists exists in a scenario, and
# docs/architecture.md has a row for every module of common/, worker/ and master/, and
# docs/report.md's summary.json block has the keys a real 2 s run writes (needs LOADCTL_BUILD/testserver).
#
# Blocks that are deliberately partial say so on their first line, and are checked wrapped:
#   -- fragment: options   the block is the inside of `options = { ... }` written as assignments
#                          (`profile = { ... }`); checked as that options table plus one empty task
#   -- fragment: task      the block is the body of a task; checked inside task(1, function(vu) ... end)
# Failures name the document, the block's first line and the line check complained about.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -uo pipefail
LOADCTL=${LOADCTL:?}
SRC=${LOADCTL_SRC:?}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read the docs"; exit 77; }

python3 - "$LOADCTL" "$SRC" "$TMP" <<'EOF'
import json, os, re, subprocess, sys

loadctl, src, tmp = sys.argv[1:4]
failures, checked = [], 0

def check(path):
    r = subprocess.run([loadctl, "check", path], capture_output=True, text=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()

def lua_blocks(doc):
    """(first line of the block's code in doc, code lines) for each ```lua block."""
    lines, out, start = open(doc, encoding="utf-8").read().split("\n"), [], None
    for i, line in enumerate(lines, 1):
        if start is None and line.strip() == "```lua":
            start, body = i + 1, []
        elif start is not None and line.strip() == "```":
            out.append((start, body))
            start = None
        elif start is not None:
            body.append(line)
    if start is not None:
        failures.append(f"{os.path.relpath(doc, src)}:{start - 1}: ```lua block is never closed")
    return out

def wrap(body):
    """Scenario text for a block; line N of the block stays line N of the file."""
    head = body[0].strip() if body else ""
    if head == "-- fragment: options":
        return ("options = setmetatable((function() local o = {}; "
                "setfenv(1, setmetatable(o, {__index = _G}))\n" + "\n".join(body[1:]) +
                "\nreturn o end)(), nil)\ntask(1, function(vu) end)\n")
    if head == "-- fragment: task":
        return "task(1, function(vu)\n" + "\n".join(body[1:]) + "\nend)\n"
    if head.startswith("-- fragment"):
        return None
    return "\n".join(body) + "\n"

docs = [os.path.join(src, "README.md")] + sorted(
    os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
for doc in docs:
    rel = os.path.relpath(doc, src)
    for start, body in lua_blocks(doc):
        text = wrap(body)
        where = f"{rel}:{start}"
        if text is None:
            failures.append(f"{where}: unknown marker '{body[0].strip()}' (use '-- fragment: options' "
                            "or '-- fragment: task')")
            continue
        path = os.path.join(tmp, f"{rel.replace('/', '_')}_{start}.lua")
        open(path, "w").write(text)
        rc, out = check(path)
        checked += 1
        if rc != 0:
            m = re.search(re.escape(os.path.basename(path)) + r":(\d+):", out)
            line = f" (doc line {start + int(m.group(1)) - 1})" if m else ""
            failures.append(f"{where}: the ```lua block starting here fails `loadctl check`{line}: {out}")
        else:
            print(f"ok   {where}")

# --- the options table of docs/scenario-api.md, both ways ---
api = os.path.join(src, "docs", "scenario-api.md")
text = open(api, encoding="utf-8").read()
section = text.split("\n## options", 1)[1].split("\n## ", 1)[0] if "\n## options" in text else ""
rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|[^|]*\| (.*) \|$", section, re.M)
if len(rows) < 10:
    failures.append(f"docs/scenario-api.md: found {len(rows)} rows in the '## options' table, expected the "
                    "whole table (| `key` | type | default | meaning |)")
# Values whose shape the type column cannot say; every other row gets one from its type.
samples = {
    "stages": {"closed": '{ {duration = "1s", users = 1} }', "open": '{ {duration = "1s", rate = 1} }'},
    "profile": '{ {source = "file", url = "/nonexistent/profile.folded"} }',
    "thresholds": '{ p95 = "< 1s" }',
    "think": "{0, 0.1}",
    "vus": "2, users = nil",  # k6's name for users: one or the other
    # several scenarios: the top-level load keys go (the last of a duplicate key wins in a Lua table)
    "scenarios": '{ s = { executor = "constant-vus", duration = "1s" } }, users = nil, rate = nil, duration = nil',
    "target": '"http://127.0.0.1:1"',
    # type "path": a file that exists; the key needs the certificate it belongs to
    "tls_key_file": f'"{os.path.join(tmp, "sample.pem")}", tls_cert_file = "{os.path.join(tmp, "sample.pem")}"',
    # where stages start from: only meaningful (and accepted) with stages
    "start_users": '1, stages = { {duration = "1s", users = 2} }',
    "start_rate": '1, stages = { {duration = "1s", rate = 2} }',
    "tags": '{ env = "docs" }',
}
def sample(key, typ, model):
    s = samples.get(key)
    if isinstance(s, dict): return s[model]
    if s: return s
    t = typ.lower()
    if "boolean" in t: return "true"
    if "duration" in t: return '"1s"'
    if t.startswith("`\""): return re.match(r'`("[^"]*")`', typ).group(1)
    if "number" in t or "bytes" in t: return "1"
    if t == "path": return f'"{os.path.join(tmp, "sample.pem")}"'
    if "string" in t: return '"docs"'
    return None

open(os.path.join(tmp, "sample.pem"), "w").write("")
documented = set()
for key, typ, meaning in rows:
    documented.add(key)
    model = "open" if "open model" in meaning.lower() else "closed"
    value = sample(key, typ.strip(), model)
    where = f"docs/scenario-api.md (option `{key}`)"
    if value is None:
        failures.append(f"{where}: tests/integration/docs_check.sh has no sample value for type "
                        f"'{typ.strip()}': add one to `samples`")
        continue
    base = 'rate = 1, duration = "1s"' if model == "open" else 'users = 1, duration = "1s"'
    path = os.path.join(tmp, f"option_{key}.lua")
    open(path, "w").write(f"options = {{ {base}, {key} = {value} }}\ntask(1, function(vu) end)\n")
    rc, out = check(path)
    checked += 1
    if rc != 0:
        failures.append(f"{where}: `{key} = {value}` is refused by `loadctl check`: {out}")
    else:
        print(f"ok   option {key} = {value}")

known = re.search(r"known_keys\[\] = \{(.*?)\};", open(os.path.join(src, "common", "options.c")).read(), re.S)
accepted = set(re.findall(r'"(\w+)"', known.group(1))) if known else set()
if not accepted:
    failures.append("common/options.c: known_keys[] not found (docs_check.sh reads it)")
for key in sorted(accepted - documented):
    failures.append(f"docs/scenario-api.md: option `{key}` is accepted by common/options.c but missing "
                    "from the '## options' table")

# --- functions the page lists: task/hooks, http.*, and the "Other functions" table ---
funcs = set(re.findall(r"^- `(\w+)\(", text, re.M))                          # - `task(weight, fn)`
http_block = re.search(r"```lua\n(-- fragment: task\n)?local r = http\.get.*?```", text, re.S)
funcs |= set(re.findall(r"(http\.\w+)\(", http_block.group(0))) if http_block else set()
other = text.split("\n## Other functions", 1)[1].split("\n## ", 1)[0] if "\n## Other functions" in text else ""
funcs |= set(re.findall(r"^\| `([\w.]+)\(", other, re.M))
hooks = {"on_start", "on_stop", "setup", "teardown"}                                                # defined by the scenario
must = {"task", "check", "group", "sleep", "think", "env", "log", "data.csv", "http.get", "http.post",
        "http.request"}
for f in sorted(must - funcs):
    failures.append(f"docs/scenario-api.md: the function list lost `{f}` (docs_check.sh reads it from the "
                    "'Tasks and hooks' list, the http block and the 'Other functions' table)")
lines = [f'assert(type({f}) == "function", "{f} is listed in docs/scenario-api.md but is not a function")'
         for f in sorted(funcs - hooks)]
path = os.path.join(tmp, "functions.lua")
open(path, "w").write("\n".join(lines) + "\ntask(1, function(vu) end)\n")
rc, out = check(path)
checked += 1
if rc != 0:
    failures.append(f"docs/scenario-api.md: a listed function is missing: {out}")
else:
    print(f"ok   {len(funcs - hooks)} functions exist: {', '.join(sorted(funcs - hooks))}")

# --- docs/architecture.md names every module, and the README points there, not outside the repo ---
arch = open(os.path.join(src, "docs", "architecture.md"), encoding="utf-8").read() \
    if os.path.exists(os.path.join(src, "docs", "architecture.md")) else ""
for part in ("common", "worker", "master", "cli"):
    for root, _, files in os.walk(os.path.join(src, part)):
        for f in sorted(files):
            if not f.endswith(".c") or part == "cli":
                continue
            mod = os.path.relpath(os.path.join(root, f[:-2]), os.path.join(src, part))
            if not re.search(r"^\| " + re.escape(mod) + r" \|", arch, re.M):
                failures.append(f"docs/architecture.md: module {part}/{mod}.c has no row ('| {mod} | its job |') "
                                "in the Modules tables")
readme = open(os.path.join(src, "README.md"), encoding="utf-8").read()
if re.search(r"(^|[\s`(])\.\./", readme) or "docs/architecture.md" not in readme:
    failures.append("README.md: the Layout must point to docs/architecture.md, not outside the repository")

# --- docs/report.md's summary.json block has exactly the keys a real run writes ---
# --- the http params table of docs/scenario-api.md: every field is accepted by a real request ---
param_samples = {
    "name": '"param name"', "headers": '{ ["X-Docs"] = "1" }', "query": '{ a = "1 2" }', "body": '"x=1"',
    "json": '{ a = 1 }', "form": '{ a = "1" }', "timeout": '"5s"', "redirects": "0",
    "auth": '{ user = "u", password = "p" }', "expect": "{ 404 }",
    "tags": '{ kind = "docs" }',
}
params_section = text.split("`params` (all optional):", 1)[1].split("\nThe response", 1)[0] \
    if "`params` (all optional):" in text else ""
params = re.findall(r"^\| `(\w+)` \|", params_section, re.M)
if len(params) < 5:
    failures.append(f"docs/scenario-api.md: found {len(params)} rows in the http `params` table")
param_tasks = []
for field in params:
    if field not in param_samples:
        failures.append(f"docs/scenario-api.md (params field `{field}`): tests/integration/docs_check.sh has no "
                        "sample value for it: add one to `param_samples`")
        continue
    name = "" if field == "name" else f'name = "param {field}", '
    param_tasks.append(f'task(1, function(vu) http.post("/ok", {{ {name}{field} = {param_samples[field]} }}) end)')

def run_real(server_port, name, body):
    scenario = os.path.join(tmp, f"{name}.lua")
    open(scenario, "w").write(body.replace("PORT", server_port))
    out = os.path.join(tmp, f"{name}-run")
    r = subprocess.run([loadctl, "start", scenario, "--quiet", "--threads", "1", "--out", out],
                       capture_output=True, text=True, timeout=60)
    path = os.path.join(out, "summary.json")
    if not os.path.exists(path):
        failures.append(f"a real run of {name}.lua wrote no summary.json: {r.stdout[-300:]} {r.stderr[-300:]}")
        return None
    return json.load(open(path))

def real_runs():
    build = os.environ.get("LOADCTL_BUILD", "")
    server = os.path.join(build, "testserver")
    if not os.access(server, os.X_OK):
        print("SKIP summary.json schema and http params: no testserver in LOADCTL_BUILD")
        return None, None
    p = subprocess.Popen([server, "--port", "0", "--duration-s", "60"], stdout=subprocess.PIPE, text=True)
    try:
        port = p.stdout.readline().split()[1]
        schema = run_real(port, "schema", """options = { target = "http://127.0.0.1:PORT", users = 2, duration = "2s",
  thresholds = { p99 = "< 5s" } }
task(1, function(vu)
  group("g", function()
    check(http.get("/ok", { name = "GET ok" }), { ["is 200"] = function(r) return r.status == 200 end })
  end)
end)
""")
        used = run_real(port, "params", 'options = { target = "http://127.0.0.1:PORT", users = 2, duration = "2s" }\n' +
                        "\n".join(param_tasks) + "\n") if param_tasks else None
        return schema, used
    finally:
        p.kill()
        p.wait()

def keys_diff(doc, real, path, out):
    if isinstance(doc, dict) and isinstance(real, dict):
        for k in sorted(set(real) - set(doc)):
            out.append(f"{path}.{k} is written but not in the block")
        for k in sorted(set(doc) - set(real)):
            if f"{path}.{k}" not in sometimes:
                out.append(f"{path}.{k} is in the block but a run does not write it")
        for k in set(doc) & set(real):
            if k not in ("options", "errors_by_kind", "tags"):  # keys that are data (option names, error kinds, tags)
                keys_diff(doc[k], real[k], f"{path}.{k}", out)
    elif isinstance(doc, list) and isinstance(real, list) and doc and real and path not in ("summary.findings",):
        keys_diff(doc[0], real[0], path + "[]", out)

sometimes = {"summary.run.changes"}  # only with --web
sometimes |= {"summary.profile_timeline"}  # only with heap or Go CPU profiles
sometimes |= {f"summary.requests[].{k}" for k in  # only with labelled CPU profiles
              ("cpu_ms_per_req", "cpu_ms_per_req_ci95", "cpu_samples", "requests_profiled")}
report_path = os.path.join(src, "docs", "report.md")
report_md = open(report_path, encoding="utf-8").read() if os.path.exists(report_path) else ""
m = re.search(r"\n## summary\.json\n.*?```json\n(.*?)```", report_md, re.S)
if not m:
    failures.append("docs/report.md: no ```json block under '## summary.json'")
else:
    try:
        doc_schema = json.loads(m.group(1))
    except ValueError as e:
        doc_schema = None
        failures.append(f"docs/report.md: the summary.json block is not JSON: {e}")
    real, used = real_runs()
    if used is not None:
        by_name = {q["name"]: q for q in used["requests"]}
        checked += 1
        for field in params:
            q = by_name.get("param name" if field == "name" else f"param {field}")
            if field in param_samples and (not q or q["count"] == 0):
                failures.append(f"docs/scenario-api.md (params field `{field}`): a request with "
                                f"{field} = {param_samples[field]} was never made")
        script = [q["name"] for q in used["requests"] if q.get("errors_by_kind", {}).get("script")]
        if script:
            failures.append(f"docs/scenario-api.md (params table): Lua errors in {script}: a documented field "
                            "is refused (see the run's failures.csv)")
        elif not [f for f in failures if "params field" in f]:
            print(f"ok   {len(params)} http params accepted by real requests: {', '.join(params)}")
    if real is not None and doc_schema is not None:
        diffs = []
        keys_diff(doc_schema, real, "summary", diffs)
        checked += 1
        for d in diffs:
            failures.append(f"docs/report.md (summary.json block): {d}")
        if not diffs:
            print("ok   docs/report.md summary.json block = a real run's keys")

for f in failures:
    print("FAIL " + f)
print(f"{checked} checks, {len(failures)} failures")
sys.exit(1 if failures or checked < 20 else 0)
EOF
rc=$?
[ $rc -eq 0 ] || exit 1
# the markers and the wrapper are tested too: a wrong fragment must fail, naming the doc line
mkdir -p "$TMP/src/docs" "$TMP/src/common"
cp "$SRC/docs/scenario-api.md" "$TMP/src/docs/" && cp "$SRC/common/options.c" "$TMP/src/common/"
printf '# t\n\n```lua\n-- fragment: options\nprofile = { { source = "nonsense", url = "x" } }\n```\n' > "$TMP/src/README.md"
out=$(LOADCTL_SRC="$TMP/src" bash "$0" 2>&1)
if echo "$out" | grep "FAIL README.md:4: .*(doc line 5).*unknown source 'nonsense'" >/dev/null; then
  echo "ok   a bad fragment fails, naming README.md:4 and doc line 5"
else
  echo "FAIL: a bad '-- fragment: options' block was not reported with its doc line:"; echo "$out" | tail -5
  exit 1
fi
