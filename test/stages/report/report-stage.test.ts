/**
 * The report kind's behaviour around the numbers: smoke detection, provenance, omitted tables, plots, and clear
 * errors (naming input, stage, file, column) that leave the output directory empty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UpstreamOutput } from '../../../src/contract/stage-kind.js';
import { builtinKinds } from '../../../stages/index.js';
import { buildReport } from '../../../stages/report/build-report.js';
import { readProvenance, writeStageProvenance, PROVENANCE_FILE } from '../../../stages/lib/provenance.js';
import { FIXTURES, REPO_ROOT, engineFacts, fixtureInputs, runReportKind } from './report-fixture.js';
import { tempDir } from '../../helpers/temp-dir.js';

function copyFixtures(): string {
  const dir = tempDir('wsflow-report-fx-');
  cpSync(FIXTURES, dir, { recursive: true });
  return dir;
}

function editProvenance(root: string, sub: string, edit: (p: Record<string, unknown>) => void): void {
  const file = join(root, sub, PROVENANCE_FILE);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(p);
  writeFileSync(file, JSON.stringify(p));
}

function editCsv(root: string, file: string, edit: (lines: string[]) => string[]): void {
  const path = join(root, file);
  writeFileSync(path, `${edit(readFileSync(path, 'utf8').trimEnd().split('\n')).join('\n')}\n`);
}

/** Runs the kind and expects it to fail; returns the message and checks nothing was written. */
async function expectFailure(inputs: Record<string, UpstreamOutput[]>): Promise<string> {
  const outDir = tempDir('wsflow-report-out-');
  const err = await runReportKind(inputs, {}, outDir).then(
    () => assert.fail('the report kind should have failed'),
    (e: unknown) => e as Error,
  );
  assert.deepEqual(readdirSync(outDir), [], 'a failed report leaves its output directory empty');
  return err.message;
}

void test('the kind is registered, takes the documented inputs, and only evals is required', () => {
  const kind = builtinKinds.get('report');
  assert.ok(kind);
  assert.deepEqual(Object.keys(kind.inputs), ['evals', 'calibration', 'calibrated', 'iid', 'ablation', 'training', 'diff', 'subspace']);
  const required = Object.entries(kind.inputs).filter(([, s]) => s.optional !== true).map(([n]) => n);
  assert.deepEqual(required, ['evals']);
  assert.equal(kind.resources, 'cpu');
});

void test('the kind module imports only the contract, its params and its name and version at load time (vega and vega-lite stay behind load())', () => {
  const compiled = readFileSync(join(REPO_ROOT, 'dist', 'stages', 'report', 'index.js'), 'utf8');
  assert.deepEqual(compiled.match(/^import .*$/gm) ?? [], [
    "import { defineKind } from '../../src/contract/stage-kind.js';",
    "import { REPORT_KIND_NAME, REPORT_KIND_VERSION } from './kind-info.js';",
    "import { reportParams } from './params.js';",
  ]);
  for (const cheap of ['kind-info.js', 'params.js']) {
    assert.deepEqual(readFileSync(join(REPO_ROOT, 'dist', 'stages', 'report', cheap), 'utf8').match(/^import .*$/gm) ?? [], [], cheap);
  }
  // The contract itself loads only its params parser and the one Result (both free of dependencies).
  assert.deepEqual(readFileSync(join(REPO_ROOT, 'dist', 'src', 'contract', 'stage-kind.js'), 'utf8').match(/^import .*$/gm) ?? [], [
    "import { parseParams } from './params.js';",
    "import { err, ok } from './result.js';",
  ]);
  assert.deepEqual(readFileSync(join(REPO_ROOT, 'dist', 'src', 'contract', 'result.js'), 'utf8').match(/^import .*$/gm) ?? [], []);
  assert.match(compiled, /await import\('\.\/report-stage\.js'\)/);
});

