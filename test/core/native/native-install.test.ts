/**
 * `npm ci` builds the native addon through scripts/install-native.mjs when it can, and an install never fails
 * because of it; when auto-selection falls back to wasm for lack of the addon, the user is told once, in one
 * line, with the cost and the fix. Both run as real child processes (the notice is once per process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
const installScript = fileURLToPath(new URL('../../../../scripts/install-native.mjs', import.meta.url));
const backendModule = fileURLToPath(new URL('../../../src/core/backend.js', import.meta.url));

function runInstall(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [installScript], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('the install step exits 0 with one line when no compiler or pkg-config is on PATH', () => {
  const r = runInstall({ PATH: '' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^wsflow: native backend not built \(missing: bash, g\+\+, make, python3, pkg-config\).*npm run build:native/);
});

void test('the install step can be told to skip the build', () => {
  const r = runInstall({ WSFLOW_NATIVE_BUILD: '0' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^wsflow: native backend not built \(WSFLOW_NATIVE_BUILD=0\)/);
});

void test('package.json runs the install step on npm install / npm ci', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['install'], 'node scripts/install-native.mjs');
});

// selects auto twice, then once more after another backend was activated behind its back (a fresh selection loop)
const probe = `
import * as tf from '@tensorflow/tfjs-core';
const { initBackend } = await import(${JSON.stringify(backendModule)});
const first = await initBackend();
await initBackend();
await tf.setBackend('cpu');
const third = await initBackend();
console.log(JSON.stringify([first.name, third.name]));
`;

function runProbe(env: Record<string, string>): { names: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: repoRoot,
    env: { ...process.env, WSFLOW_BACKEND: '', ...env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return { names: JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[], stderr: r.stderr };
}

void test('falling back to wasm without the addon is said exactly once, with the cost and the command', () => {
  const r = runProbe({ WSFLOW_NATIVE_ADDON: '/nonexistent/wsflow_blas.node' });
  assert.deepEqual(r.names, ['wasm', 'wasm']);
  const notices = r.stderr.split('\n').filter((l) => l.includes('not native'));
  assert.equal(notices.length, 1, r.stderr);
  assert.match(notices[0] ?? '', /^wsflow: using wasm, not native \(the OpenBLAS addon is not built\): .*~4-5x slower.*`npm run build:native`/);
});

void test('no notice when native is turned off on purpose', () => {
  const r = runProbe({ WSFLOW_NATIVE: '0' });
  assert.deepEqual(r.names, ['wasm', 'wasm']);
  assert.doesNotMatch(r.stderr, /not native/);
});
