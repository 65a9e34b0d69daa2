/**
 * The PyTorch half's argument handling (python3 only), its skip record when torch/transformers/peft are missing,
 * and — where they are installed — the half itself on CPU at the tiny shape against the wsflow half's logits.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { REPO_ROOT } from '../../helpers/repo-root.js';
const SCRIPT = join(REPO_ROOT, 'bench', 'gpu', 'torch_check.py');
const dir = mkdtempSync(join(tmpdir(), 'wsflow-torch-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const python = spawnSync('python3', ['--version']).status === 0;
const hasStack = python && spawnSync('python3', ['-c', 'import torch, transformers, peft, numpy']).status === 0;

function py(args: string[]): { status: number | null; stderr: string } {
  return spawnSync('python3', [SCRIPT, ...args], { encoding: 'utf8' });
}

const modelDir = join(dir, 'model');
mkdirSync(modelDir, { recursive: true });
writeFileSync(join(modelDir, 'config.json'), '{}');
writeFileSync(join(dir, 'ids.json'), JSON.stringify({ forward: [], train: {} }));

void test('bad arguments: exit 2 with the flag and the reason', { skip: python ? false : 'python3 is not installed' }, () => {
  const missing = py(['--ids', join(dir, 'ids.json'), '--out', join(dir, 'torch.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /the following arguments are required: --model/);
  const noModel = py(['--model', join(dir, 'nope'), '--ids', join(dir, 'ids.json'), '--out', join(dir, 'torch.json')]);
  assert.equal(noModel.status, 2);
  assert.match(noModel.stderr, /--model .*nope: no such file or directory/);
  const reps = py(['--model', modelDir, '--ids', join(dir, 'ids.json'), '--out', join(dir, 'torch.json'), '--reps', '0']);
  assert.equal(reps.status, 2);
  assert.match(reps.stderr, /--reps must be at least 1, got 0/);
  const device = py(['--model', modelDir, '--ids', join(dir, 'ids.json'), '--out', join(dir, 'torch.json'), '--device', 'tpu']);
  assert.equal(device.status, 2);
  assert.match(device.stderr, /argument --device: invalid choice: 'tpu'/);
  writeFileSync(join(dir, 'bad-ids.json'), '{"forward": []}');
  const badIds = py(['--model', modelDir, '--ids', join(dir, 'bad-ids.json'), '--out', join(dir, 'torch.json')]);
  assert.equal(badIds.status, 1);
  assert.match(badIds.stderr, /bad-ids\.json: no "train" key/);
});

void test('without torch, transformers or peft: a skip record naming the module (exit 3 with --require)', { skip: !python ? 'python3 is not installed' : hasStack ? 'torch, transformers and peft are installed here' : false }, () => {
  const out = join(dir, 'skip.json');
  const r = py(['--model', modelDir, '--ids', join(dir, 'ids.json'), '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const rec = JSON.parse(readFileSync(out, 'utf8')) as { half: string; skipped: string };
  assert.equal(rec.half, 'torch');
  assert.match(rec.skipped, /^cannot import (torch|transformers|peft|numpy)/);
  const req = py(['--model', modelDir, '--ids', join(dir, 'ids.json'), '--out', join(dir, 'req.json'), '--require']);
  assert.equal(req.status, 3);
});

void test('tiny shape on CPU: same logits as the wsflow half, same first loss', { skip: hasStack ? false : 'needs python3 with torch, transformers and peft (Debian has no python3-transformers/peft)' }, () => {
  const res = join(dir, 'res');
  const node = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'gpu', 'node-check.js'), '--backend', 'cpu', '--shape', 'tiny', '--model', join(dir, 'tiny'), '--out', res, '--reps', '1'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(node.status, 0, node.stderr);
  const r = py(['--model', join(dir, 'tiny'), '--ids', join(res, 'ids.json'), '--out', join(res, 'torch.json'), '--device', 'cpu', '--reps', '1']);
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(readFileSync(join(res, 'torch.json'), 'utf8')) as { forward: Array<{ maxAbsDiff: number }>; train: { firstLoss: number } };
  const n = JSON.parse(readFileSync(join(res, 'node.json'), 'utf8')) as { train: { firstLoss: number } };
  for (const f of t.forward) assert.ok(f.maxAbsDiff < 1e-4, `max |Δlogit| ${f.maxAbsDiff}`);
  assert.ok(Math.abs(t.train.firstLoss - n.train.firstLoss) < 1e-4);
});
