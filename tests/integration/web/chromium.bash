# chromium.bash - sourced by the integration tests that drive a page in headless Chromium (web/*.js with
# playwright-core from npm). NPM_DIR holds node_modules for NODE_PATH ($LOADCTL_NPM_CACHE or
# ~/.cache/loadctl-npm). need_chromium skips the test (exit 77, saying why) without node/npm or
# /usr/bin/chromium, or when npm cannot fetch playwright-core; have_chromium answers without installing.
NPM_DIR=${LOADCTL_NPM_CACHE:-$HOME/.cache/loadctl-npm}

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