void test('a report built from synthetic data says SMOKE RUN at the top of both pages, with the reasons', async () => {
  const run = await runReportKind(fixtureInputs());
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
  const mdLines = md.split('\n');
  assert.match(mdLines[2] ?? '', /^> \*\*⚠ SMOKE RUN/);
  assert.match(md, /synthetic dataset fixture:six-dilemma-rows, used by eval@lora, eval@repe, eval@prompts, calibrate and 2 more/);
  assert.ok(html.indexOf('id="smoke-banner"') < html.indexOf('<nav>'), 'the banner comes before the contents');
  assert.equal(run.annotations.smoke, true);
  const own = readProvenance(run.outDir);
  assert.equal(own.status, 'ok');
  if (own.status === 'ok') {
    assert.equal(own.provenance.stage_id, 'report');
    assert.equal(own.provenance.dataset_synthetic, true);
    assert.equal(own.provenance.model, 'fixture:hand-written');
  }
  // the report is the last stage: it says which run built it (report.json, the page), not only when
  const built = (JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as { built_by: { runId: string; stageKey: string } }).built_by;
  assert.deepEqual([built.runId, built.stageKey], ['42', 'f'.repeat(64)]);
  assert.match(md, /built \S+ by stage `report` \(run 42, key ffffffffffff\)/);
});

void test('no banner when no stage used a random model or synthetic data; a random model alone triggers it', async () => {
  const root = copyFixtures();
  for (const sub of readdirSync(root)) {
    try {
      editProvenance(root, sub, (p) => {
        p.dataset_synthetic = false;
        p.model_random = false;
      });
    } catch {
      // train-neg-lora has no provenance.json by design
    }
  }
  const clean = await runReportKind(fixtureInputs(root));
  const md = readFileSync(join(clean.outDir, 'report.md'), 'utf8');
  assert.doesNotMatch(md, /SMOKE RUN/);
  assert.doesNotMatch(readFileSync(join(clean.outDir, 'report.html'), 'utf8'), /smoke-banner/);
  assert.equal(clean.annotations.smoke, false);

  editProvenance(root, 'eval-repe', (p) => {
    p.model_random = true;
    p.model = 'test/fixtures/qwen3-tiny';
  });
  const smoke = await runReportKind(fixtureInputs(root));
  assert.match(readFileSync(join(smoke.outDir, 'report.md'), 'utf8'), /SMOKE RUN[\s\S]*random model test\/fixtures\/qwen3-tiny, used by eval@repe/);
  rmSync(root, { recursive: true, force: true });
});

void test('provenance: every upstream is listed with run, key, fingerprints, backend and date; a missing file is a warning', async () => {
  const run = await runReportKind(fixtureInputs());
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  // models and datasets are listed once, with full name and fingerprint; rows name them by label
  assert.match(md, /\| M1 \| fixture:hand-written \| abababababab \| — \| \d+ \|/);
  assert.match(md, /\| D1 \| fixture:six-dilemma-rows \| cdcdcdcdcdcd \| synthetic \| \d+ \|/);
  assert.equal(md.split('fixture:hand-written').length - 1, 1, 'the model name appears once in report.md');
  assert.match(md, /\| eval@lora \| evals \| eval-dilemmas@1\.0\.0 \| 7 \| a1a1a1a1a1a1 \| M1 \| D1 \| cpu \| 2026-11-24T12:00:00\.000Z \|/);
  // without provenance.json the engine's record still gives run, key, backend and date
  assert.match(md, /\| train_neg@lora \| training \| provenance\.json missing \| 7 \| abababababab \| unknown \| unknown \| cpu \| 2026-11-24T12:00:00\.000Z \|/);
  assert.match(md, /- stage train_neg@lora wrote no provenance\.json: its model and dataset are unknown/);
  const json = JSON.parse(readFileSync(join(run.outDir, 'report.json'), 'utf8')) as { sources: { stageId: string; key: string | null; host: string | null }[] };
  assert.equal(json.sources.length, 11);
  const lora = json.sources.find((s) => s.stageId === 'eval@lora');
  assert.equal(lora?.key, 'a1'.repeat(32), 'report.json keeps full keys');
  assert.equal(lora?.host, 'fixture-host');
});

