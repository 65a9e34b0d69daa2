/**
 * Profiles as namespaces on the study's own pipeline.yaml (issue 18, "Done when"): a smoke run and a real-profile run
 * (no profile, on a second tiny model directory passed with `-S model=…`) keep separate results through `gc`. The
 * narrowest chain that loads a model: model → data@honesty, with the real profile's data sizes cut by -S so it runs
 * in seconds. About 45 s on two busy cores.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/repo-root.js';

const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');
const TARGETS = ['model', 'data@honesty'];
const REAL = ['-S', 'model=models/second', '-S', 'data.n_topics=2', '-S', 'data.n_personas=1', '-S', 'data.n_samples=2', '-S', 'data.max_new_tokens=8'];
const SMOKE = ['--profile', 'smoke'];

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function wsflow(dir: string, args: readonly string[]): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', WSFLOW_BACKEND: 'wasm' };
    delete env['WSFLOW_PROFILE'];
    const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stages a `run --json` executed. */
async function executed(dir: string, args: readonly string[]): Promise<string[]> {
  const r = await wsflow(dir, ['run', ...TARGETS, '--json', ...args]);
  assert.equal(r.code, 0, `wsflow run ${args.join(' ')}:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { type: string; stageId?: string })
    .filter((e) => e.type === 'stage-succeeded')
    .map((e) => e.stageId as string);
}

/** sha256 of every file under `root`, by path relative to it, leaving out `skip` (a subfolder). */
function hashes(root: string, skip?: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (skip !== undefined && path === skip) continue;
      if (statSync(path).isDirectory()) visit(path);
      else out.set(relative(root, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  visit(root);
  return out;
}

void test('shipped pipeline: a smoke run and a real-profile run on a second tiny model keep separate results through gc', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-profiles-'));
  try {
    cpSync(join(REPO_ROOT, 'pipeline.yaml'), join(dir, 'pipeline.yaml'));
    cpSync(join(REPO_ROOT, 'data'), join(dir, 'data'), { recursive: true });
    const tiny = await wsflow(dir, ['model', 'tiny', 'models/second', '--seed', '1']);
    assert.equal(tiny.code, 0, tiny.stderr);

    assert.deepEqual(await executed(dir, REAL), TARGETS);
    const out = join(dir, 'out');
    const smokeOut = join(out, 'smoke');
    const real = hashes(out);
    assert.ok(real.has('model/model-ref.json') && real.has('data/honesty/pairs.jsonl'), [...real.keys()].join(', '));

    assert.deepEqual(await executed(dir, SMOKE), TARGETS);
    assert.ok(existsSync(join(smokeOut, 'model', 'model.safetensors')), 'the smoke model materialises under out/smoke/');
    const smoke = hashes(smokeOut);
    assert.deepEqual(hashes(out, smokeOut), real, "the smoke run left the real study's out/ byte for byte");
    const status = await wsflow(dir, ['status', ...TARGETS, ...REAL]);
    assert.equal(status.code, 0, `the real study is still fresh after the smoke run:\n${status.stdout}`);

    for (const gc of [['gc'], ['gc', ...SMOKE], ['gc', '--all-profiles']]) {
      const r = await wsflow(dir, gc);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /0 older executions are no longer restorable/, `${gc.join(' ')}: ${r.stdout}`);
    }

    rmSync(out, { recursive: true });
    assert.deepEqual(await executed(dir, REAL), [], 'the real study restores from the cache after gc');
    assert.deepEqual(await executed(dir, SMOKE), [], 'the smoke study restores from the cache after gc');
    assert.deepEqual(hashes(out, smokeOut), real);
    assert.deepEqual(hashes(smokeOut), smoke);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
