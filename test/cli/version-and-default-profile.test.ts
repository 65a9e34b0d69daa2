/**
 * `wsflow --version`, and the project's default profile: after `export WSFLOW_PROFILE=smoke` every pipeline
 * command means the smoke profile without `--profile`, `--profile NAME` still wins, and an empty value means none.
 * Real child processes on a temp project (cmd stages only, so nothing heavy loads).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/repo-root.js';

const BIN = path.join(REPO_ROOT, 'bin', 'wsflow.js');

const YAML = `matrix:
  adapter: [lora, dora]
stages:
  train:
    foreach: adapter
    cmd: echo \${matrix.adapter} > out/\${matrix.adapter}.txt
    outs: ["out/\${matrix.adapter}.txt"]
profiles:
  smoke:
    matrix: { adapter: [lora] }
`;

function wsflow(cwd: string, args: string[], profile?: string): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['WSFLOW_PROFILE'];
  if (profile !== undefined) env['WSFLOW_PROFILE'] = profile;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('wsflow --version and -V print the version of the installation; --help lists it', () => {
  const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-V']) {
    const r = wsflow(REPO_ROOT, [flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
  assert.match(wsflow(REPO_ROOT, ['--help']).stdout, /-V, --version +print the wsflow version/);
});

void test('WSFLOW_PROFILE is the default profile of every pipeline command; --profile wins; "" means none', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsflow-profile-'));
  try {
    writeFileSync(path.join(dir, 'pipeline.yaml'), YAML);
    const ids = (r: { stdout: string }): string[] => r.stdout.split('\n').filter((l) => l.startsWith('train@')).map((l) => l.split(/\s+/)[0] ?? '');
    assert.deepEqual(ids(wsflow(dir, ['status'])), ['train@lora', 'train@dora'], 'no profile: both cells');
    assert.deepEqual(ids(wsflow(dir, ['status'], 'smoke')), ['train@lora'], 'WSFLOW_PROFILE=smoke');
    assert.deepEqual(ids(wsflow(dir, ['status', '--profile', ''], 'smoke')), ['train@lora', 'train@dora'], '--profile "" overrides it');
    assert.deepEqual(ids(wsflow(dir, ['status'], '')), ['train@lora', 'train@dora'], 'an empty WSFLOW_PROFILE is none');
    const run = wsflow(dir, ['run'], 'smoke');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr + run.stdout, /1 executed/);
    const status = wsflow(dir, ['status', '--stale'], 'smoke');
    assert.equal(status.code, 0, status.stderr);
    assert.equal(status.stdout, 'Everything up to date (1 stages)\n', '--stale lists nothing when all is fresh');
    const bad = wsflow(dir, ['status'], 'smok');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown profile "smok" \(did you mean "smoke"\?\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('status --stale lists only what is not fresh, counts everything, and exits 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wsflow-stale-'));
  try {
    writeFileSync(path.join(dir, 'pipeline.yaml'), YAML);
    assert.equal(wsflow(dir, ['run', 'train@lora']).code, 0);
    const r = wsflow(dir, ['status', '--stale']);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('train@')).map((l) => l.split(/\s+/).slice(0, 2).join(' ')), ['train@dora never-run']);
    assert.match(r.stdout, /1 never run, 1 fresh\n$/);
    const json = JSON.parse(wsflow(dir, ['status', '--stale', '--json']).stdout) as { stages: { id: string }[]; counts: { fresh: number } };
    assert.deepEqual(json.stages.map((s) => s.id), ['train@dora']);
    assert.equal(json.counts.fresh, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
