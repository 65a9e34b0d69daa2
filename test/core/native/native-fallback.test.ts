/**
 * Without the addon (not built, disabled, or a stale/foreign file) enableNative reports why and
 * registers nothing, and tfjs keeps working on its other backends. Each case runs in a fresh
 * process because enableNative registers at most once per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeIndex = fileURLToPath(new URL('../../../src/core/native/index.js', import.meta.url));

const probe = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
const { enableNative } = await import(${JSON.stringify(nativeIndex)});
const r = await enableNative(tf);
await tf.setBackend('cpu');
const sum = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()[0];
console.log(JSON.stringify({ ...r, hasNative: tf.findBackendFactory('native') !== null, sum }));
`;

function runProbe(env: Record<string, string>): { ok: boolean; error?: string; hasNative: boolean; sum: number } {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as { ok: boolean; error?: string; hasNative: boolean; sum: number };
}

void test('a missing addon build gives a reason and leaves tfjs working', () => {
  const r = runProbe({ WSFLOW_NATIVE_ADDON: '/nonexistent/wsflow_blas.node' });
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /not built.*setup-native\.sh/);
  assert.equal(r.hasNative, false);
  assert.equal(r.sum, 3);
});

void test('WSFLOW_NATIVE=0 disables the backend', () => {
  const r = runProbe({ WSFLOW_NATIVE: '0' });
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /disabled by WSFLOW_NATIVE=0/);
  assert.equal(r.hasNative, false);
});

void test('a file that is not a loadable addon is refused with the loader error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-native-'));
  try {
    const bogus = join(dir, 'wsflow_blas.node');
    writeFileSync(bogus, 'not an ELF file');
    const r = runProbe({ WSFLOW_NATIVE_ADDON: bogus });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /failed to load/);
    assert.equal(r.hasNative, false);
    assert.equal(r.sum, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a bad WSFLOW_NATIVE_THREADS is an error naming the variable', () => {
  const r = runProbe({ WSFLOW_NATIVE_THREADS: 'two' });
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /WSFLOW_NATIVE_THREADS must be a positive integer, got 'two'/);
});
