/** The GPU check's table: built from the two halves' files, and the table CLI's exits on bad or failing input. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildTable, type NodeCheckResult, readNodeResult, readTorchResult, tableMarkdown, type TorchCheckResult } from '../../../bench/gpu/check-result.js';

const TABLE_JS = fileURLToPath(new URL('../../../bench/gpu/table.js', import.meta.url));

const node: NodeCheckResult = {
  half: 'wsflow', backend: 'webgpu', detail: 'webgpu (test adapter)', shape: 'full',
  model: { numLayers: 28, hiddenSize: 1024, intermediateSize: 3072, numHeads: 16, numKvHeads: 8, headDim: 128 },
  date: '2026-12-07T00:00:00.000Z', load1: 0.5, modelLoadSeconds: 3,
  goldens: { maxAbsDiff: 1.2e-5, tolerance: 1e-4, sequences: 3 },
  forward: [{ batch: 1, seq: 64, seconds: 0.05, tokensPerSecond: 1280, logitsFile: 'logits-1x64.f32' }, { batch: 4, seq: 128, seconds: 0.2, tokensPerSecond: 2560, logitsFile: 'logits-4x128.f32' }],
  train: { batch: 4, seq: 512, seconds: 2, tokensPerSecond: 1024, firstLoss: 11.93, trainableParameters: 10092544 },
};
const torch: TorchCheckResult = {
  half: 'torch', device: 'NVIDIA H100', torch: '2.11.0', transformers: '4.57.0', peft: '0.17.0', tf32: false,
  forward: [{ batch: 1, seq: 64, seconds: 0.01, tokensPerSecond: 6400, maxAbsDiff: 3e-5 }, { batch: 4, seq: 128, seconds: 0.04, tokensPerSecond: 12800, maxAbsDiff: 4e-5 }],
  train: { batch: 4, seq: 512, seconds: 0.5, tokensPerSecond: 4096, firstLoss: 11.9301, trainableParameters: 10092544 },
};

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-gpu-table-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('the table: ratios are wsflow over PyTorch tokens/s, diffs and losses side by side', () => {
  const t = buildTable(node, torch);
  assert.equal(t.goldensPass, true);
  assert.equal(t.rows.length, 4);
  assert.equal(t.rows[1]?.ratio, 0.2);
  assert.equal(t.rows[2]?.ratio, 0.2);
  assert.equal(t.rows[3]?.ratio, 0.25);
  assert.equal(t.rows[2]?.maxAbsDiff, 4e-5);
  const md = tableMarkdown(t);
  assert.match(md, /PyTorch 2\.11\.0 on NVIDIA H100, float32, TF32 off/);
  assert.match(md, /\| forward 4×128, full-vocab logits \| 0\.2000 \| 2560\.0 \| 0\.0400 \| 12800\.0 \| 0\.200 \| 4\.00e-5 \|/);
  assert.match(md, /first loss 11\.93000 vs 11\.93010/);
  assert.match(md, /\| golden logits, tiny Qwen3 \(3 sequences\) \|.*\| 1\.20e-5 \| pass/);
});

void test('a skipped PyTorch half leaves its columns empty and says why', () => {
  const t = buildTable(node, { half: 'torch', skipped: 'cannot import torch' });
  assert.ok(t.rows.slice(1).every((r) => r.ratio === null && r.torchSeconds === null));
  assert.match(t.title, /PyTorch skipped: cannot import torch/);
});

void test('table CLI: writes the markdown and JSON to --out; exit 1 when a golden is over tolerance', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'node.json'), JSON.stringify(node));
    writeFileSync(join(dir, 'torch.json'), JSON.stringify(torch));
    const r = spawnSync(process.execPath, [TABLE_JS, '--node', join(dir, 'node.json'), '--torch', join(dir, 'torch.json'), '--out', join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| LoRA step 4×512/);
    assert.equal(readFileSync(join(dir, 'out', 'gpu-check.md'), 'utf8'), r.stdout);
    const json = JSON.parse(readFileSync(join(dir, 'out', 'gpu-check.json'), 'utf8')) as { table: { rows: unknown[] } };
    assert.equal(json.table.rows.length, 4);
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ ...node, goldens: { ...node.goldens, maxAbsDiff: 2e-3 } }));
    const bad = spawnSync(process.execPath, [TABLE_JS, '--node', join(dir, 'node.json'), '--torch', join(dir, 'torch.json')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /FAIL: tolerance 0\.0001/);
  });
});

void test('table CLI: a missing or malformed file is one line naming it, exit 2, nothing written', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'torch.json'), JSON.stringify(torch));
    const missing = spawnSync(process.execPath, [TABLE_JS, '--node', join(dir, 'nope.json'), '--torch', join(dir, 'torch.json'), '--out', join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    assert.match(missing.stderr, /nope\.json: cannot read \(ENOENT\)/);
    assert.ok(!existsSync(join(dir, 'out')));
    writeFileSync(join(dir, 'node.json'), JSON.stringify({ ...node, train: { ...node.train, seconds: 'fast' } }));
    const malformed = spawnSync(process.execPath, [TABLE_JS, '--node', join(dir, 'node.json'), '--torch', join(dir, 'torch.json')], { encoding: 'utf8' });
    assert.equal(malformed.status, 2);
    assert.match(malformed.stderr, /node\.json: train\.seconds is not a number/);
    const unknown = spawnSync(process.execPath, [TABLE_JS, '--nodes', 'x'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown flag --nodes/);
  });
  const r = readTorchResult('/nonexistent/torch.json');
  assert.ok(!r.ok && /cannot read/.test(r.error));
  const n = readNodeResult('/nonexistent/node.json');
  assert.ok(!n.ok);
});
