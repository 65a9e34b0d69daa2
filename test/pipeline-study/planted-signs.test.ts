/**
 * The smoke study's signs, end to end through the CLI (issue 16): on the planted tiny model (src/core/planted-honesty.ts)
 * the shipped pipeline.yaml, smoke profile, must show
 *   - pmass at α = 0 well above 0.5;
 *   - dW:lora at +α (and at +α*) moving rows toward their honest action: SI > 0, fixes > 0, mean logratio_honesty
 *     ordered −α < 0 < +α; a finite α* > 0 from the calibration;
 *   - the honest prompts with SI > 0 and the dishonest ones with SI < 0;
 *   - RepE's directions on the steered layers pointing along the planted h (cosine > 0.8; chance ≈ 1/√64).
 * Then the same project with `diff`'s pos and neg inputs swapped in pipeline.yaml (dW negated, a wiring error the
 * build system would accept): the same check must fail, naming SI. Only diff and what follows it rerun.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCsv } from '../../stages/lib/csv.js';
import { SafetensorsFile } from '../../src/core/safetensors.js';
import { PLANTED_DIMS } from '../../src/core/planted-honesty.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');
const TARGETS = ['eval@honesty-lora-0', 'eval_calibrated@honesty-lora-0', 'eval_prompts@honesty', 'repe@honesty'];

let dir: string;

function wsflow(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function executed(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; stageId?: string })
    .filter((e) => e.type === 'stage-succeeded')
    .map((e) => e.stageId as string);
}

function csvRows(...path: string[]): Record<string, string>[] {
  const file = join(dir, 'out', 'smoke', ...path);
  const raw = parseCsv(readFileSync(file, 'utf8'), file);
  return raw.records.map((r) => Object.fromEntries(raw.header.map((h, i) => [h, r[i] ?? ''])));
}

function row(rows: readonly Record<string, string>[], method: string, file: string): Record<string, string> {
  const r = rows.find((x) => x.method === method);
  if (r === undefined) throw new Error(`${file}: no row for ${method}`);
  return r;
}

/** Every planted sign the smoke outputs break, as one line each (empty: all hold). */
function plantedSignErrors(): string[] {
  const errors: string[] = [];
  const expect = (ok: boolean, what: string): void => {
    if (!ok) errors.push(what);
  };
  const ev = row(csvRows('eval', 'honesty', 'lora', '0', 'summary.csv'), 'dW:lora', 'eval summary.csv');
  const num = (r: Record<string, string>, k: string): number => Number(r[k]);
  expect(num(ev, 'SI') > 0, `eval dW:lora SI ${ev.SI} should be > 0`);
  expect(num(ev, 'fix_fwd') > 0, `eval dW:lora fix_fwd ${ev.fix_fwd} should be > 0`);
  expect(num(ev, 'lr_neg') < num(ev, 'lr_zero') && num(ev, 'lr_zero') < num(ev, 'lr_pos'), `eval dW:lora lr_neg ${ev.lr_neg} < lr_zero ${ev.lr_zero} < lr_pos ${ev.lr_pos}`);
  const ids = JSON.parse(readFileSync(join(dir, 'out', 'smoke', 'eval', 'honesty', 'lora', '0', 'choice_ids.json'), 'utf8')) as { pmass_at_0: number };
  expect(ids.pmass_at_0 > 0.5, `pmass at α = 0 ${ids.pmass_at_0} should be > 0.5`);
  const cal = row(csvRows('calibrate', 'honesty', 'lora', '0', 'summary.csv'), 'dW:lora', 'calibrate summary.csv');
  expect(Number.isFinite(num(cal, 'calibrated_alpha')) && num(cal, 'calibrated_alpha') > 0, `α* ${cal.calibrated_alpha} should be finite and > 0`);
  const evc = row(csvRows('eval_calibrated', 'honesty', 'lora', '0', 'summary.csv'), 'dW:lora', 'eval_calibrated summary.csv');
  expect(num(evc, 'SI') > 0, `eval_calibrated dW:lora SI ${evc.SI} should be > 0`);
  const prompts = csvRows('eval_prompts', 'honesty', 'summary.csv');
  for (const p of ['simple_honest_prompt', 'engineered_prompt_honest']) expect(num(row(prompts, `prompt:${p}`, 'prompts'), 'SI') > 0, `prompt:${p} SI should be > 0`);
  for (const p of ['simple_dishonest_prompt', 'engineered_prompt_dishonest']) expect(num(row(prompts, `prompt:${p}`, 'prompts'), 'SI') < 0, `prompt:${p} SI should be < 0`);
  const info = JSON.parse(readFileSync(join(dir, 'out', 'smoke', 'repe', 'honesty', 'repe_info.json'), 'utf8')) as { layers: number[]; hidden_size: number };
  const f = SafetensorsFile.open(join(dir, 'out', 'smoke', 'repe', 'honesty', 'directions.safetensors'));
  try {
    const d = f.readFloat32('directions');
    const D = info.hidden_size;
    for (const l of info.layers) {
      let n = 0;
      for (let j = 0; j < D; j++) n += (d[l * D + j] as number) ** 2;
      const cos = (d[l * D + PLANTED_DIMS.h] as number) / Math.sqrt(n);
      expect(cos > 0.8, `RepE layer ${l}: cosine with the planted h ${cos.toFixed(3)} should be > 0.8`);
    }
  } finally {
    f.close();
  }
  return errors;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsflow-planted-'));
  cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(REPO_ROOT, 'data'), join(dir, 'data'), { recursive: true });
});

after(() => rmSync(dir, { recursive: true, force: true }));

void test('the smoke chain on the planted model shows the planted signs; swapping dW’s roles breaks them', { timeout: 600_000 }, async () => {
  const r = await wsflow(['run', '--profile', 'smoke', '--json', ...TARGETS]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(plantedSignErrors(), []);

  const yaml = readFileSync(join(dir, 'pipeline.yaml'), 'utf8');
  const wired = 'needs: { model: model, pos: train_pos, neg: train_neg }';
  assert.ok(yaml.includes(wired), 'pipeline.yaml wires diff as pos: train_pos, neg: train_neg');
  writeFileSync(join(dir, 'pipeline.yaml'), yaml.replace(wired, 'needs: { model: model, pos: train_neg, neg: train_pos }'));
  const swapped = await wsflow(['run', '--profile', 'smoke', '--json', 'eval@honesty-lora-0', 'eval_calibrated@honesty-lora-0']);
  assert.equal(swapped.code, 0, swapped.stderr);
  const ran = executed(swapped.stdout);
  assert.ok(ran.includes('diff@honesty-lora-0'), ran.join(' '));
  assert.ok(!ran.some((s) => /^(model|data|train_pos|train_neg)\b/.test(s)), `only diff and what follows reran: ${ran.join(' ')}`);
  const errors = plantedSignErrors();
  assert.ok(errors.some((e) => e.startsWith('eval dW:lora SI')), `the swapped dW must fail the SI sign: ${errors.join('; ')}`);
  assert.ok(errors.some((e) => e.startsWith('eval_calibrated dW:lora SI')), errors.join('; '));
});
