// browser.js - drives the live page in headless Chromium (playwright-core): the table updates, users are
// set lower from the form, stop ends the run and the page shows the report's link. Usage:
//   node browser.js URL SHOT_DIR   (prints "key value" lines the shell test asserts; exits 1 on failure)
'use strict';
const path = require('path');
const {runPage, errorsLine} = require('./chromium');

const [url, shots] = process.argv.slice(2);

async function intervals(page) {
  return Number(await page.getAttribute('html', 'data-intervals') || 0);
}

async function waitIntervals(page, n) {
  await page.waitForFunction((k) => Number(document.documentElement.getAttribute('data-intervals') || 0) >= k,
    n, {timeout: 30000});
}

async function cell(page, col) {
  return page.textContent(`#names tbody tr:first-child td:nth-child(${col})`);
}

runPage('browser', 1800, async (page, errors) => {
  await page.goto(url);
  await page.waitForSelector('html[data-status="ok"]', {timeout: 20000});
  await waitIntervals(page, 1);
  const seen = await intervals(page);
  const totalA = await cell(page, 8);
  await waitIntervals(page, seen + 1);
  const totalB = await cell(page, 8);
  console.log(`table ${totalA} ${totalB}`);
  console.log(`name ${await cell(page, 1)}`);
  await page.fill('#scale-value', '2');
  await page.click('#scale-btn');
  await page.waitForFunction(() => document.getElementById('control-msg').textContent == 'done', null,
    {timeout: 10000});
  const at = await intervals(page);
  await waitIntervals(page, at + 3);
  console.log(`users_card ${await page.textContent('#c-users')}`);
  console.log(`svg ${await page.locator('svg.chart').count()}`);
  console.log(`marks ${await page.locator('svg.chart line.mark').count()}`);
  await page.screenshot({path: path.join(shots, 'live.png'), fullPage: true});
  await page.click('#stop-btn');
  await page.waitForSelector('html[data-run="done"]', {timeout: 30000});
  console.log(`final ${(await page.textContent('#final-text')).replace(/\s+/g, ' ')}`);
  console.log(`report_href ${await page.getAttribute('#report-link', 'href')}`);
  await page.screenshot({path: path.join(shots, 'done.png'), fullPage: false});
  console.log(errorsLine(errors));
});
