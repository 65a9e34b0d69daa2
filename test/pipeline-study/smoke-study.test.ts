/**
 * The study's pipeline.yaml as CI runs it (issue 6), on the smoke profile, in a fresh copy of the project:
 *   0. with the profile's behaviour axis cut to [honesty], cold; then the shipped [honesty, sycophancy]: the
 *      honesty stages keep their keys and stay fresh, and exactly the sycophancy stages are added (issue 16);
 *   1. cold: every stage of the graph executes exactly once and each behaviour's report says it is a smoke run;
 *   2. unchanged: nothing executes and `wsflow status` exits 0;
 *   3. `-S eval.anchor=…` (null before: the format's own): `wsflow status` names the anchor change first, then
 *      exactly the evaluation stages and what depends on them execute — no model, data, train, diff, repe, KL or calibration stage;
 *   4. README's "Everyday use" commands, as written, with `WSFLOW_PROFILE=smoke` as the project default (issue 18).
 * Two behaviours double the stages (106): measured 1236 s for the cold run at load ~20 on two shared cores
 * (honesty alone 813 s, then sycophancy 423 s); the evaluations run twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { REPO_ROOT } from '../helpers/repo-root.js';
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

const BOTH = 'behavior: [honesty, sycophancy]';

/** Stage id → key from `wsflow status --json` (null where an upstream has not run). */
async function keys(): Promise<Map<string, { key: string | null; state: string }>> {
  const r = await wsflow(['status', '--profile', 'smoke', '--json']);
  const doc = JSON.parse(r.stdout) as { stages: { id: string; key: string | null; state: string }[] };
  return new Map(doc.stages.map((s) => [s.id, { key: s.key, state: s.state }]));
}

const isEval = (id: string): boolean => /^(eval|eval_repe|eval_prompts|eval_calibrated|eval_calibrated_repe|ablate|report)@/.test(id);

void test('smoke study: cold run, unchanged rerun, then an anchor change reruns exactly the evaluations and the report', async (t) => {
  const all = await smokeStages();
  assert.ok(all.length >= 50, `the smoke graph has every adapter and baseline (${all.length} stages)`);
  for (const a of ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3']) assert.ok(all.includes(`train_pos@honesty-${a}-0`) && all.includes(`eval_calibrated@honesty-${a}-0`), a);
  for (const b of ['honesty', 'sycophancy']) {
    for (const s of [`data@${b}`, `repe@${b}`, `eval_prompts@${b}`, `kl_target@${b}`, `calibrate_repe@${b}`, `iid_repe@${b}`, `ablate@${b}-0`, `report@${b}`]) assert.ok(all.includes(s), s);
  }
  const honesty = all.filter((id) => !id.includes('sycophancy'));
  const sycophancy = all.filter((id) => id.includes('sycophancy'));

  // 0. honesty alone, then the matrix edit that adds sycophancy
  const shipped = readFileSync(join(dir, 'pipeline.yaml'), 'utf8');
  assert.ok(shipped.includes(BOTH), 'the smoke profile runs both behaviours');
  writeFileSync(join(dir, 'pipeline.yaml'), shipped.replace(BOTH, 'behavior: [honesty]'));
  const first = await wsflow(['run', 'report', '--profile', 'smoke', '--json']);
  assert.equal(first.code, 0, `honesty-only run failed:\n${first.stderr}\n${first.stdout.slice(-3000)}`);
  assert.deepEqual([...events(first.stdout).executed].sort(), [...honesty].sort(), 'honesty alone: every honesty stage once');
  const before = await keys();
  writeFileSync(join(dir, 'pipeline.yaml'), shipped);
  const afterEdit = await keys();
  for (const id of honesty) {
    assert.ok(before.get(id)?.key != null, `${id} has a key after running`);
    assert.deepEqual(afterEdit.get(id), before.get(id), `${id}: the matrix edit leaves its key and state alone`);
  }
  for (const id of sycophancy) assert.ok(afterEdit.has(id) && !before.has(id), `${id} is added by the matrix edit`);

  // 1. cold (the second behaviour; the first is cached)
  const cold = await wsflow(['run', 'report', '--profile', 'smoke', '--json']);
  assert.equal(cold.code, 0, `cold run failed:\n${cold.stderr}\n${cold.stdout.slice(-3000)}`);
  const c = events(cold.stdout);
  assert.deepEqual([...c.executed].sort(), [...sycophancy].sort(), 'exactly the sycophancy stages execute, each once');
  assert.deepEqual([...c.fresh].sort(), [...honesty].sort(), 'the honesty stages are fresh');
  t.diagnostic(`cold smoke run: ${((first.ms + cold.ms) / 1000).toFixed(1)} s for ${all.length} stages (honesty ${(first.ms / 1000).toFixed(1)} s, then sycophancy ${(cold.ms / 1000).toFixed(1)} s)`);
  for (const b of ['honesty', 'sycophancy']) assert.match(readFileSync(join(dir, 'out', 'smoke', b, 'report.html'), 'utf8'), /SMOKE RUN/, b);
  const sycPairs = readFileSync(join(dir, 'out', 'smoke', 'data', 'sycophancy', 'pairs.jsonl'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { prompt: string; sys_prompt_pos: string; behavior: string });
  assert.ok(sycPairs.length > 0 && sycPairs.every((r) => r.behavior === 'sycophancy' && r.prompt.startsWith('I think ') && r.sys_prompt_pos.startsWith('You are ')), 'the sycophancy pairs use its topics and personas');

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
  const ids = JSON.parse(readFileSync(join(dir, 'out', 'smoke', 'eval_prompts', 'honesty', 'choice_ids.json'), 'utf8')) as { anchor: string };
  assert.equal(ids.anchor, NEW_ANCHOR);
});

/** The `npx wsflow …` lines of README's "Everyday use" block, as the user types them. */
function everydayCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Everyday use$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.startsWith('npx wsflow '))
    .map((l) => l.replace(/\s+#.*$/, '').trim());
}

/**
 * Runs one README line in the project through bash (its quoting is the user's), `npx wsflow` meaning this
 * checkout's wsflow, with the smoke profile as the project's default. `watch` never ends by itself: it is
 * stopped once it says it is watching.
 */
function readmeLine(line: string): Promise<Exec & { stoppedWatching: boolean }> {
  const t0 = Date.now();
  const command = line.replace(/^npx wsflow /, `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(WSFLOW)} `);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: dir, env: { ...process.env, NO_COLOR: '1', WSFLOW_PROFILE: 'smoke' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let stoppedWatching = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (/^Watching \d+ paths? for changes/m.test(stdout) && !stoppedWatching) {
        stoppedWatching = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0, stoppedWatching }));
  });
}

void test("README's everyday commands all work after the smoke run, with WSFLOW_PROFILE=smoke as the project default", async () => {
  const lines = everydayCommands();
  assert.ok(lines.length >= 8, `README's Everyday use block lists the commands (found ${lines.length})`);
  for (const line of lines) {
    const r = await readmeLine(line);
    const what = `${line}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`;
    assert.doesNotMatch(r.stderr, /planning error|unknown option|error:/, what);
    if (/ watch /.test(` ${line} `)) {
      assert.ok(r.stoppedWatching, `watch started watching: ${what}`);
      continue;
    }
    // status says "stale" with exit 1 (the previous test left the anchor changed); every other command exits 0
    const ok = / status( |$)/.test(line) ? r.code === 0 || r.code === 1 : r.code === 0;
    assert.ok(ok, `exit ${r.code}: ${what}`);
  }
});
