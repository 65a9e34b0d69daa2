/**
 * Profiles are namespaces (issue 18): a smoke run materialises under out/smoke/, keeps its own heads and never
 * changes what the real study's status, out/ or gc see; `gc` trims one profile and keeps each stage's last N
 * results there. Through the real CLI, with real child processes and the real state database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rig } from '../helpers/rig.js';

const PIPELINE = `
params:
  model: models/real
  n: 2
stages:
  model:
    uses: ./kinds/write.js
    with: { text: "model \${params.model}" }
  train:
    uses: ./kinds/write.js
    needs: { in: model }
    with: { text: "train n=\${params.n}" }
  report:
    uses: ./kinds/write.js
    needs: { in: train }
    out: out/report
    with: { text: report }
profiles:
  smoke:
    params: { model: models/tiny, n: 1 }
`;

const ALL = ['model', 'train', 'report'];

void test('a smoke run lands in out/smoke/ and leaves the real study fresh; gc of either profile keeps the other', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    assert.equal((await rig.exec(['run'])).code, 0);
    const realReport = rig.read('out/report/result.txt');
    assert.match(realReport, /model models\/real/);

    rig.clearInvocations();
    const smoke = await rig.exec(['run', '--profile', 'smoke']);
    assert.equal(smoke.code, 0, smoke.stderr);
    assert.deepEqual(rig.invocations().sort(), [...ALL].sort(), 'the smoke profile runs its own stages');
    assert.match(rig.read('out/smoke/report/result.txt'), /model models\/tiny/);
    assert.equal(rig.read('out/report/result.txt'), realReport, "the real study's out/ is untouched");
    assert.match(rig.read('out/smoke/train/result.txt'), /train n=1/);

    const status = await rig.exec(['status']);
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /Everything up to date \(3 stages\)/);
    const smokeStatus = await rig.exec(['status'], { WSFLOW_PROFILE: 'smoke' });
    assert.equal(smokeStatus.code, 0, smokeStatus.stdout);

    // logs: each profile's own latest execution
    const realLog = await rig.exec(['logs', 'train']);
    const smokeLog = await rig.exec(['logs', 'train'], { WSFLOW_PROFILE: 'smoke' });
    assert.deepEqual([realLog.code, smokeLog.code], [0, 0], smokeLog.stderr);
    assert.match(realLog.stdout, /execution #2, run #1/);
    assert.match(smokeLog.stdout, /execution #5, run #2/);

    // gc in the smoke profile, then in the real one: neither collects the other's results
    assert.equal((await rig.exec(['gc', '--profile', 'smoke'])).code, 0);
    const gcReal = await rig.exec(['gc']);
    assert.equal(gcReal.code, 0, gcReal.stderr);
    assert.match(gcReal.stdout, /Removed 0 objects/);
    rmSync(join(rig.dir, 'out'), { recursive: true });
    rig.clearInvocations();
    const restoreReal = await rig.exec(['run']);
    const restoreSmoke = await rig.exec(['run', '--profile', 'smoke']);
    assert.deepEqual([restoreReal.code, restoreSmoke.code], [0, 0]);
    assert.deepEqual(rig.invocations(), [], 'both studies restore from the cache: nothing executes');
    assert.equal(rig.read('out/report/result.txt'), realReport);
    assert.match(rig.read('out/smoke/report/result.txt'), /model models\/tiny/);
  } finally {
    rig.cleanup();
  }
});

void test('gc --keep N keeps the last N results of each stage in the profile it trims, and every other profile whole', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    for (const n of ['1', '3']) assert.equal((await rig.exec(['run', '--profile', 'smoke', '-S', `n=${n}`])).code, 0);
    for (const n of ['1', '2', '3']) assert.equal((await rig.exec(['run', '-S', `n=${n}`])).code, 0);

    const dry = await rig.exec(['gc', '--keep', '2', '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as { evictedExecutions: number; scope: { profiles: string | null; keep: number } };
    assert.deepEqual(report.scope, { profiles: null, keep: 2 });
    assert.equal(report.evictedExecutions, 2, 'train and report of n=1 in the real study (model is one key)');

    assert.equal((await rig.exec(['gc', '--keep', '2'])).code, 0);
    rig.clearInvocations();
    assert.equal((await rig.exec(['run', '-S', 'n=2'])).code, 0);
    assert.deepEqual(rig.invocations(), [], 'n=2 is among the last 2 results: restored');
    assert.equal((await rig.exec(['run', '-S', 'n=1'])).code, 0);
    assert.deepEqual(rig.invocations().sort(), ['report', 'train'], 'n=1 was collected: it runs again');

    rig.clearInvocations();
    assert.equal((await rig.exec(['run', '--profile', 'smoke', '-S', 'n=1'])).code, 0);
    assert.deepEqual(rig.invocations(), [], "the smoke profile's older result survived the real study's gc");

    // --all-profiles with --keep 1: each profile keeps its head, older smoke results go
    const all = await rig.exec(['gc', '--all-profiles', '--dry-run', '--json']);
    assert.equal((JSON.parse(all.stdout) as { evictedExecutions: number }).evictedExecutions > 0, true);
  } finally {
    rig.cleanup();
  }
});

void test('a cmd stage keeps its paths; one reading a kind out by its no-profile path is an error under a profile, a param the profile sets works', async () => {
  const withCmd = (dep: string): string => `${PIPELINE.replace('profiles:\n  smoke:\n    params: { model: models/tiny, n: 1 }', '')}
  plot:
    cmd: mkdir -p ${dep.replace('/report/result.txt', '/plot')} && cp ${dep} ${dep.replace('/report/result.txt', '/plot/copy.txt')}
    deps: ["${dep}"]
    outs: ["${dep.replace('/report/result.txt', '/plot')}"]
profiles:
  smoke:
    params: { model: models/tiny, n: 1, out_root: out/smoke }
`;
  const literal = new Rig({ files: { 'pipeline.yaml': withCmd('out/report/result.txt').replace('  n: 2\n', '  n: 2\n  out_root: out\n') } });
  try {
    assert.equal((await literal.exec(['status'])).code, 1, 'no profile: plot reads report');
    const smoke = await literal.exec(['status', '--profile', 'smoke']);
    assert.equal(smoke.code, 2);
    assert.match(
      smoke.stderr,
      /deps entry "out\/report\/result\.txt" is inside the out of stage "report" as it is without a profile; under this profile that stage writes "out\/smoke\/report"/,
    );
  } finally {
    literal.cleanup();
  }
  const param = new Rig({ files: { 'pipeline.yaml': withCmd('${params.out_root}/report/result.txt').replace('  n: 2\n', '  n: 2\n  out_root: out\n') } });
  try {
    const real = await param.exec(['run', 'plot']);
    assert.equal(real.code, 0, real.stderr);
    const smoke = await param.exec(['run', 'plot', '--profile', 'smoke']);
    assert.equal(smoke.code, 0, smoke.stderr);
    assert.match(param.read('out/smoke/plot/copy.txt'), /model models\/tiny/);
    assert.match(param.read('out/plot/copy.txt'), /model models\/real/);
  } finally {
    param.cleanup();
  }
});