void test('provenance: run, key, date and backend come from the engine, not from the upstream\'s files', async () => {
  const inputs = fixtureInputs();
  const lora = inputs.evals?.[0];
  assert.ok(lora !== undefined);
  inputs.evals = [{ ...lora, runId: 12, key: 'c3'.repeat(32), finishedAt: '2027-01-02T03:04:05.000Z', annotations: { backend: 'native' } }, ...(inputs.evals ?? []).slice(1)];
  const md = readFileSync(join((await runReportKind(inputs)).outDir, 'report.md'), 'utf8');
  assert.match(md, /\| eval@lora \| evals \| eval-dilemmas@1\.0\.0 \| 12 \| c3c3c3c3c3c3 \| M1 \| D1 \| native \| 2027-01-02T03:04:05\.000Z \|/);
  // a context built by hand (no engine): nothing is invented, the backend falls back to provenance.json
  const bare = fixtureInputs();
  bare.evals = (bare.evals ?? []).map(({ stageId, dir, matrix }) => ({ stageId, dir, matrix }));
  const plain = readFileSync(join((await runReportKind(bare)).outDir, 'report.md'), 'utf8');
  assert.match(plain, /\| eval@lora \| evals \| eval-dilemmas@1\.0\.0 \| not recorded \| not recorded \| M1 \| D1 \| cpu \| not recorded \|/);
});

void test('an invalid provenance.json is reported with its file and key, and the report still builds', async () => {
  const root = copyFixtures();
  editProvenance(root, 'eval-repe', (p) => {
    p.model_random = 'yes';
  });
  const run = await runReportKind(fixtureInputs(root));
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  assert.match(md, /stage eval@repe: .*eval-repe\/provenance\.json: key "model_random" must be true or false, got "yes"; its provenance is shown as missing/);
  rmSync(root, { recursive: true, force: true });
});

void test('writeStageProvenance writes only what follows from inputs and params: no run, key or time', () => {
  const dir = tempDir('wsflow-prov-');
  const facts = { kind: 'eval-dilemmas', version: '1.2.0', model: 'Qwen/Qwen3-0.6B', model_fingerprint: 'sha256:00', model_random: false, dataset: 'd', dataset_fingerprint: null, dataset_synthetic: false, backend: 'wasm' };
  writeStageProvenance({ stageId: 'eval@lora', outDir: dir }, facts);
  const first = readFileSync(join(dir, PROVENANCE_FILE), 'utf8');
  assert.deepEqual(Object.keys(JSON.parse(first) as object), ['schema', 'stage_id', 'kind', 'version', 'model', 'model_fingerprint', 'model_random', 'dataset', 'dataset_fingerprint', 'dataset_synthetic', 'backend']);
  writeStageProvenance({ stageId: 'eval@lora', outDir: dir }, facts);
  assert.equal(readFileSync(join(dir, PROVENANCE_FILE), 'utf8'), first, 'a second write is byte-identical');
  const read = readProvenance(dir);
  assert.equal(read.status, 'ok');
  if (read.status === 'ok') {
    assert.equal(read.provenance.stage_id, 'eval@lora');
    assert.equal(read.provenance.backend, 'wasm');
  }
  // a file of the first schema (with run_id, stage_key, created) is still read; those three keys are ignored
  writeFileSync(join(dir, PROVENANCE_FILE), JSON.stringify({ ...(JSON.parse(first) as object), schema: 'wsflow.provenance/1', run_id: '3', stage_key: 'ab', created: '2026-01-01T00:00:00Z' }));
  const old = readProvenance(dir);
  assert.ok(old.status === 'ok' && !('run_id' in old.provenance) && old.provenance.schema === 'wsflow.provenance/2');
  assert.deepEqual(readProvenance(join(dir, 'nowhere')), { status: 'missing' });
});

