/**
 * The smoke chain through the real CLI on webgpu (forced: CI's adapter is llvmpipe) against the same chain on cpu,
 * each in its own temporary copy of the project: model → data → train_pos/train_neg@lora → diff@lora → eval@lora
 * (weight steering at α = -1, 0, 1). Every numeric output agrees within the tolerance of the golden suites
 * (1e-4, relative for values far from 1); text is equal. `wsflow explain` names the adapter the stage ran on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { withSafetensors } from '../../../src/core/safetensors.js';
import { isNear, maxAbsDiff } from '../../helpers/numeric.js';
import { WEBGPU_SKIP } from './helpers.js';

import { REPO_ROOT } from '../../helpers/repo-root.js';
const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');
/** as the golden suites (logits_atol of the fixtures); relative for values far from 1 */
const TOL = 1e-4;
const TARGETS = ['diff@honesty-lora-0', 'eval@honesty-lora-0'];
const STAGE_DIRS = ['data/honesty', 'train_pos/honesty/lora/0', 'train_neg/honesty/lora/0', 'diff/honesty/lora/0', 'eval/honesty/lora/0'];
/** where the backend is recorded: it differs by design */
const BACKEND_KEYS = new Set(['backend']);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-webgpu-e2e-'));
  dirs.push(dir);
  cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(REPO_ROOT, 'data'), join(dir, 'data'), { recursive: true });
  return dir;
}

function wsflow(dir: string, args: readonly string[], backend: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', WSFLOW_BACKEND: backend }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out;
}

function near(a: number, b: number): boolean {
  return (Number.isNaN(a) && Number.isNaN(b)) || isNear(a, b, TOL, 'relative');
}

