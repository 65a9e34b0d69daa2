/**
 * The GPU check end to end on this CPU: pack (real Node binary, real node_modules, the Vulkan loader), check the
 * size accounting and the over-budget failure, then unpack and run the wsflow half at the tiny shape through
 * run.sh on wasm (and native when its addon is built), table included. The pack is made at xz level 0 here
 * (seconds instead of minutes); WSFLOW_LONG_TESTS=1 also packs at the real level -6 and checks the budget.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { REPO_ROOT } from '../../helpers/repo-root.js';
const PACK_JS = join(REPO_ROOT, 'dist', 'bench', 'gpu', 'pack.js');
const packName = `.gpu-pack-test-${process.pid}`;
const packDir = join(REPO_ROOT, packName);
const outDir = mkdtempSync(join(tmpdir(), 'wsflow-gpu-out-'));
const MiB = 2 ** 20;

// the loader: this machine's libvulkan.so.1 when installed (no download in the test), else apt-get download
const systemVulkan = ['/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/lib/aarch64-linux-gnu/libvulkan.so.1'].find((p) => existsSync(p));
const vulkanArgs = systemVulkan === undefined ? [] : ['--libvulkan', systemVulkan];

after(() => {
  rmSync(packDir, { recursive: true, force: true });
  rmSync(outDir, { recursive: true, force: true });
});

function pack(args: string[]): ReturnType<typeof spawnSync> & { stderr: string } {
  return spawnSync(process.execPath, [PACK_JS, ...vulkanArgs, ...args], { cwd: REPO_ROOT, encoding: 'utf8' }) as ReturnType<typeof spawnSync> & { stderr: string };
}

function leftovers(): string[] {
  return readdirSync(REPO_ROOT).filter((f) => f.startsWith(`${packName}.tmp-`));
}

void test('over budget: one line saying what and by how much, exit 1, nothing left behind', () => {
  const r = pack(['--out', packName, '--budget-mib', '3', '--xz-level', '0']);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /gpu-check pack: over budget: [\d.]+ MiB > 3 MiB after /);
  assert.ok(!existsSync(packDir));
  assert.deepEqual(leftovers(), []);
});

void test('bad arguments exit 2: unknown flag, out outside the repository, a folder that is not a pack', () => {
  assert.match(pack(['--outt', 'x']).stderr, /unknown flag --outt/);
  const outside = pack(['--out', '/tmp/elsewhere']);
  assert.equal(outside.status, 2);
  assert.match(outside.stderr, /must be a folder inside/);
  const foreign = join(REPO_ROOT, `${packName}-foreign`);
  mkdirSync(foreign, { recursive: true });
  writeFileSync(join(foreign, 'keep.txt'), 'mine');
  try {
    const r = pack(['--out', `${packName}-foreign`]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /is not a GPU-check pack \(no manifest\.json\): refusing to replace it/);
    assert.equal(readFileSync(join(foreign, 'keep.txt'), 'utf8'), 'mine');
  } finally {
    rmSync(foreign, { recursive: true, force: true });
  }
});

void test('pack, unpack and run the wsflow half at the tiny shape on wasm and native, with the table', async (t) => {
  const r = pack(['--out', packName, '--xz-level', '0']);
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8')) as { bytes: Record<string, number>; totalWithTreeBytes: number; budgetBytes: number; packages: Array<{ name: string }> };
  const files = readdirSync(packDir).sort();
  assert.deepEqual(files, ['libvulkan.so.1', 'manifest.json', 'node.xz', 'payload.tar.xz']);
  assert.ok(manifest.totalWithTreeBytes <= manifest.budgetBytes);
  assert.equal(manifest.budgetBytes, 64 * MiB);
  assert.ok(manifest.packages.some((p) => p.name === '@tensorflow/tfjs-core'));
  assert.match(r.stderr, /packed: [\d.]+ MiB with the working tree/);
  assert.deepEqual(leftovers(), []);

  const backends = ['wasm'];
  const native = spawnSync(process.execPath, ['-e', "const {loadAddon}=await import('./dist/src/core/native/load-addon.js'); process.exit(loadAddon().ok?0:1)", '--input-type=module'], { cwd: REPO_ROOT });
  if (native.status === 0) backends.push('native');
  else t.diagnostic('native addon not built: the run covers wasm only');
  for (const backend of backends) {
    const out = join(outDir, backend);
    const run = spawnSync('bash', ['bench/gpu/run.sh', '--tiny', '--backend', backend, '--skip-torch', '--pack', packName], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, OUT: out } });
    assert.equal(run.status, 0, `${backend}: ${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`\\[node-check ${backend}\\] goldens: max \\|Δlogit\\|`));
    const md = readFileSync(join(out, 'gpu-check.md'), 'utf8');
    assert.match(md, new RegExp(`^wsflow ${backend} `));
    assert.match(md, /\| golden logits, tiny Qwen3 \(3 sequences\) \|.*\| pass/);
    assert.match(md, /\| forward 2×16, full-vocab logits \| \d/);
    assert.match(md, /\| LoRA step 2×32/);
    const node = JSON.parse(readFileSync(join(out, 'node.json'), 'utf8')) as { backend: string; goldens: { maxAbsDiff: number } };
    assert.equal(node.backend, backend);
    assert.ok(node.goldens.maxAbsDiff < 1e-4);
  }
  // the second run reused the unpacked copy and the written model
  assert.ok(existsSync(join(packDir, 'run', 'model-tiny', 'model.safetensors')));
});

void test('run.sh: bad arguments and a missing pack exit 2 with one line', () => {
  const bad = spawnSync('bash', ['bench/gpu/run.sh', '--bogus'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown argument "--bogus"/);
  const none = spawnSync('bash', ['bench/gpu/run.sh', '--pack', `${packName}-absent`], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /-absent\/node\.xz missing: run bash bench\/gpu\/pack\.sh/);
});

void test('the real pack (xz -6) fits the budget', { skip: process.env['WSFLOW_LONG_TESTS'] === '1' ? false : 'slow (xz -6 of the Node binary): set WSFLOW_LONG_TESTS=1' }, () => {
  const r = pack(['--out', `${packName}-6`]);
  try {
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, `${packName}-6`, 'manifest.json'), 'utf8')) as { totalWithTreeBytes: number; budgetBytes: number; bytes: Record<string, number> };
    assert.ok(manifest.totalWithTreeBytes <= manifest.budgetBytes);
  } finally {
    rmSync(join(REPO_ROOT, `${packName}-6`), { recursive: true, force: true });
  }
});
