/**
 * Early cutoff and determinism on the study's own pipeline.yaml (smoke profile), on its smallest complete chain:
 * model → data → train_pos/train_neg@lora → diff@lora → eval@lora and iid@lora (plus the dilemmas stage).
 *
 * - Cutoff: `-S train.max_steps=-1` (one epoch) where max_steps 2 already is exactly one epoch. Both train stages
 *   must rerun (their param changed, and train_summary.json records it), so diff reruns too; the adapters are
 *   the same, so dW is byte-identical and the evaluations downstream of it are NOT executed: they stay fresh.
 * - Determinism: the same chain in a second checkout (another directory, its own cache) executes every stage
 *   again and writes byte-identical files under the same keys, on wasm and, where the OpenBLAS addon is built, on
 *   the native backend. Stage outputs hold no run ids, keys, paths, times or durations.
 * About 30 s on two busy cores.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';

import { REPO_ROOT } from '../helpers/repo-root.js';
const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');
const TARGETS = ['eval@honesty-lora-0', 'iid@honesty-lora-0'];
const TRAIN = ['train_pos@honesty-lora-0', 'train_neg@honesty-lora-0'];
const CHAIN = ['model', 'dilemmas', 'data@honesty', ...TRAIN, 'diff@honesty-lora-0', ...TARGETS];

const projects: string[] = [];
after(() => {
  for (const p of projects) rmSync(p, { recursive: true, force: true });
});

/** A fresh checkout of the study: pipeline.yaml and data/ in a new directory. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-cutoff-'));
  projects.push(dir);
  cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(REPO_ROOT, 'data'), join(dir, 'data'), { recursive: true });
  return dir;
}

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function wsflow(dir: string, args: readonly string[], backend: string): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', WSFLOW_BACKEND: backend };
    const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface RunEvents {
  executed: string[];
  fresh: string[];
  restored: string[];
  /** stages whose new output was byte-identical to the previous one */
  unchanged: string[];
}

async function run(dir: string, backend: string, extra: readonly string[] = []): Promise<RunEvents> {
  const r = await wsflow(dir, ['run', ...TARGETS, '--profile', 'smoke', '--json', ...extra], backend);
  assert.equal(r.code, 0, `wsflow run ${extra.join(' ')} failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  const out: RunEvents = { executed: [], fresh: [], restored: [], unchanged: [] };
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as { type: string; stageId?: string; outputUnchanged?: boolean };
    if (e.type === 'stage-succeeded') out.executed.push(e.stageId as string);
    if (e.type === 'stage-succeeded' && e.outputUnchanged === true) out.unchanged.push(e.stageId as string);
    if (e.type === 'stage-fresh') out.fresh.push(e.stageId as string);
    if (e.type === 'stage-restored') out.restored.push(e.stageId as string);
  }
  return out;
}

/** The stage keys `wsflow status --json` reports for the chain. */
async function keys(dir: string, backend: string): Promise<Record<string, string>> {
  const r = await wsflow(dir, ['status', ...TARGETS, '--profile', 'smoke', '--json'], backend);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = JSON.parse(r.stdout) as { stages: { id: string; state: string; key: string }[] };
  assert.ok(s.stages.every((x) => x.state === 'fresh'));
  return Object.fromEntries(s.stages.map((x) => [x.id, x.key]));
}

/** sha256 of every file under out/smoke/ (the smoke profile's results), by path relative to it. */
function outFiles(dir: string): Map<string, string> {
  const root = join(dir, 'out', 'smoke');
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(root);
  return files;
}

/** Paths whose content differs, or that exist on one side only. */
function differing(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((f) => a.get(f) !== b.get(f)).sort();
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** Whether the native (OpenBLAS) backend loads here: it is optional (`npm run build:native`). */
async function nativeBackend(): Promise<string | null> {
  const { initBackend } = await import('../../src/core/backend.js');
  try {
    await initBackend('native');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

interface ColdRun {
  dir: string;
  files: Map<string, string>;
  keys: Record<string, string>;
}

/** A fresh checkout, the chain run cold on `backend`: every stage must execute. */
async function coldRun(backend: string): Promise<ColdRun> {
  const dir = checkout();
  assert.deepEqual(sorted((await run(dir, backend)).executed), sorted(CHAIN), `cold (${backend}): every stage of the chain executes once`);
  return { dir, files: outFiles(dir), keys: await keys(dir, backend) };
}

let wasmCold: ColdRun;
before(async () => {
  wasmCold = await coldRun('wasm');
});

void test('early cutoff: retraining to byte-identical adapters reruns diff, whose unchanged dW leaves eval and iid fresh', async () => {
  const a = wasmCold.dir;
  // the premise: max_steps 2 is one epoch of this data (3 training examples, batch 2, no accumulation)
  const summary = JSON.parse(readFileSync(join(a, 'out', 'smoke', 'train_pos', 'honesty', 'lora', '0', 'train_summary.json'), 'utf8')) as {
    train: { maxSteps: number; steps_run: number; batchSize: number; gradAccum: number };
    data: { train: number };
  };
  assert.equal(summary.train.maxSteps, 2);
  assert.equal(summary.train.steps_run, 2);
  assert.equal(Math.ceil(summary.data.train / summary.train.batchSize / summary.train.gradAccum), 2, 'one epoch is two optimiser steps');

  const status = await wsflow(a, ['status', ...TARGETS, '--profile', 'smoke', '-S', 'train.max_steps=-1'], 'wasm');
  assert.equal(status.code, 1);
  for (const id of TRAIN) assert.match(status.stdout, new RegExp(`${id}\\s+stale\\s+← param train\\.max_steps 2 → -1`));

  const again = await run(a, 'wasm', ['-S', 'train.max_steps=-1']);
  assert.deepEqual(sorted(again.executed), sorted([...TRAIN, 'diff@honesty-lora-0']), 'the train stages rerun, and diff because their outputs changed');
  assert.deepEqual(again.unchanged, ['diff@honesty-lora-0'], 'diff reproduced its dW byte for byte');
  assert.deepEqual(sorted(again.fresh), sorted(['model', 'dilemmas', 'data@honesty', ...TARGETS]), 'the evaluations are cut off: not executed, not restored');
  assert.deepEqual(again.restored, []);
  // only what records max_steps changed: the adapters, merged weights, loss curves and dW are the same bytes
  assert.deepEqual(differing(wasmCold.files, outFiles(a)), ['train_neg/honesty/lora/0/train_summary.json', 'train_pos/honesty/lora/0/train_summary.json']);
});

for (const backend of ['wasm', 'native'] as const) {
  void test(`determinism (${backend}): a second checkout executes every stage again and writes byte-identical files under the same keys`, async (t) => {
    if (backend === 'native') {
      const why = await nativeBackend();
      if (why !== null) {
        t.skip(`native backend not available: ${why}`);
        return;
      }
    }
    const first = backend === 'wasm' ? wasmCold : await coldRun(backend);
    const second = await coldRun(backend);
    assert.ok(first.files.size > 30, `the chain wrote its files (${first.files.size})`);
    assert.deepEqual(differing(first.files, second.files), [], 'every output file is byte-identical');
    assert.deepEqual(second.keys, first.keys, 'same keys in both checkouts');
  });
}