/** Every difference between two JSON values beyond the tolerance, by path; the backend's name is skipped. */
function jsonDiffs(a: unknown, b: unknown, path: string, out: string[]): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!near(a, b)) out.push(`${path}: ${a} vs cpu ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: ${a.length} items vs cpu ${b.length}`);
    else a.forEach((x, i) => jsonDiffs(x, b[i], `${path}[${i}]`, out));
  } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) out.push(`${path}: keys ${ka.join(',')} vs cpu ${kb.join(',')}`);
    else for (const k of ka) if (!BACKEND_KEYS.has(k)) jsonDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path}: ${JSON.stringify(a)} vs cpu ${JSON.stringify(b)}`);
}

/** CSV cells: numbers within the tolerance, anything else equal. The study's tables quote no commas in numbers. */
function csvDiffs(a: string, b: string, file: string, out: string[]): void {
  const ra = a.trimEnd().split('\n');
  const rb = b.trimEnd().split('\n');
  if (ra.length !== rb.length) return void out.push(`${file}: ${ra.length} lines vs cpu ${rb.length}`);
  ra.forEach((line, i) => {
    const ca = line.split(',');
    const cb = (rb[i] as string).split(',');
    if (ca.length !== cb.length) return void out.push(`${file}:${i + 1}: ${ca.length} cells vs cpu ${cb.length}`);
    ca.forEach((x, j) => {
      const y = cb[j] as string;
      const nx = Number(x);
      const ny = Number(y);
      const numeric = x !== '' && y !== '' && !Number.isNaN(nx) && !Number.isNaN(ny);
      if (numeric ? !near(nx, ny) : x !== y) out.push(`${file}:${i + 1}:${j + 1}: ${x} vs cpu ${y}`);
    });
  });
}

function safetensorsDiffs(a: string, b: string, file: string, out: string[]): number {
  let worst = 0;
  const read = (p: string): Map<string, Float32Array> =>
    withSafetensors(p, (f) => {
      const m = new Map<string, Float32Array>();
      for (const [name, info] of f.tensors) {
        assert.equal(info.dtype, 'F32', `${file}: ${name}`);
        const bytes = f.readBytes(name);
        m.set(name, new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
      }
      return m;
    });
  const ta = read(a);
  const tb = read(b);
  if ([...ta.keys()].sort().join() !== [...tb.keys()].sort().join()) out.push(`${file}: tensor names differ from cpu`);
  for (const [name, va] of ta) {
    const vb = tb.get(name);
    if (vb === undefined) continue;
    const d = maxAbsDiff(va, vb);
    worst = Math.max(worst, d);
    if (!(d <= TOL)) out.push(`${file} ${name}: max |webgpu - cpu| ${d}`);
  }
  return worst;
}

// The whole chain twice (cpu and webgpu) took 11 minutes on a loaded 2-core machine: too long for every CI run,
// so it also needs WSFLOW_LONG_TESTS=1. The golden suite (webgpu.test.ts) covers the kernels in CI.
const E2E_SKIP: string | false =
  WEBGPU_SKIP || (process.env['WSFLOW_LONG_TESTS'] === '1' ? false : 'runs the smoke chain on cpu and on webgpu (minutes): set WSFLOW_LONG_TESTS=1 too');

void test('smoke chain on webgpu through the CLI matches cpu; explain names the adapter', { skip: E2E_SKIP }, async (t) => {
  const cpuDir = project();
  const gpuDir = project();
  const args = ['run', ...TARGETS, '--profile', 'smoke'];
  const cpu = await wsflow(cpuDir, args, 'cpu');
  assert.equal(cpu.code, 0, `cpu chain failed:\n${cpu.stderr}\n${cpu.stdout.slice(-3000)}`);
  const gpu = await wsflow(gpuDir, args, 'webgpu');
  assert.equal(gpu.code, 0, `webgpu chain failed:\n${gpu.stderr}\n${gpu.stdout.slice(-3000)}`);
  t.diagnostic(`chain (${TARGETS.join(', ')} and upstream): cpu ${(cpu.ms / 1000).toFixed(1)} s, webgpu ${(gpu.ms / 1000).toFixed(1)} s`);
  assert.match(gpu.stdout, /\[webgpu\]/, 'stages report the webgpu backend');

  const diffs: string[] = [];
  let worstTensor = 0;
  for (const stage of STAGE_DIRS) {
    const a = join(gpuDir, 'out', 'smoke', stage);
    const b = join(cpuDir, 'out', 'smoke', stage);
    const fa = files(a);
    assert.deepEqual(fa, files(b), `${stage}: the same files as on cpu`);
    for (const f of fa) {
      const name = `${stage}/${f}`;
      if (f.endsWith('.safetensors')) worstTensor = Math.max(worstTensor, safetensorsDiffs(join(a, f), join(b, f), name, diffs));
      else if (f.endsWith('.csv')) csvDiffs(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), name, diffs);
      else if (f.endsWith('.json')) jsonDiffs(JSON.parse(readFileSync(join(a, f), 'utf8')), JSON.parse(readFileSync(join(b, f), 'utf8')), name, diffs);
      else assert.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), `${name}: same text as on cpu`);
    }
  }
  t.diagnostic(`largest |webgpu - cpu| over adapter, merged and dW tensors: ${worstTensor.toExponential(2)}`);
  assert.deepEqual(diffs, [], 'webgpu outputs within the tolerance of cpu');

  // provenance.json is an output: the adapter's name is not in it (outputs are a function of the inputs)
  const prov = readFileSync(join(gpuDir, 'out', 'smoke', 'train_pos/honesty/lora/0', 'provenance.json'), 'utf8');
  assert.doesNotMatch(prov, /backend_detail/);
  for (const stage of ['train_pos@honesty-lora-0', 'diff@honesty-lora-0']) {
    const ex = await wsflow(gpuDir, ['explain', stage, '--profile', 'smoke'], 'webgpu');
    assert.equal(ex.code, 0, ex.stderr);
    const line = ex.stdout.split('\n').find((l) => l.trim().startsWith('backend_detail'));
    assert.ok(line !== undefined, `explain ${stage} shows backend_detail:\n${ex.stdout}`);
    assert.match(line, /webgpu/, line);
    t.diagnostic(`explain ${stage}: ${line.trim()}`);
  }
});
