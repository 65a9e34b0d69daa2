/**
 * T2, the full daily-dilemmas benchmark (study-ref §9.7) as the `dd-benchmark` kind, on the planted tiny model with
 * two dWs: the per-row and summary CSVs have the spec's columns; every (adapter, coeff) is scored exactly as the
 * eval-dilemmas kind scores that dW at that coeff (row for row), its SI is that of the ±|coeff| pair, and the
 * row-count check (2·n_dilemmas per adapter and coeff) fails on a dilemma that lost one of its actions. The
 * pipeline.yaml block that opts into it plans (pipeline-study/planted-signs covers the signs of the chain).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DD_BENCHMARK_PER_ROW, DD_BENCHMARK_SUMMARY, DILEMMAS_PER_ROW, SI_SUMMARY } from '../../../stages/lib/artifacts.js';
import { cleanupTempDirs, readCsv, REPO_ROOT, runKind, tempDir, upstream, writePerturbedAdapter, type RecordedContext } from '../helpers.js';

after(cleanupTempDirs);

let model: RecordedContext;
let dilemmas: RecordedContext;
const diffs: RecordedContext[] = [];

before(async () => {
  model = await runKind('model', { stageId: 'model', params: { tiny: { seed: 0, layers: 4, hidden_size: 64, intermediate_size: 128, heads: 4, kv_heads: 2, head_dim: 16, planted: true } } });
  dilemmas = await runKind('dilemmas', { stageId: 'dilemmas', params: { dataset: { path: 'data/synthetic-dilemmas' }, n_dilemmas: 2 } });
  for (const type of ['lora', 'delora'] as const) {
    diffs.push(
      await runKind('diff', {
        stageId: `diff@${type}`,
        matrix: { adapter: type },
        inputs: {
          model: [upstream('model', model.outDir)],
          pos: [upstream(`train_pos@${type}`, await writePerturbedAdapter(model.outDir, join(tempDir(), 'pos'), type, 1))],
          neg: [upstream(`train_neg@${type}`, await writePerturbedAdapter(model.outDir, join(tempDir(), 'neg'), type, 2))],
        },
      }),
    );
  }
});

function benchmark(dilemmasDir: string): Promise<RecordedContext> {
  return runKind('dd-benchmark', {
    stageId: 'dd_benchmark',
    inputs: { model: [upstream('model', model.outDir)], dilemmas: [upstream('dilemmas', dilemmasDir)], dw: diffs.map((d, i) => upstream(d.stageId, d.outDir, { adapter: ['lora', 'delora'][i] as string })) },
    params: { coeffs: [-2, -1, 0, 1, 2] },
  });
}

void test('dd-benchmark: the spec’s columns, every adapter at −2…2, scored as eval-dilemmas scores each dW', async () => {
  const t2 = await benchmark(dilemmas.outDir);
  const perRow = readCsv(join(t2.outDir, DD_BENCHMARK_PER_ROW.file));
  assert.deepEqual(perRow.header, ['idx', 'dilemma_idx', 'coeff', 'logratio', 'pmass', 'low_pmass', 'action_type', 'honesty_label', 'logratio_honesty', 'persona', 'adapter']);
  assert.equal(perRow.rows.length, 2 * 5 * 4);
  const summary = readCsv(join(t2.outDir, DD_BENCHMARK_SUMMARY.file));
  assert.deepEqual(summary.header, ['adapter', 'coeff', 'mean_logratio_honesty', 'std_logratio_honesty', 'mean_pmass', 'frac_low_pmass', 'n_base_rows_per_coeff', 'mean_logratio_honesty_0', 'delta_vs_0', 'SI', 'si_fwd', 'si_rev']);
  assert.deepEqual(
    summary.rows.map((r) => `${r.adapter}@${r.coeff}`),
    ['delora', 'lora'].flatMap((a) => [-2, -1, 0, 1, 2].map((c) => `${a}@${c}`)),
  );
  assert.ok(summary.rows.every((r) => r.n_base_rows_per_coeff === '4'));
  for (const [i, d] of diffs.entries()) {
    const adapter = ['lora', 'delora'][i] as string;
    const ev = await runKind('eval-dilemmas', { stageId: `eval@${adapter}`, inputs: { model: [upstream('model', model.outDir)], dilemmas: [upstream('dilemmas', dilemmas.outDir)], dw: [upstream(d.stageId, d.outDir)] }, params: { coeffs: [-2, -1, 0, 1, 2] } });
    const evRows = readCsv(join(ev.outDir, DILEMMAS_PER_ROW.file)).rows;
    const mine = perRow.rows.filter((r) => r.adapter === adapter);
    assert.equal(mine.length, evRows.length);
    for (const r of evRows) {
      const m = mine.find((x) => x.idx === r.idx && Number(x.coeff) === Number(r.coeff));
      assert.ok(m !== undefined && m.logratio === r.logratio && m.pmass === r.pmass && m.persona === 'base', `${adapter} idx ${r.idx} coeff ${r.coeff}`);
    }
    const si = readCsv(join(ev.outDir, SI_SUMMARY.file)).rows;
    for (const c of [1, 2]) {
      const want = si.find((r) => Number(r.alpha) === c)?.SI;
      for (const sc of [c, -c]) assert.equal(summary.rows.find((r) => r.adapter === adapter && Number(r.coeff) === sc)?.SI, want, `${adapter} SI at ${sc}`);
    }
    assert.equal(summary.rows.find((r) => r.adapter === adapter && r.coeff === '0')?.SI, 'NaN');
  }
});

void test('dd-benchmark: a dilemma with one action fails the 2·n_dilemmas row check, naming the adapter and coeff', async () => {
  const broken = join(tempDir(), 'dilemmas');
  cpSync(dilemmas.outDir, broken, { recursive: true });
  const lines = readFileSync(join(broken, 'rows.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
  writeFileSync(join(broken, 'rows.jsonl'), `${lines.slice(1).join('\n')}\n`);
  await assert.rejects(benchmark(broken), /delora at coeff -2: n_base_rows_per_coeff 3 ≠ 2·n_dilemmas \(4\)/);
});

void test('pipeline.yaml’s opt-in dd_benchmark block plans: one per behaviour, over every dW of that behaviour', () => {
  const project = tempDir();
  mkdirSync(join(project, 'data'));
  cpSync(join(REPO_ROOT, 'data'), join(project, 'data'), { recursive: true });
  const yaml = readFileSync(join(REPO_ROOT, 'pipeline.yaml'), 'utf8');
  const lines = yaml.split('\n');
  const start = lines.indexOf('  # dd_benchmark:');
  assert.ok(start > 0, 'pipeline.yaml carries the commented dd_benchmark block');
  let end = start + 1;
  while ((lines[end] ?? '').startsWith('  #   ')) end++;
  const enabled = [...lines.slice(0, start), ...lines.slice(start, end).map((l) => `  ${l.slice(4)}`), ...lines.slice(end)].join('\n');
  writeFileSync(join(project, 'pipeline.yaml'), enabled);
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'wsflow.js'), 'dag', '--profile', 'smoke'], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  for (const b of ['honesty', 'sycophancy']) assert.match(r.stdout, new RegExp(`^dd_benchmark@${b}\\s+uses dd-benchmark`, 'm'));
});