void test('with only evals, the other tables are omitted with a note saying which input is missing', async () => {
  const all = fixtureInputs();
  const run = await runReportKind({ evals: all.evals ?? [] });
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  for (const [title, input] of [
    ['KL calibration table and curves', 'calibration'],
    ['SI at KL-calibrated α*', 'calibrated'],
    ['IID mean_lr shift table', 'iid'],
    ['DeLoRA ablation table', 'ablation'],
    ['Weight diff table', 'diff'],
    ['Subspace table', 'subspace'],
    ['Training loss table and curves', 'training'],
  ] as const) {
    assert.match(md, new RegExp(`> \\*\\*${title.replace(/[*]/g, '\\*')}\\*\\* omitted: no "${input}" input`), `${title} omitted`);
  }
  assert.match(md, /### T1 — Surgical informedness at α = ±1/);
  assert.deepEqual(readdirSync(join(run.outDir, 'plots')).filter((f) => f.endsWith('.svg')).sort(), ['fix-vs-broke.svg', 'logratio-vs-alpha.svg', 'si-by-method.svg']);
});

void test('plots are SVG files with the expected marks, referenced from report.md and inlined in report.html', async () => {
  const run = await runReportKind(fixtureInputs());
  const md = readFileSync(join(run.outDir, 'report.md'), 'utf8');
  const html = readFileSync(join(run.outDir, 'report.html'), 'utf8');
  const marks: Record<string, string[]> = {
    'si-by-method': ['mark-rect', 'mark-rule'],
    'fix-vs-broke': ['mark-symbol', 'mark-rule'],
    'logratio-vs-alpha': ['mark-area', 'mark-line', 'mark-symbol', 'mark-rule'],
    'kl-calibration': ['mark-line', 'mark-symbol', 'mark-rule'],
    'training-loss': ['mark-line'],
  };
  for (const [id, classes] of Object.entries(marks)) {
    const svg = readFileSync(join(run.outDir, 'plots', `${id}.svg`), 'utf8');
    for (const c of classes) assert.match(svg, new RegExp(`class="${c} role-mark`), `${id}.svg has ${c}`);
    assert.match(md, new RegExp(`!\\[[^\\]]+\\]\\(plots/${id}\\.svg\\)`));
    assert.match(html, new RegExp(`<figure id="plot-${id}"[^>]*>\\n<svg `));
    JSON.parse(readFileSync(join(run.outDir, 'plots', `${id}.vl.json`), 'utf8'));
  }
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external references');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  // inline SVG ids are unique across plots (a shared clip-path id would clip one plot with another's box)
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'HTML ids are unique');
});

void test('the same inputs give byte-identical pages (no hidden time or randomness besides the build date)', async () => {
  const opts = (outDir: string): Parameters<typeof buildReport>[0] => ({
    inputs: fixtureInputs(),
    outDir,
    behavior: 'honesty',
    builtBy: { stageId: 'report', runId: '1', stageKey: null, created: '2026-01-01T00:00:00.000Z' },
  });
  const a = tempDir('wsflow-report-a-');
  const b = tempDir('wsflow-report-b-');
  await buildReport(opts(a));
  await buildReport(opts(b));
  for (const f of ['report.html', 'report.md', 'report.json', 'plots/logratio-vs-alpha.svg']) {
    assert.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), f);
  }
});

void test('errors: no evals input, an unknown input, a stage without the expected file', async () => {
  assert.match(await expectFailure({}), /input "evals" is required/);
  const all = fixtureInputs();
  assert.match(await expectFailure({ ...all, evalz: all.evals ?? [] }), /unknown input "evalz"; the report kind takes evals, calibration/);
  const wrong = { ...all, iid: all.diff ?? [] };
  assert.match(await expectFailure(wrong), /report input "iid": stage diff@lora has no iid_per_row\.csv in .*diff-lora/);
});

