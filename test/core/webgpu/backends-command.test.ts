/**
 * `wsflow backends` as a user runs it: every backend in preference order, what auto picks (the first that auto
 * would take), a matmul probe that is correct, and the GPU adapter. Runs everywhere; with WSFLOW_WEBGPU_TESTS=1
 * (a Vulkan driver present) it also checks that webgpu loads, describes its adapter, and that a software adapter
 * is never picked automatically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND_NAMES } from '../../../src/core/backend.js';
import type { BackendsReport } from '../../../src/core/backend-report.js';
import { WSFLOW_BIN } from '../../helpers/rig.js';

function wsflow(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env['WSFLOW_BACKEND'];
  return spawnSync(process.execPath, [WSFLOW_BIN, ...args], { encoding: 'utf8', env, timeout: 120_000 });
}

void test('wsflow backends --json lists every backend, what auto picks and why, and a correct matmul probe', () => {
  const r = wsflow(['backends', '--json', '--seconds', '0.2', '--size', '48']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as BackendsReport;
  assert.deepEqual(report.rows.map((x) => x.name), [...BACKEND_NAMES]);
  const cpu = report.rows.find((x) => x.name === 'cpu');
  assert.ok(cpu?.loads === true && cpu.auto, 'cpu always loads and auto would take it');
  assert.equal(report.picked, report.rows.find((x) => x.auto)?.name, 'auto picks the first backend it would take');
  for (const row of report.rows) {
    if (!row.loads) {
      assert.ok(row.detail.length > 0, `${row.name}: says why it does not load`);
      continue;
    }
    assert.ok(row.probe !== undefined && row.probe.runs >= 1 && row.probe.gflops > 0, `${row.name}: probe ran`);
    assert.ok(row.probe.relError < 1e-5, `${row.name}: matmul relative error ${row.probe.relError}`);
    if (!row.auto) assert.ok((row.autoReason ?? '').length > 0, `${row.name}: says why auto passes it over`);
  }
  if (process.env['WSFLOW_WEBGPU_TESTS'] === '1') {
    const w = report.rows[0];
    assert.ok(w?.name === 'webgpu' && w.loads, `webgpu loads: ${w?.detail}`);
    assert.match(w.detail, /adapter: .+; driver: .+/);
    assert.ok(report.gpu.ok && report.gpu.adapter !== undefined, 'the GPU adapter is described');
    assert.ok((report.gpu.limits?.['maxBufferSize'] ?? 0) > 0);
    if (report.gpu.adapter.software) {
      assert.equal(w.auto, false, 'a software adapter is never picked automatically');
      assert.notEqual(report.picked, 'webgpu');
    }
  }
});

void test('wsflow backends prints a readable report; bad options are one line and exit 2', () => {
  const r = wsflow(['backends', '--seconds', '0.1', '--size', '16']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^cpu +cpu \(pure JavaScript/m);
  assert.match(r.stdout, /^auto picks: \w+;/m);
  assert.match(r.stdout, /^GPU adapter \(Dawn\): /m);
  const bad = wsflow(['backends', '--size', 'x']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'error: --size must be an integer in [1, 4096], got "x"\n');
});

void test('probing webgpu writes nothing into the home directory (driver shader caches stay off)', { skip: process.env['WSFLOW_WEBGPU_TESTS'] === '1' ? false : 'needs a Vulkan driver: WSFLOW_WEBGPU_TESTS=1' }, () => {
  const home = mkdtempSync(join(tmpdir(), 'wsflow-home-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    for (const k of ['WSFLOW_BACKEND', 'XDG_CACHE_HOME', 'MESA_SHADER_CACHE_DIR', 'MESA_SHADER_CACHE_DISABLE', 'MESA_DISK_CACHE_DISABLE', '__GL_SHADER_DISK_CACHE', '__GL_SHADER_DISK_CACHE_PATH']) delete env[k];
    const r = spawnSync(process.execPath, [WSFLOW_BIN, 'backends', '--json', '--seconds', '0.1', '--size', '16'], { encoding: 'utf8', env, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as BackendsReport).rows[0]?.loads, 'webgpu loaded, so the driver ran');
    assert.deepEqual(readdirSync(home), [], 'nothing written under HOME');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
