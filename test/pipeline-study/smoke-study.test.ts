/**
 * The study's pipeline.yaml as CI runs it (issue 6), on the smoke profile, in a fresh copy of the project:
 *   1. cold: every stage of the graph executes exactly once and the report says it is a smoke run;
 *   2. unchanged: nothing executes and `wsflow status` exits 0;
 *   3. `-S eval.anchor=…` (null before: the format's own): `wsflow status` names the anchor change first, then
 *      exactly the evaluation stages and what depends on them execute — no model, data, train, diff, repe, KL or calibration stage.
 * Takes about a minute and a half on two busy cores (the whole smoke study runs once, the evaluations twice).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');
const NEW_ANCHOR = 'My choice:';

let dir: string;

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function wsflow(args: readonly string[]): Promise<Exec> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

interface RunEvents {
  executed: string[];
  fresh: string[];
  restored: string[];
}

function events(stdout: string): RunEvents {
  const out: RunEvents = { executed: [], fresh: [], restored: [] };
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as { type: string; stageId?: string };
    if (e.type === 'stage-succeeded') out.executed.push(e.stageId as string);
    if (e.type === 'stage-fresh') out.fresh.push(e.stageId as string);
    if (e.type === 'stage-restored') out.restored.push(e.stageId as string);
  }
  return out;
}

/** Every stage id of the smoke graph, from `wsflow dag`. */
async function smokeStages(): Promise<string[]> {
  const r = await wsflow(['dag', '--profile', 'smoke']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => /^\S+\s+uses /.test(l))
    .map((l) => l.split(/\s+/)[0] as string);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsflow-study-'));
  cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(REPO_ROOT, 'data'), join(dir, 'data'), { recursive: true });
});

after(() => rmSync(dir, { recursive: true, force: true }));

const isEval = (id: string): boolean => /^(eval|eval_repe|eval_prompts|eval_calibrated|eval_calibrated_repe|ablate|report)@/.test(id);

void test('smoke study: cold run, unchanged rerun, then an anchor change reruns exactly the evaluations and the report', async (t) => {
  const all = await smokeStages();
  assert.ok(all.length >= 50, `the smoke graph has every adapter and baseline (${all.length} stages)`);
  for (const a of ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3']) assert.ok(all.includes(`train_pos@honesty-${a}-0`) && all.includes(`eval_calibrated@honesty-${a}-0`), a);
  for (const s of ['repe@honesty', 'eval_prompts@honesty', 'kl_target@honesty', 'calibrate_repe@honesty', 'iid_repe@honesty', 'ablate@honesty-0', 'report@honesty']) assert.ok(all.includes(s), s);

  // 1. cold
  const cold = await wsflow(['run', 'report', '--profile', 'smoke', '--json']);
  assert.equal(cold.code, 0, `cold run failed:\n${cold.stderr}\n${cold.stdout.slice(-3000)}`);
  const c = events(cold.stdout);
  assert.deepEqual([...c.executed].sort(), [...all].sort(), 'every stage executed exactly once');
  t.diagnostic(`cold smoke run: ${(cold.ms / 1000).toFixed(1)} s for ${c.executed.length} stages`);
  const report = readFileSync(join(dir, 'out', 'honesty', 'report.html'), 'utf8');
  assert.match(report, /SMOKE RUN/);

  // 2. unchanged
  const again = await wsflow(['run', 'report', '--profile', 'smoke', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const a = events(again.stdout);
  assert.deepEqual(a.executed, [], 'nothing executes');
  assert.deepEqual(a.restored, []);
  assert.equal(a.fresh.length, all.length);
  const status = await wsflow(['status', '--profile', 'smoke']);
  assert.equal(status.code, 0, status.stdout);

  // 3. the anchor
  const stale = await wsflow(['status', '--profile', 'smoke', '-S', `eval.anchor=${NEW_ANCHOR}`]);
  assert.equal(stale.code, 1, 'status exits 1 when something is stale');
  const expected = all.filter(isEval);
  for (const id of expected.filter((s) => !s.startsWith('report@'))) {
    assert.match(stale.stdout, new RegExp(`${id.replace(/[.*+?^${}()|[\]\\@]/g, '\\$&')}\\s+stale\\s+← param eval\\.anchor null → "My choice:"`), `status names the anchor change for ${id}`);
  }
  const changed = await wsflow(['run', 'report', '--profile', 'smoke', '-S', `eval.anchor=${NEW_ANCHOR}`, '--json']);
  assert.equal(changed.code, 0, changed.stderr);
  const ch = events(changed.stdout);
  assert.deepEqual([...ch.executed].sort(), [...expected].sort(), 'exactly the evaluation stages and the report');
  for (const id of ch.executed) assert.ok(!/^(model|dilemmas|data|train_pos|train_neg|diff|repe|kl_target|calibrate|calibrate_repe|iid|iid_repe)(@|$)/.test(id), `${id} must not rerun`);
  const ids = JSON.parse(readFileSync(join(dir, 'out', 'eval_prompts', 'honesty', 'choice_ids.json'), 'utf8')) as { anchor: string };
  assert.equal(ids.anchor, NEW_ANCHOR);
});
