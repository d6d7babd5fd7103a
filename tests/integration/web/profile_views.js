// profile_views.js - report.html's profile views in headless Chromium (playwright-core): for every type of
// the profile-type selector, how many sunburst arcs, top-table rows with a file:line and Lines-view rows it
// draws; and the memory chart under latency. Usage: node profile_views.js REPORT_URL [SHOT_DIR]
// Prints "type T arcs N locs N lines N" per type, "heap_paths N", "status S", "errors [...]"; exits 1 on a
// failure to drive the page.
'use strict';
const path = require('path');
const {runPage} = require('./chromium');

// With --live URL: the running master's live page instead: waits for its memory section (/api/timeline)
// and prints "live_timeline N" (heap points shown) and "live_heap_paths N".
const live = process.argv[2] === '--live';
const [url, shots] = process.argv.slice(live ? 3 : 2);

async function livePage(page) {
  await page.goto(url);
  await page.waitForFunction(() => Number(document.documentElement.getAttribute('data-timeline') || 0) >= 2,
    null, {timeout: 30000});
  console.log(`live_timeline ${await page.getAttribute('html', 'data-timeline')}`);
  const heap = await page.$$eval('#memory:not([hidden]) svg[data-kind="heap"] path.line',
    (ps) => ps.filter((p) => p.getAttribute('d').length > 20).length);
  console.log(`live_heap_paths ${heap}`);
  if (shots) await (await page.$('#memory')).screenshot({path: path.join(shots, 'live-memory.png')});
}

runPage('profile_views', 900, async (page, errors) => {
  if (live) {
    await livePage(page);
    console.log(`errors ${JSON.stringify(errors)}`);
    return;
  }
  await page.goto(url);
  await page.waitForSelector('html[data-profile="ok"]', {timeout: 30000});
  const types = await page.$$eval('#lc-type option', (os) => os.map((o) => o.value));
  for (const t of types) {
    await page.selectOption('#lc-type', t);
    const r = await page.evaluate(() => ({
      arcs: document.querySelectorAll('#lc-sun path').length,
      locs: [...document.querySelectorAll('#lc-top tr td:nth-child(2)')].filter((td) => /:\d+$/.test(td.textContent)).length,
      lines: Number(document.getElementById('lc-lines').getAttribute('data-lines') || 0),
    }));
    console.log(`type ${t} arcs ${r.arcs} locs ${r.locs} lines ${r.lines}`);
    if (shots && (t === 'cpu' || t === 'heap')) {
      await (await page.$('#profile')).screenshot({path: path.join(shots, `profile-${t}.png`)});
    }
  }
  const heap = await page.$$eval('svg[data-kind="heap"] path.line', (ps) => ps.filter((p) => p.getAttribute('d').length > 20).length);
  console.log(`heap_paths ${heap}`);
  if (shots && heap) await (await page.$('#memory')).screenshot({path: path.join(shots, 'memory.png')});
  console.log(`status ${await page.getAttribute('html', 'data-status')}`);
  console.log(`errors ${JSON.stringify(errors)}`);
});
