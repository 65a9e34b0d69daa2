/**
 * Provenance reaches a stage through its inputs, not through its upstream's output files: each UpstreamOutput
 * names the execution that produced it (key, run, execution, end time, host, annotations), read from the state
 * database, whether that upstream ran in this run, was fresh, or was restored from the cache. Early cutoff is
 * untouched: a rerun upstream with byte-identical output leaves its dependents fresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Rig } from '../../helpers/rig.js';

const PIPELINE = `
params: { noise: 0, note: a }
stages:
  up:
    uses: ./kinds/write.js
    with: { text: up, ignored: "\${params.noise}" }
  down:
    uses: ./kinds/inputs-report.js
    needs: { in: up }
    with: { note: "\${params.note}" }
`;

interface Row {
  id: number;
  run_id: number;
  key: string;
  host: string;
  ended_at: number;
  annotations: string;
}

function executionsOf(rig: Rig, stageId: string): Row[] {
  return rig.withDb(
    (db) => db.prepare(`SELECT id, run_id, key, host, ended_at, annotations FROM executions WHERE stage_id = ? AND status = 'succeeded' ORDER BY id`).all(stageId) as Row[],
  );
}

function reported(rig: Rig): Record<string, unknown> {
  const inputs = JSON.parse(rig.read('out/down/inputs.json')) as { in: Record<string, unknown>[] };
  assert.equal(inputs.in.length, 1);
  return inputs.in[0] ?? {};
}

function expected(row: Row): Record<string, unknown> {
  return {
    stageId: 'up',
    matrix: {},
    key: row.key,
    runId: row.run_id,
    executionId: row.id,
    finishedAt: new Date(row.ended_at).toISOString(),
    host: row.host,
    annotations: JSON.parse(row.annotations) as Record<string, unknown>,
  };
}

void test("a stage's inputs carry the producing execution's provenance: executed, fresh and restored upstreams", async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const first = await rig.exec(['run']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const [upFirst] = executionsOf(rig, 'up');
    assert.ok(upFirst);
    assert.deepEqual(reported(rig), expected(upFirst));
    assert.deepEqual((reported(rig).annotations as Record<string, unknown>).backend, 'test');

    // only down reruns: its fresh upstream is described by the execution still in out/
    rig.clearInvocations();
    const noteB = await rig.exec(['run', '-S', 'note=b']);
    assert.equal(noteB.code, 0, noteB.stdout + noteB.stderr);
    assert.deepEqual(rig.invocations(), []);
    assert.equal(executionsOf(rig, 'down').length, 2);
    assert.deepEqual(reported(rig), expected(upFirst));

    // up reruns with byte-identical output: early cutoff keeps down fresh (nothing in up's output names its run)
    const noise = await rig.exec(['run', '-S', 'note=b', '-S', 'noise=1']);
    assert.equal(noise.code, 0, noise.stdout + noise.stderr);
    assert.match(noise.stdout, /✓ up .*\(output unchanged\)/);
    assert.equal(executionsOf(rig, 'down').length, 2, 'down did not rerun');
    const upSecond = executionsOf(rig, 'up')[1];
    assert.ok(upSecond);
    assert.equal(upSecond.run_id, 3);

    // up restored from the cache (its out/ deleted, its key back to the first one): the hit's execution
    rmSync(rig.path('out/up'), { recursive: true });
    const restored = await rig.exec(['run', '-S', 'note=c']);
    assert.equal(restored.code, 0, restored.stdout + restored.stderr);
    assert.match(restored.stdout, /↺ restored up from cache \(run #1/);
    assert.deepEqual(reported(rig), expected(upFirst));

    // and with up fresh at its second execution, down names that one
    const latest = await rig.exec(['run', '-S', 'note=d', '-S', 'noise=1']);
    assert.equal(latest.code, 0, latest.stdout + latest.stderr);
    assert.deepEqual(reported(rig), expected(upSecond));
  } finally {
    rig.cleanup();
  }
});