void test('errors: a missing column and an unparsable value name the file, the line and the column', async () => {
  const root = copyFixtures();
  editCsv(root, 'eval-repe/dilemmas_per_row.csv', (lines) => lines.map((l) => l.split(',').filter((_, i) => i !== 5).join(',')));
  const missing = await expectFailure(fixtureInputs(root));
  assert.match(missing, /report input "evals" \(stage eval@repe\): .*eval-repe\/dilemmas_per_row\.csv:1: missing column\(s\) "pmass"/);

  cpSync(join(FIXTURES, 'eval-repe'), join(root, 'eval-repe'), { recursive: true });
  editCsv(root, 'eval-repe/dilemmas_per_row.csv', (lines) => lines.map((l, i) => (i === 4 ? l.replace(/,[^,]+$/, ',abc') : l)));
  const bad = await expectFailure(fixtureInputs(root));
  assert.match(bad, /eval-repe\/dilemmas_per_row\.csv:5: column logratio_honesty: "abc" is not a valid number/);
  rmSync(root, { recursive: true, force: true });
});

void test('errors: rows that do not line up across α, a bad honesty label, and one method from two stages', async () => {
  const root = copyFixtures();
  // drop dW:lora's row idx 5 at α = +1 (line 1 is the header; α = +1 rows are lines 20..25)
  editCsv(root, 'eval-lora/dilemmas_per_row.csv', (lines) => lines.filter((_, i) => i !== 24));
  const mismatch = await expectFailure(fixtureInputs(root));
  assert.match(mismatch, /report: dW:lora from eval@lora \(dilemmas_per_row\.csv\): row identity mismatch .*1 missing: \(idx=5, dilemma_idx=2, not_to_do\)/);

  cpSync(join(FIXTURES, 'eval-lora'), join(root, 'eval-lora'), { recursive: true });
  editCsv(root, 'eval-repe/dilemmas_per_row.csv', (lines) => lines.map((l, i) => (i === 1 ? l.replace(',to_do,1,', ',to_do,0,') : l)));
  const label = await expectFailure(fixtureInputs(root));
  assert.match(label, /stage eval@repe\): .*eval-repe\/dilemmas_per_row\.csv: column honesty_label must be \+1 or -1, got 0/);

  cpSync(join(FIXTURES, 'eval-repe'), join(root, 'eval-repe'), { recursive: true });
  const inputs = fixtureInputs(root);
  // eval@lora2 claims dW:lora too, with different scores
  cpSync(join(root, 'eval-lora'), join(root, 'eval-lora2'), { recursive: true });
  editCsv(root, 'eval-lora2/dilemmas_per_row.csv', (lines) => lines.map((l, i) => (i === 13 ? l.replace(/,2\.0$/, ',2.5') : l)));
  inputs.evals = [...(inputs.evals ?? []), { stageId: 'eval@lora2', dir: join(root, 'eval-lora2'), matrix: {} }];
  const twice = await expectFailure(inputs);
  assert.match(twice, /method dW:lora at coeff 0 comes from two stages with different scores: eval@lora \(.*\) and eval@lora2/);
  rmSync(root, { recursive: true, force: true });
});

void test('a cmd stage hands over a tree with its outs: the report finds the file in it, and refuses two candidates', async () => {
  const tree = tempDir('wsflow-report-tree-');
  cpSync(join(FIXTURES, 'eval-lora'), join(tree, 'out', 'my_eval'), { recursive: true });
  const all = fixtureInputs();
  const ok = await runReportKind({ ...all, evals: [{ stageId: 'my_eval', dir: tree, matrix: {}, ...engineFacts('eval-lora') }] });
  const md = readFileSync(join(ok.outDir, 'report.md'), 'utf8');
  assert.match(md, /\| dW:lora \| 1 \| 0\.00 \| −6\.25 \|/);
  assert.match(md, /\| my_eval \| evals \| eval-dilemmas@1\.0\.0 \| 7 \| a1a1a1a1a1a1 \|/, 'provenance.json is read next to the data file');

  cpSync(join(FIXTURES, 'eval-lora'), join(tree, 'out', 'other_eval'), { recursive: true });
  const err = await expectFailure({ ...all, evals: [{ stageId: 'my_eval', dir: tree, matrix: {} }] });
  assert.match(err, /report input "evals": stage my_eval has dilemmas_per_row\.csv in 2 places \(out\/my_eval, out\/other_eval\); give the report one/);
  rmSync(tree, { recursive: true, force: true });
});
