// chromium.js - what the headless Chromium scripts here share (playwright-core from NODE_PATH): a fresh
// profile directory, the launch flags, one page with its script errors collected, and the cleanup; an
// exception ends the process with exit 1, naming the script.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {chromium} = require('playwright-core');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Open one page of 1300 x height in a fresh profile and await fn(page, errors), errors filling with the
// page's uncaught script errors; the browser is closed and the profile removed whatever happens. A failure
// prints "name: message" on stderr and exits 1.
function runPage(name, height, fn) {
  (async () => {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'loadctl-chromium-'));
    // a fresh --user-data-dir: playwright passes the profile directory as that flag
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', args: ARGS, viewport: {width: 1300, height},
    });
    const errors = [];
    try {
      const page = browser.pages()[0] || await browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await fn(page, errors);
    } finally {
      await browser.close();
      fs.rmSync(profile, {recursive: true, force: true});
    }
  })().catch((e) => {
    console.error(`${name}: ${e.message}`);
    process.exit(1);
  });
}

// The "errors N[ e1 | e2 ...]" line the shell tests read.
function errorsLine(errors) {
  return `errors ${errors.length}${errors.length ? ' ' + errors.join(' | ') : ''}`;
}

module.exports = {runPage, errorsLine};
