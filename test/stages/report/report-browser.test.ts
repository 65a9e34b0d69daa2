/**
 * End to end in a real browser: report.html built from the fixtures, opened from file:// in headless Chromium
 * (driven by playwright-core). No console errors, no request other than the file itself, every plot drawn with
 * its marks, the tables identical to report.md. Then a report shaped like the shipped study's (two seeds, the
 * ablate stage without an adapter axis) at 1366 and 390 px: the header block, the seed aggregation, the ablation
 * table's adapter and ‖dW‖_F note, tables that scroll with a sticky first column, plots that keep legible labels.
 * Screenshots go to a fresh directory under the OS temp dir (printed in the test log).
 *
 * The browser is Debian's /usr/bin/chromium when present, else the build that the @sparticuz/chromium
 * devDependency ships (test/helpers/chromium.ts), so `npm ci && npm test` runs it with no apt step. It skips,
 * saying why in one line, only where neither exists (a platform the npm build does not cover).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { fixtureInputs, markdownTable, runReportKind, shippedShape, twoSeedInputs } from './report-fixture.js';
import { findChromium } from '../../helpers/chromium.js';

const found = await findChromium();
const skip = found.ok ? false : found.error;
if (found.ok) console.log(`# chromium: ${found.value.source}`);
const SCREENSHOT_DIR = mkdtempSync(join(tmpdir(), 'wsflow-report-screenshots-'));
if (found.ok) console.log(`# screenshots: ${SCREENSHOT_DIR}`);

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
  // one panel (lora): train_pos (train, validation) + train_neg (train)
  'training-loss': { 'mark-line': 3 },
};

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

async function launch(): Promise<Browser> {
  assert.ok(found.ok);
  browser ??= await chromium.launch({
    executablePath: found.value.executablePath,
    env: { ...process.env, ...found.value.env },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  return browser;
}

void test('report.html renders in headless Chromium with no errors, no requests, every plot and every table', { skip }, async () => {
  assert.ok(found.ok);
  const run = await runReportKind(fixtureInputs());
  const htmlPath = join(run.outDir, 'report.html');
  const fileUrl = pathToFileURL(htmlPath).href;

  const page: Page = await (await launch()).newPage({ viewport: { width: 1400, height: 1000 } });
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
  const tables = await page.locator('.table-wrap > table[data-table]:not([data-table="provenance"]):not([data-table="origins"])').evaluateAll((els) =>
    els.map((t) => ({
      id: t.getAttribute('data-table') ?? '',
      title: t.closest('.table-wrap')?.previousElementSibling?.previousElementSibling?.textContent ?? '',
      header: [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? ''),
      rows: [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    })),
  );
  // T1, its intervals and differences, raw logratio, T2, KL, α*, its intervals and differences, IID, ablation, diffs, training
  assert.equal(tables.length, 13, 'thirteen tables');
  for (const t of tables) {
    const m = markdownTable(md, t.title);
    assert.deepEqual(t.header, m.header, `${t.id}: headers`);
    assert.deepEqual(t.rows, m.rows, `${t.id}: cells`);
  }

  await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-screenshot.png') });
  await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-screenshot-full.png'), fullPage: true });
  assert.ok(existsSync(join(SCREENSHOT_DIR, 'report-screenshot.png')));
});

void test('a study-shaped report at 1366 and 390 px: header block, seeds aggregated, ablation adapter with ‖dW‖_F, sticky first column, legible plots', { skip }, async () => {
  const { root, inputs } = twoSeedInputs(1);
  const facts = {
    profile: 'smoke',
    overrides: ['seed=[0, 1]'],
    pipelineSha256: '5e'.repeat(32),
    paramChanges: [{ path: 'seed', value: [0, 1], default: [0] }],
  };
  const run = await runReportKind(shippedShape(inputs), {}, undefined, { run: facts });
  const fileUrl = pathToFileURL(join(run.outDir, 'report.html')).href;
  for (const width of [1366, 390]) {
    const page: Page = await (await launch()).newPage({ viewport: { width, height: 900 } });
    await page.route('**/*', async (route) => {
      if (route.request().url() === fileUrl) await route.continue();
      else await route.abort('blockedbyclient');
    });
    await page.goto(fileUrl, { waitUntil: 'load' });
    const at = `at ${width} px`;

    // the header block, near the top, with every line
    const header = page.locator('#report-header');
    assert.ok(await header.isVisible(), `${at}: the header block is visible`);
    const hb = await header.boundingBox();
    assert.ok(hb !== null && hb.y < 700 && hb.x >= 0 && hb.x + hb.width <= width + 1, `${at}: header within the page width near the top (${JSON.stringify(hb)})`);
    const labels = await header.locator('th').allTextContents();
    assert.deepEqual(labels, ['profile', '-S overrides', 'params changed from defaults', 'pipeline.yaml sha256', 'git commit', 'wsflow version', 'backend']);
    const values = await header.locator('td').allTextContents();
    assert.equal(values[0], 'smoke');
    assert.equal(values[1], 'seed=[0, 1]');
    assert.equal(values[2], 'seed = [0,1] (default [0])');

    // seeds aggregated: one dW:lora row with n_seeds 2 and ± sd columns; no per-seed method
    const t1 = page.locator('table[data-table="si-table"]');
    const heads = await t1.locator('thead th').allTextContents();
    assert.ok(heads.includes('n_seeds') && heads.includes('± sd'), `${at}: T1 headers ${heads.join(', ')}`);
    const methods = await t1.locator('tbody td:first-child').allTextContents();
    assert.equal(methods.filter((m) => m.startsWith('dW:lora')).length, 1, `${at}: one dW:lora row (${methods.join(', ')})`);
    const seedsCell = await t1.locator('tbody tr', { hasText: 'dW:lora' }).locator('td[data-col="n_seeds"]').textContent();
    assert.equal(seedsCell, '2');

    // the ablation table names the adapter and carries the ‖dW‖_F note
    const ablation = page.locator('table[data-table="delora-ablation"]');
    assert.deepEqual([...new Set(await ablation.locator('tbody td:first-child').allTextContents())], ['delora']);
    const notes = await page.locator('#table-delora-ablation ~ ul.notes').first().textContent();
    assert.match(notes ?? '', /‖dW‖_F of delora = 33\.43 \(from diff@delora\)/);

    // the page itself never scrolls sideways; a wide table scrolls in its box and keeps its first column in view
    const pageWidth = await page.locator('html').evaluate((el) => el.scrollWidth);
    assert.ok(pageWidth <= width + 1, `${at}: the page is ${pageWidth} px wide`);
    const wrap = page.locator('.table-wrap', { has: page.locator('table[data-table="calibrated-si"]') });
    const overflow = await wrap.evaluate((el) => el.scrollWidth - el.clientWidth);
    if (overflow > 0) {
      const cell = wrap.locator('tbody tr:first-child td:first-child');
      const before = await cell.boundingBox();
      await wrap.evaluate((el) => {
        el.scrollLeft = el.scrollWidth;
      });
      const after = await cell.boundingBox();
      assert.ok(before !== null && after !== null && Math.abs(before.x - after.x) < 1, `${at}: the first column stays put (${before?.x} → ${after?.x})`);
    }
    if (width === 390) assert.ok(overflow > 0, 'at 390 px the α* table is wider than the screen and scrolls in its box');

    // plots keep their labels at a readable size: axis labels at least 10 px tall on screen
    for (const id of ['si-by-method', 'logratio-vs-alpha', 'training-loss']) {
      const heights = await page.locator(`#plot-${id} svg g[class*="role-axis-label"] text`).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
      assert.ok(heights.length > 0, `${at}: ${id} has axis labels`);
      const smallest = Math.min(...heights);
      assert.ok(smallest >= 10, `${at}: ${id} axis labels ${smallest.toFixed(1)} px tall`);
    }

    await page.screenshot({ path: join(SCREENSHOT_DIR, `report-${width}.png`) });
    await page.screenshot({ path: join(SCREENSHOT_DIR, `report-${width}-full.png`), fullPage: true });
    assert.ok(existsSync(join(SCREENSHOT_DIR, `report-${width}.png`)));
    await page.close();
  }
  rmSync(root, { recursive: true, force: true });
});
