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
    // a stage argument the pipeline lacks is a usage error, also before any run
    const typo = await rig.exec(['metrics', 'diff', '--stage', 'evl']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^error: unknown target "evl" \(did you mean "eval"\?\)$/m);

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

const PROFILED = `
params:
  steps: 4
matrix:
  adapter: [lora, dora]
profiles:
  smoke:
    params: { steps: 2 }
stages:
  train:
    uses: ./kinds/write.js
    foreach: adapter
    with: { text: "train \${matrix.adapter}", steps: "\${params.steps}" }
`;

interface PairJson {
  a: { run: number; profile: string | null };
  b: { run: number; profile: string | null };
  params?: { param: string; a: unknown; b: unknown }[];
  metrics?: { stage: string; metric: string; a: number | null; b: number | null }[];
}

void test('comparisons stay within the current profile: a smoke run is set against a real one only when both are named', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PROFILED } });
  const smoke = { WSFLOW_PROFILE: 'smoke' };
  try {
    assert.equal((await rig.exec(['run'])).code, 0); // #1: no profile, steps 4
    assert.equal((await rig.exec(['run'], smoke)).code, 0); // #2: smoke, steps 2
    // one run in each profile: nothing to compare in either, and the other profile's runs are named
    const one = await rig.exec(['params', 'diff']);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /found 1 with no profile; other profiles' runs: #2 \(smoke\) \(--profile smoke, or name two runs\)/);
    assert.equal((await rig.exec(['run', '-S', 'steps=3'])).code, 0); // #3: no profile
    assert.equal((await rig.exec(['run', '-S', 'steps=1'], smoke)).code, 0); // #4: smoke

    // the default pair is the current profile's last two runs, never the last two runs overall (#3, #4)
    const real = JSON.parse((await rig.exec(['params', 'diff', '--json'])).stdout) as PairJson;
    assert.deepEqual([real.a.run, real.b.run], [1, 3]);
    assert.deepEqual(real.params, [{ param: 'steps', a: 4, b: 3 }]);
    for (const args of [['params', 'diff', '--json'], ['params', 'diff', '--profile', 'smoke', '--json']]) {
      const env = args.includes('--profile') ? {} : smoke;
      const d = JSON.parse((await rig.exec(args, env)).stdout) as PairJson;
      assert.deepEqual([d.a.run, d.b.run, d.a.profile, d.b.profile], [2, 4, 'smoke', 'smoke'], args.join(' '));
      assert.deepEqual(d.params, [{ param: 'steps', a: 2, b: 1 }]);
    }
    // `metrics --profile smoke diff`: the profile given to metrics holds for diff
    const m = await rig.exec(['metrics', '--profile', 'smoke', 'diff']);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /^Metrics of run #2 .*profile smoke.* → run #4 /m);
    assert.match(m.stdout, /^train@lora\s+loss\s+0\.5\s+1\s+\+0\.5$/m);
    // a run of the smoke profile's snapshot follows from smoke runs only: #4 against #2, not against #3
    assert.doesNotMatch(m.stdout, /0\.333333/);

    // one run named: against the latest of the current profile, which must be its profile
    const wrong = await rig.exec(['metrics', 'diff', '2']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /^error: run #2 was run with profile smoke and this compares runs with no profile: use --profile smoke, or name the second run too$/m);
    assert.deepEqual(
      (JSON.parse((await rig.exec(['metrics', 'diff', '2', '--json'], smoke)).stdout) as PairJson).b.run,
      4,
    );

    // both named: compared as asked, across profiles, and said so
    const across = await rig.exec(['metrics', 'diff', '1', '2']);
    assert.equal(across.code, 0, across.stderr);
    assert.match(across.stdout, /^note: run #1 has no profile, run #2 profile smoke: results of different profiles$/m);
    assert.match(across.stdout, /^train@dora\s+loss\s+0\.25\s+0\.5\s+\+0\.25$/m);

    // the wide table lists the current profile's runs only
    const t = JSON.parse((await rig.exec(['metrics', 'table', '--json'], smoke)).stdout) as { profile: string | null; runs: { run: number }[]; params: string[] };
    assert.equal(t.profile, 'smoke');
    assert.deepEqual(t.runs.map((r) => r.run), [2, 4]);
    assert.deepEqual(t.params, ['steps']);
    const tt = await rig.exec(['metrics', 'table']);
    assert.match(tt.stdout, /^Runs\n {2}#1 .*\n {2}#3 .*\n\n/);
    assert.doesNotMatch(tt.stdout, /^#[24]\s/m);

    // a profile since removed from pipeline.yaml still has its records to compare; a misspelt one is an error
    rig.write('pipeline.yaml', PROFILED.replace(/profiles:\n.*\n.*\n/, ''));
    const gone = await rig.exec(['metrics', 'table', '--json'], smoke);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual((JSON.parse(gone.stdout) as { runs: { run: number }[] }).runs.map((r) => r.run), [2, 4]);
    const typo = await rig.exec(['params', 'diff'], { WSFLOW_PROFILE: 'smoek' });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^pipeline\.yaml:1:1: error: unknown profile "smoek"; the pipeline file defines no profiles$/m);
  } finally {
    rig.cleanup();
  }
});
