# web_lib.bash - sourced by the integration tests of the live web page and of pages driven in headless
# Chromium (web/*.js with playwright-core from npm). wait_url LOG sets URL from the "live page: URL" line
# loadctl writes (failing with the script's fail after 10 s). NPM_DIR holds node_modules for NODE_PATH
# ($LOADCTL_NPM_CACHE or ~/.cache/loadctl-npm). need_chromium skips the test (exit 77, saying why) without
# node/npm or /usr/bin/chromium, or when npm cannot fetch playwright-core; have_chromium answers without
# installing.
NPM_DIR=${LOADCTL_NPM_CACHE:-$HOME/.cache/loadctl-npm}

wait_url() {
  for _ in $(seq 1 100); do
    URL=$(awk '/^live page:/ {print $3; exit}' "$1" 2>/dev/null)
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  fail "no 'live page:' line in $1: $(tail -5 "$1" 2>/dev/null)"
}

have_chromium() {
  command -v node >/dev/null && [ -x /usr/bin/chromium ] && [ -d "$NPM_DIR/node_modules/playwright-core" ]
}

need_chromium() {
  command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
  [ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium missing (scripts/bootstrap installs it)"; exit 77; }
  [ -d "$NPM_DIR/node_modules/playwright-core" ] && return 0
  mkdir -p "$NPM_DIR" && (cd "$NPM_DIR" && timeout 180 npm install --no-audit --no-fund --silent playwright-core@1 \
    >/dev/null 2>&1) || { echo "SKIP: npm install playwright-core failed (offline?)"; exit 77; }
}
