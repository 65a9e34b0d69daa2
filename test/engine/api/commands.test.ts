/**
 * dry-run, explain, gc, metrics, logs, status --json, kind version bumps and code-change warnings, _run-stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../../helpers/rig.js';

const PIPELINE = `
params:
  prompt: { anchor: "My choice: **" }
  steps: 4
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data, external: inputs/data.txt }
  train:
    uses: ./kinds/write.js
    needs: { in: data }
    with: { text: train, steps: "\${params.steps}", sleepMs: 20 }
  eval:
    uses: ./kinds/write.js
    needs: { in: train }
    with: { text: "\${params.prompt.anchor}" }
`;

function newRig(): Rig {
  return new Rig({ files: { 'pipeline.yaml': PIPELINE, 'inputs/data.txt': 'rows' } });
}

void test('--dry-run prints what would run and why, and executes and writes nothing', async () => {
  const rig = newRig();
  try {
    const cold = await rig.exec(['run', '--dry-run']);
    assert.equal(cold.code, 0);
    assert.match(cold.stdout, /▶ data {2}would run\n {4}← never run/);
    assert.match(cold.stdout, /Dry run: 3 would run, 0 would be restored, 0 fresh; nothing was executed/);
    assert.equal(rig.exists('cache'), false);
    assert.deepEqual(rig.invocations(), []);

    assert.equal((await rig.exec(['run'])).code, 0);
    rig.clearInvocations();
    const dry = await rig.exec(['run', '--dry-run', '-S', 'prompt.anchor="A:"']);
    assert.match(dry.stdout, /· data {2}fresh, skip/);
    assert.match(dry.stdout, /▶ eval {2}would run\n {4}← param prompt\.anchor "My choice: \*\*" → "A:"/);
    assert.deepEqual(rig.invocations(), []);
    const runs = rig.withDb((db) => (db.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n);
    assert.equal(runs, 1, 'a dry run records no run');
    // an external input change is named with its path; downstream may cut off
    rig.write('inputs/data.txt', 'more rows');
    const ext = await rig.exec(['run', '--dry-run']);
    assert.match(ext.stdout, /▶ data {2}would run\n {4}← data changed: .*inputs\/data\.txt/);
    assert.match(ext.stdout, /▶ train {2}would run \(unless its upstream output is unchanged\)\n {4}← upstream data \(may cut off/);
  } finally {
    rig.cleanup();
  }
});

void test('explain prints every ingredient of the key and the diff against the last successful execution', async () => {
  const rig = newRig();
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const out = (await rig.exec(['explain', 'eval', '-S', 'prompt.anchor="A:"'])).stdout;
    assert.match(out, /^eval {2}stale\nkey {2}[0-9a-f]{64}\n/);
    assert.match(out, /kind {5}write 1\.0\.0 {2}\(.*kinds\/write\.js\)/);
    assert.match(out, /text = "A:" {2}← params\.prompt\.anchor/);
    assert.match(out, /in: train {2}output [0-9a-f]{12}/);
    assert.match(out, /#3 in run #1, .* on \S+ \(local\)\n {2}backend {2}test/);
    assert.match(out, /Changes since then\n {2}← param prompt\.anchor "My choice: \*\*" → "A:"/);
    const data = (await rig.exec(['explain', 'data'])).stdout;
    assert.match(data, /External inputs\n {2}data: .*inputs\/data\.txt {2}sha256 [0-9a-f]{12} {2}4 B/);
    assert.match(data, /Changes since then\n {2}none/);
    const json = JSON.parse((await rig.exec(['explain', 'train', '--json'])).stdout) as {
      key: string;
      keyMaterial: { params: Record<string, unknown> };
      lastSuccess: { key: string; annotations: Record<string, unknown> };
    };
    assert.equal(json.key, json.lastSuccess.key);
    assert.equal(json.keyMaterial.params.steps, 4);
    assert.equal(json.lastSuccess.annotations.backend, 'test');
    const unknown = await rig.exec(['explain', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown target "nope"/);
  } finally {
    rig.cleanup();
  }
});

void test('gc removes what no latest successful execution references, and says what it frees', async () => {
  const rig = newRig();
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal((await rig.exec(['run', '-S', 'prompt.anchor="B:"'])).code, 0);
    const dry = await rig.exec(['gc', '--dry-run']);
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /^Would remove 2 objects \(\d+ B\) and \d+ trees; 1 older executions would no longer be restorable\./m);
    const before = readdirSync(rig.path('cache/objects'), { recursive: true }).length;
    const gc = await rig.exec(['gc', '--json']);
    const report = JSON.parse(gc.stdout) as { removedObjects: number; evictedExecutions: number; keptExecutions: number };
    assert.equal(report.removedObjects, 2);
    assert.equal(report.evictedExecutions, 1);
    assert.equal(report.keptExecutions, 3);
    assert.ok(readdirSync(rig.path('cache/objects'), { recursive: true }).length < before);
    // the current results are intact; the evicted one is no longer offered as cached
    assert.equal((await rig.exec(['status', '-S', 'prompt.anchor="B:"'])).code, 0);
    const back = await rig.exec(['status']);
    assert.match(back.stdout, /^eval\s+stale\s+← param prompt\.anchor "B:" → "My choice: \*\*"$/m);
    rig.clearInvocations();
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.deepEqual(rig.invocations(), ['eval']);
  } finally {
    rig.cleanup();
  }
});

void test('metrics and logs read what stages recorded', async () => {
  const rig = newRig();
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    assert.equal((await rig.exec(['run', '-S', 'steps=2'])).code, 0);
    const m = await rig.exec(['metrics', 'train']);
    assert.match(m.stdout, /^train\s+loss\s+0\.5\s+2\s+2$/m, m.stdout);
    const all = await rig.exec(['metrics', 'train', '--all']);
    assert.match(all.stdout, /^train\s+#2\s+#1\s+succeeded\s+steps=4\s+loss\s+0\.25\s+4\s+4$/m, all.stdout);
    assert.match(all.stdout, /^train\s+#4\s+#2\s+succeeded\s+steps=2\s+loss\s+0\.5\s+2\s+2$/m);
    const json = JSON.parse((await rig.exec(['metrics', 'train', '--json'])).stdout) as {
      executions: { series: Record<string, { step: number; value: number }[]> }[];
    };
    assert.deepEqual(json.executions[0]?.series.loss?.map((p) => p.step), [1, 2]);
    const logs = await rig.exec(['logs', 'train']);
    assert.match(logs.stdout, /^# wsflow: stage train, execution #4, run #2/);
    assert.match(logs.stdout, /^writing train$/m);
    const old = await rig.exec(['logs', 'train', '--execution', '2']);
    assert.match(old.stdout, /execution #2, run #1/);
    assert.equal((await rig.exec(['logs', 'nope'])).code, 2, 'a stage the pipeline does not have is a usage error');
  } finally {
    rig.cleanup();
  }
});

void test('status --json; a kind version bump reruns; a code change without a bump only warns', async () => {
  const rig = newRig();
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const json = JSON.parse((await rig.exec(['status', '--json'])).stdout) as { upToDate: boolean; counts: Record<string, number> };
    assert.equal(json.upToDate, true);
    assert.deepEqual(json.counts, { fresh: 3, stale: 0, cached: 0, failed: 0, running: 0, 'never-run': 0 });

    const bumped = await rig.exec(['status'], { WSFLOW_TEST_KIND_VERSION: '1.1.0' });
    assert.equal(bumped.code, 1);
    assert.match(bumped.stdout, /^data\s+stale\s+← kind write version 1\.0\.0 → 1\.1\.0$/m);

    const kind = rig.path('kinds/write.js');
    writeFileSync(kind, `${readFileSync(kind, 'utf8')}\n// a refactor\n`);
    const warned = await rig.exec(['status']);
    assert.equal(warned.code, 0, 'a code change without a version bump is not a rerun');
    assert.match(warned.stdout, /⚠ kind write code changed since run #1 without a version bump \(still 1\.0\.0\): results are reused/);
    const run = await rig.exec(['run']);
    assert.match(run.stdout, /⚠ data: kind write code changed since run #1 without a version bump/);
    assert.match(run.stdout, /3 fresh/);
  } finally {
    rig.cleanup();
  }
});

void test('_run-stage runs one stage from a spec file exactly as a worker does', async () => {
  const rig = newRig();
  try {
    const outDir = rig.path('staging/out');
    const spec = {
      stageId: 'solo',
      runId: 7,
      executionId: 9,
      key: 'k',
      matrix: {},
      source: { type: 'kind', name: 'write', modulePath: rig.path('kinds/write.js') },
      params: { text: 'solo', sleepMs: 0, steps: 2, fail: false, files: 1 },
      inputs: {},
      outDir,
      projectDir: rig.dir,
    };
    mkdirSync(outDir, { recursive: true }); // the scheduler hands a worker an existing, empty directory
    rig.write('spec.json', JSON.stringify(spec));
    const r = await rig.exec(['_run-stage', 'spec.json', '--events', 'events.jsonl']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(outDir, 'result.txt'), 'utf8'), 'solo');
    const events = rig.read('events.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { type: string; event?: { type: string }; outcome?: unknown });
    assert.deepEqual(events.at(-1), { type: 'finished', outcome: { ok: true, value: null } });
    assert.ok(events.some((e) => e.event?.type === 'progress'));
    assert.ok(events.some((e) => e.event?.type === 'metric'));
    rig.write('spec.json', JSON.stringify({ ...spec, params: { ...spec.params, fail: true } }));
    const failed = await rig.exec(['_run-stage', 'spec.json']);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /"ok":false,"error":\{"reason":"kind-threw","message":"Error: solo was told to fail/);
  } finally {
    rig.cleanup();
  }
});
