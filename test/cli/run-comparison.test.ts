/**
 * `metrics diff`, `params diff` and `metrics table` on real runs of a small pipeline: a run is a `wsflow run` that
 * executed stages, and what it has is the snapshot of the latest execution of every stage up to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
params:
  steps: 4
  prompt: { anchor: "A" }
matrix:
  adapter: [lora, dora]
stages:
  train:
    uses: ./kinds/write.js
    foreach: adapter
    with: { text: "train \${matrix.adapter}", steps: "\${params.steps}" }
  eval:
    uses: ./kinds/write.js
    foreach: adapter
    needs: { in: train }
    with: { text: "\${params.prompt.anchor}" }
`;

void test('metrics diff, params diff and the wide table compare the last two runs, or the runs named', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const none = await rig.exec(['metrics', 'diff']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no executions recorded yet/);

    assert.equal((await rig.exec(['run'])).code, 0); // run #1
    const one = await rig.exec(['params', 'diff']);
    assert.equal(one.code, 2, 'one run cannot be compared: a usage error');
    assert.match(one.stderr, /two runs that changed results are needed to compare, found 1/);

    assert.equal((await rig.exec(['run', '-S', 'steps=2'])).code, 0); // run #2: train (loss) and eval (chars) rerun
    assert.equal((await rig.exec(['run'])).code, 0); // run #3: restores train@* of run #1 (steps 4) from the cache
    assert.equal((await rig.exec(['run', '-S', 'prompt.anchor="AB"'])).code, 0); // run #4: eval reruns
    assert.equal((await rig.exec(['run', '-S', 'prompt.anchor="AB"'])).code, 0); // run #5: all fresh, not a run to compare

    // default: the last two runs that changed results (#3, #4)
    const p = await rig.exec(['params', 'diff']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Params of run #3 .*: wsflow run\) → run #4 .*wsflow run -S prompt\.anchor="AB"\)$/m);
    assert.match(p.stdout, /^prompt\.anchor\s+"A"\s+"AB"$/m);
    assert.doesNotMatch(p.stdout, /^steps/m);

    const pj = JSON.parse((await rig.exec(['params', 'diff', '1', '2', '--json'])).stdout) as {
      a: { run: number };
      b: { run: number; argv: string[] };
      params: { param: string; a: unknown; b: unknown }[];
    };
    assert.equal(pj.a.run, 1);
    assert.deepEqual(pj.b.argv, ['run', '-S', 'steps=2']);
    assert.deepEqual(pj.params, [{ param: 'steps', a: 4, b: 2 }]);

    const m = await rig.exec(['metrics', 'diff', '1', '#2']);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /^train@lora\s+loss\s+0\.25\s+0\.5\s+\+0\.25$/m);
    assert.match(m.stdout, /^train@dora\s+loss\s+0\.25\s+0\.5\s+\+0\.25$/m);
    assert.doesNotMatch(m.stdout, /chars/, 'train and eval wrote the same number of characters: unchanged, not listed');
    const mAll = await rig.exec(['metrics', 'diff', '1', '2', '--all', '--stage', 'eval']);
    assert.match(mAll.stdout, /^eval@lora\s+chars\s+(\d+)\s+\1\s+\+0$/m);
    assert.doesNotMatch(mAll.stdout, /^train/m);
    // one run named: it against the latest
    const mj = JSON.parse((await rig.exec(['metrics', 'diff', '2', '--json'])).stdout) as {
      b: { run: number };
      metrics: { stage: string; metric: string; change: number | null }[];
    };
    assert.equal(mj.b.run, 4);
    assert.deepEqual(
      mj.metrics.map((x) => `${x.stage} ${x.metric} ${x.change}`),
      ['eval@dora chars 1', 'eval@lora chars 1', 'train@dora loss -0.25', 'train@lora loss -0.25'],
    );

    // a restore is a change of what the run had
    assert.match((await rig.exec(['metrics', 'diff', '2', '3'])).stdout, /^train@lora\s+loss\s+0\.5\s+0\.25\s+-0\.25$/m);

    const bad = await rig.exec(['metrics', 'diff', '5', '4']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /run #5 changed no stage's result \(runs that did: #1, #2, #3, #4\)/);
    assert.equal((await rig.exec(['metrics', 'diff', 'x'])).code, 2);
    assert.equal((await rig.exec(['params', 'diff', '1', '2', '4'])).code, 2);

    const t = await rig.exec(['metrics', 'table']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^run\s+method\s+prompt\.anchor\s+steps\s+chars\s+loss$/m);
    assert.match(t.stdout, /^#2\s+train@lora\s+"A"\s+2\s+10\s+0\.5$/m);
    assert.match(t.stdout, /^#4\s+train@dora\s+"AB"\s+4\s+10\s+0\.25$/m);
    assert.match(t.stdout, /^run\s+method\s+prompt\.anchor\s+steps\s+chars$/m);
    const tj = JSON.parse((await rig.exec(['metrics', 'table', 'train', '--last', '3', '--json'])).stdout) as {
      runs: { run: number }[];
      params: string[];
      rows: { run: number; method: string; metrics: Record<string, number> }[];
    };
    assert.deepEqual(tj.runs.map((r) => r.run), [2, 3, 4]);
    assert.deepEqual(tj.params, ['prompt.anchor', 'steps']);
    assert.deepEqual(tj.rows.map((r) => `${r.run} ${r.method} ${r.metrics.loss}`), ['2 train@dora 0.5', '2 train@lora 0.5', '3 train@dora 0.25', '3 train@lora 0.25', '4 train@dora 0.25', '4 train@lora 0.25']);
    // a stage named as a metrics filter still works beside the subcommands
    assert.match((await rig.exec(['metrics', 'train'])).stdout, /^train@lora\s+loss\s+0\.25\s+4\s+4$/m);
  } finally {
    rig.cleanup();
  }
});
