/**
 * `wsflow run report` (default profile) without Qwen3-0.6B in the local Hugging Face cache: one clear planning
 * error (what is missing, where it looked, the command that fetches it, and that --profile smoke runs without it),
 * exit 2, nothing written. The dataset is placed in a fake cache so the model is the only thing missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { REPO_ROOT } from '../helpers/repo-root.js';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

void test('default profile without the model: one planning error naming the model, its cache path, hf download and --profile smoke; exit 2; nothing written', () => {
  const project = mkdtempSync(join(tmpdir(), 'wsflow-nomodel-'));
  const hub = mkdtempSync(join(tmpdir(), 'wsflow-hub-'));
  dirs.push(project, hub);
  cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(project, 'pipeline.yaml'));
  cpSync(join(REPO_ROOT, 'data'), join(project, 'data'), { recursive: true });
  // the dataset, in the hub cache layout, so that only the model is missing
  const repo = join(hub, 'datasets--wassname--daily_dilemmas-self-honesty');
  const snap = join(repo, 'snapshots', '0123456789abcdef0123456789abcdef01234567');
  mkdirSync(join(snap, 'honesty_eval'), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), '0123456789abcdef0123456789abcdef01234567');
  copyFileSync(join(REPO_ROOT, 'data', 'synthetic-dilemmas', 'test.jsonl'), join(snap, 'honesty_eval', 'test-00000-of-00001.jsonl'));
  const before = readdirSync(project).sort();
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'wsflow.js'), 'run', 'report'], {
    cwd: project,
    env: { ...process.env, NO_COLOR: '1', HF_HUB_CACHE: hub, HF_HOME: '' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => / error: /.test(l));
  assert.equal(errors.length, 1, r.stderr);
  const e = errors[0] as string;
  assert.match(e, /^pipeline\.yaml:\d+:\d+: error: stage model \(with\.id\)/);
  assert.match(e, /Qwen\/Qwen3-0\.6B/);
  assert.ok(e.includes(join(hub, 'models--Qwen--Qwen3-0.6B')), 'says where it looked');
  assert.match(e, /hf download Qwen\/Qwen3-0\.6B/);
  assert.match(e, /--profile smoke/);
  assert.match(r.stderr, /nothing was run or written/);
  assert.deepEqual(readdirSync(project).sort().filter((f) => f !== '.wsflow'), before, 'no cache/ or out/ appeared');
  assert.ok(!existsSync(join(project, 'out')) && !existsSync(join(project, 'cache')));
});
