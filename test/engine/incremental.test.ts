/**
 * The engine's central promises, through the real CLI: a param change reruns exactly the stage that reads it and
 * its dependents (and status names the param, old → new); a byte-identical upstream output stops the cascade;
 * an unchanged DAG executes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, countBy } from '../helpers/rig.js';

const PIPELINE = `
params:
  seed: 1
  prompt: { anchor: "My choice: **" }
  train: { lr: 0.001, noise: 0 }
matrix:
  adapter: [lora, dora]
stages:
  data:
    uses: ./kinds/write.js
    with: { text: "data \${params.seed}" }
  train:
    uses: ./kinds/write.js
    foreach: adapter
    needs: { in: data }
    with: { text: "train \${matrix.adapter} lr=\${params.train.lr}", ignored: "\${params.train.noise}" }
  eval:
    uses: ./kinds/write.js
    foreach: adapter
    needs: { in: train }
    with: { text: "\${params.prompt.anchor}" }
  report:
    uses: ./kinds/write.js
    needs: { in: "eval@*" }
    with: { text: report }
`;

const ALL = ['data', 'train@lora', 'train@dora', 'eval@lora', 'eval@dora', 'report'];

void test('cold run executes every stage once; a second run executes none', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const cold = await rig.exec(['run']);
    assert.equal(cold.code, 0, cold.stderr);
    assert.deepEqual([...countBy(rig.invocations())].sort(), ALL.map((id) => [id, 1] as [string, number]).sort());
    assert.match(cold.stdout, /Done \(run #1, .*\): 6 executed/);
    assert.match(rig.read('out/report/result.txt'), /\[eval@lora\] My choice: \*\*/);

    rig.clearInvocations();
    const again = await rig.exec(['run']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(rig.invocations(), []);
    assert.match(again.stdout, /Everything up to date \(run #2, .*\): 6 fresh/);
    const status = await rig.exec(['status']);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /Everything up to date \(6 stages\)/);
  } finally {
    rig.cleanup();
  }
});

void test('a mid-DAG param change reruns exactly that stage and its dependents; status names the param old → new', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    rig.clearInvocations();
    const set = ['-S', 'prompt.anchor="My choice:"'];

    const status = await rig.exec(['status', ...set]);
    assert.equal(status.code, 1, 'status exits 1 when something is stale');
    const lines = status.stdout.split('\n');
    const line = (id: string): string => lines.find((l) => l.startsWith(`${id} `)) ?? '';
    assert.match(line('eval@lora'), /^eval@lora\s+stale\s+← param prompt\.anchor "My choice: \*\*" → "My choice:"$/);
    assert.match(line('eval@dora'), /stale\s+← param prompt\.anchor "My choice: \*\*" → "My choice:"/);
    assert.match(line('report'), /^report\s+stale\s+← upstream eval@lora, eval@dora \(may cut off if their outputs are unchanged\)$/);
    for (const id of ['data', 'train@lora', 'train@dora']) assert.match(line(id), /fresh$/, id);

    const json = JSON.parse((await rig.exec(['status', '--json', ...set])).stdout) as {
      stages: { id: string; state: string; reasons: { type: string; param?: string; old?: unknown; new?: unknown }[] }[];
    };
    const evalLora = json.stages.find((s) => s.id === 'eval@lora');
    assert.deepEqual(evalLora?.reasons[0], {
      type: 'param-changed',
      param: 'prompt.anchor',
      old: 'My choice: **',
      new: 'My choice:',
      text: 'param prompt.anchor "My choice: **" → "My choice:"',
    });

    const run = await rig.exec(['run', ...set]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(rig.invocations().sort(), ['eval@dora', 'eval@lora', 'report']);
    assert.match(run.stdout, /▶ eval@lora {2}← param prompt\.anchor "My choice: \*\*" → "My choice:"/);
    assert.equal((await rig.exec(['status', ...set])).code, 0);

    // back to the original value: restored from the cache, nothing executed
    rig.clearInvocations();
    const back = await rig.exec(['run']);
    assert.equal(back.code, 0);
    assert.deepEqual(rig.invocations(), []);
    assert.match(back.stdout, /↺ restored eval@lora from cache \(run #1, \d+s ago, saved \d+ms\)/);
  } finally {
    rig.cleanup();
  }
});

void test('a change that leaves an upstream output byte-identical stops the cascade there', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    rig.clearInvocations();
    const status = await rig.exec(['status', '-S', 'train.noise=1']);
    assert.match(status.stdout, /train@lora\s+stale\s+← param train\.noise 0 → 1/);
    assert.match(status.stdout, /eval@lora\s+stale\s+← upstream train@lora \(may cut off/);
    const run = await rig.exec(['run', '-S', 'train.noise=1']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(rig.invocations().sort(), ['train@dora', 'train@lora']);
    assert.match(run.stdout, /✓ train@lora {2}\S+ {2}\[test\] {2}\(output unchanged\)/);
    assert.match(run.stdout, /4 fresh/);
  } finally {
    rig.cleanup();
  }
});

void test('1e-3 and 0.001 are the same param value', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE.replace('noise: 0', 'noise: 0.001') } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    rig.write('pipeline.yaml', PIPELINE.replace('noise: 0', 'noise: 1e-3'));
    const status = await rig.exec(['status']);
    assert.equal(status.code, 0, status.stdout);
    rig.write('pipeline.yaml', PIPELINE.replace('noise: 0', 'noise: 1.5e-3'));
    assert.match((await rig.exec(['status'])).stdout, /train@lora\s+stale\s+← param train\.noise 0\.001 → 0\.0015/);
  } finally {
    rig.cleanup();
  }
});
