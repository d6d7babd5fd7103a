// next.js - between runs of `loadctl master --web`: the page shows the last run and its Next run form;
// filling users and duration and clicking starts the next run, and the page reloads itself into it.
//   node next.js URL USERS DURATION SHOT   (prints "key value" lines; exits 1 on failure)
'use strict';
const {runPage, errorsLine} = require('./chromium');

const [url, users, duration, shot] = process.argv.slice(2);

runPage('next', 1000, async (page, errors) => {
  await page.goto(url);
  await page.waitForSelector('html[data-run="done"]', {timeout: 20000});
  await page.waitForSelector('#next:not([hidden])', {timeout: 5000});
  const oldId = await page.textContent('#run-id');
  console.log(`old_run ${oldId}`);
  await page.fill('#next-value', users);
  await page.fill('#next-duration', duration);
  await page.click('#next-btn');
  await page.waitForFunction((id) => {
    const el = document.getElementById('run-id');
    return el && el.textContent != id && el.textContent != '-' &&
      document.documentElement.getAttribute('data-status') == 'ok';
  }, oldId, {timeout: 30000});
  console.log(`new_run ${await page.textContent('#run-id')}`);
  await page.waitForFunction(() => Number(document.documentElement.getAttribute('data-intervals') || 0) >= 1,
    null, {timeout: 20000});
  console.log(`users_card ${await page.textContent('#c-users')}`);
  await page.screenshot({path: shot});
  console.log(errorsLine(errors));
});
