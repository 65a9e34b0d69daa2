/**
 * Worker processes and resource classes: a worker is reused for the next stage of its class; accel stages run
 * one at a time by default while cpu stages run in parallel up to -j.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../../helpers/rig.js';

function overlaps(a: { start: number; end: number | null }, b: { start: number; end: number | null }): boolean {
  return a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity);
}

/** Largest number of intervals open at one instant (sweep over starts and ends; an end at t closes before a start at t). */
function maxConcurrent(list: readonly { start: number; end: number | null }[]): number {
  const events = list.flatMap((e) => [
    [e.start, 1],
    [e.end ?? Infinity, -1],
  ]) as [number, number][];
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (cur += d));
  return max;
}

void test('a chain of stages runs in one reused worker process, never in the scheduler', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
stages:
  a: { uses: ./kinds/write.js, with: { text: a } }
  b: { uses: ./kinds/write.js, needs: { in: a }, with: { text: b } }
  c: { uses: ./kinds/write.js, needs: { in: b }, with: { text: c } }
`,
    },
  });
  try {
    const run = rig.spawn(['run', '-j', '1']);
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    const pids = new Set(rig.executions().map((e) => e.pid));
    assert.equal(pids.size, 1, 'one worker for the whole chain');
    assert.ok(!pids.has(run.pid ?? -1), 'not the scheduler process');
  } finally {
    rig.cleanup();
  }
});

void test('accel stages run one at a time (--accel 1) while cpu stages run in parallel (-j 2)', async () => {
  // every stage waits for its gate: the test decides when each ends, so what overlaps is the scheduler's doing
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
matrix: { i: [1, 2, 3] }
stages:
  gpu:
    uses: ./kinds/write.js
    foreach: i
    with: { text: "gpu \${matrix.i}", gate: "gates/gpu-\${matrix.i}" }
    resources: { class: accel }
  cpu:
    uses: ./kinds/write.js
    foreach: i
    with: { text: "cpu \${matrix.i}", gate: "gates/cpu-\${matrix.i}" }
`,
    },
  });
  try {
    const run = rig.spawn(['run', '-j', '2', '--accel', '1']);
    const startedOf = (prefix: string): string[] => rig.invocations().filter((id) => id.startsWith(prefix));
    const gateOf = (id: string): string => `${id.split('@')[0] ?? ''}-${/(\d+)$/.exec(id)?.[1] ?? ''}`;
    await rig.until(() => startedOf('gpu').length === 1 && startedOf('cpu').length === 2, 'one accel and two cpu stages to start');
    // with nothing able to end, the second cpu and the accel stage run side by side
    const firstCpus = startedOf('cpu');
    for (let n = 1; n <= 3; n++) {
      await rig.until(() => startedOf('gpu').length === n, `accel stage ${n} to start`);
      assert.equal(startedOf('cpu').length, 2, 'no third cpu stage while two run (-j 2)');
      rig.release(gateOf(startedOf('gpu')[n - 1] ?? ''));
    }
    for (const id of firstCpus) rig.release(gateOf(id));
    await rig.until(() => startedOf('cpu').length === 3, 'the third cpu stage to start');
    rig.release(gateOf(startedOf('cpu')[2] ?? ''));
    const r = await run.result;
    assert.equal(r.code, 0, r.stderr);
    const ex = rig.executions();
    const gpu = ex.filter((e) => e.stageId.startsWith('gpu'));
    const cpu = ex.filter((e) => e.stageId.startsWith('cpu'));
    assert.equal(gpu.length, 3);
    for (let i = 0; i < gpu.length; i++) {
      for (let j = i + 1; j < gpu.length; j++) {
        const a = gpu[i];
        const b = gpu[j];
        if (a && b) assert.ok(!overlaps(a, b), `${a.stageId} and ${b.stageId} overlapped`);
      }
    }
    assert.equal(new Set(gpu.map((e) => e.pid)).size, 1, 'one accel worker, reused');
    assert.ok(maxConcurrent(cpu) === 2, `2 cpu stages at once at most and at least, saw ${maxConcurrent(cpu)}`);
  } finally {
    rig.cleanup();
  }
});
