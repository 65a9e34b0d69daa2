/**
 * End to end in a real browser: report.html built from the fixtures, opened from file:// in headless Chromium
 * (driven by playwright-core). No console errors, no request other than the file itself, every plot drawn with
 * its marks, the tables identical to report.md, and a screenshot under out/.
 *
 * The browser is Debian's /usr/bin/chromium when present, else the build that the @sparticuz/chromium
 * devDependency ships (test/helpers/chromium.ts), so `npm ci && npm test` runs it with no apt step. It skips,
 * saying why in one line, only where neither exists (a platform the npm build does not cover).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, fixtureInputs, markdownTable, runReportKind } from './report-fixture.js';
import { findChromium } from '../helpers/chromium.js';

const found = await findChromium();
const skip = found.ok ? false : found.error;
if (found.ok) console.log(`# chromium: ${found.value.source}`);
const SCREENSHOT_DIR = join(REPO_ROOT, 'out');

/** What each plot must contain: vega mark class → the number of drawn items for the fixture data. */
const EXPECTED_MARKS: Record<string, Record<string, number>> = {
  // 4 methods × (SI_k2, SI_k1) bars; the x = 0 rule
  'si-by-method': { 'mark-rect': 8, 'mark-rule': 1 },
  // one point per method (identified by colour and shape in the legend); the fix = 2·broke rule
  'fix-vs-broke': { 'mark-symbol': 4, 'mark-rule': 1 },
  // one panel per method (4), each with a band, a line and a y = 0 rule; points = 5 (lora) + 3 (repe) + 3 (simple) + 2 (engineered) = 13
  'logratio-vs-alpha': { 'mark-area': 4, 'mark-line': 4, 'mark-symbol': 13, 'mark-rule': 4 },
  // two methods × 2 search points; the target rule
  'kl-calibration': { 'mark-line': 2, 'mark-symbol': 4, 'mark-rule': 1 },
  // train_pos (train, validation) + train_neg (train)
  'training-loss': { 'mark-line': 3 },
};

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

void test('report.html renders in headless Chromium with no errors, no requests, every plot and every table', { skip }, async () => {
  assert.ok(found.ok);
  const run = await runReportKind(fixtureInputs());
  const htmlPath = join(run.outDir, 'report.html');
  const fileUrl = pathToFileURL(htmlPath).href;

  browser = await chromium.launch({
    executablePath: found.value.executablePath,
    env: { ...process.env, ...found.value.env },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const consoleProblems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleProblems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.route('**/*', async (route) => {
    if (route.request().url() === fileUrl) await route.continue();
    else await route.abort('blockedbyclient');
  });

  const response = await page.goto(fileUrl, { waitUntil: 'load' });
  assert.ok(response === null || response.ok(), 'the page loads');

  assert.deepEqual(requests, [fileUrl], 'the only request is the report file itself');
  assert.deepEqual(consoleProblems, [], 'no console errors or warnings');

  // the smoke banner is the first thing on the page
  const banner = page.locator('#smoke-banner');
  assert.ok(await banner.isVisible(), 'the smoke banner is visible');
  const box = await banner.boundingBox();
  assert.ok(box !== null && box.y < 200, `the smoke banner is at the top (y = ${box?.y})`);

  // every plot: an SVG with a real size and the marks the data implies
  const figures = await page.locator('figure[data-plot]').evaluateAll((els) => els.map((e) => e.getAttribute('data-plot')));
  assert.deepEqual(figures.sort(), Object.keys(EXPECTED_MARKS).sort());
  for (const [id, marks] of Object.entries(EXPECTED_MARKS)) {
    const svg = page.locator(`#plot-${id} > svg`);
    assert.equal(await svg.count(), 1, `${id}: one inline SVG`);
    const b = await svg.boundingBox();
    assert.ok(b !== null && b.width > 300 && b.height > 150, `${id}: drawn at a readable size (${b?.width}×${b?.height})`);
    for (const [cls, n] of Object.entries(marks)) {
      const drawn = await page.locator(`#plot-${id} svg g.${cls}.role-mark > :is(path, line, text)`).count();
      assert.equal(drawn, n, `${id}: ${n} drawn item(s) in g.${cls}`);
    }
  }

  // every table: the cells the browser shows are exactly the cells of report.md
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  const tables = await page.locator('table[data-table]:not([data-table="provenance"])').evaluateAll((els) =>
    els.map((t) => ({
      id: t.getAttribute('data-table') ?? '',
      title: t.closest('.table-wrap')?.previousElementSibling?.previousElementSibling?.textContent ?? '',
      header: [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? ''),
      rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    })),
  );
  assert.equal(tables.length, 9, 'nine tables');
  for (const t of tables) {
    const m = markdownTable(md, t.title);
    assert.deepEqual(t.header, m.header, `${t.id}: headers`);
    assert.deepEqual(t.rows, m.rows, `${t.id}: cells`);
  }

  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-screenshot.png') });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-screenshot-full.png'), fullPage: true });
  assert.ok(existsSync(join(SCREENSHOT_DIR, 'report-screenshot.png')));
});
