/**
 * kill -9 at every named point of the commit protocol (src/engine/util/crash-points.ts), in a run that executes stages
 * (new params: new outputs, so new objects and trees are written) and in one that restores them from the cache, at
 * the first and a later time the point is reached. The random-moment
 * kills of test/engine/run/crash-safety.test.ts stay; this makes sure no point is left to chance. After each kill: no
 * execution recorded as succeeded points at anything but a clean run's content, and the next run completes with a
 * clean run's outputs. Figures (trials, kills, losses) are printed as a test diagnostic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Rig } from '../helpers/rig.js';
import { assertNoFalseHit, assertNothingRunning, outputHashes } from '../helpers/cache-audit.js';
import type { CrashPoint } from '../../src/engine/util/crash-points.js';

const PIPELINE = `
params: { seed: 0 }
matrix: { part: [a, b] }
stages:
  data:
    uses: ./kinds/write.js
    with: { text: "data \${params.seed}", files: 3 }
  work:
    uses: ./kinds/write.js
    foreach: part
    needs: { in: data }
    with: { text: "work \${matrix.part}", files: 2, ignored: "\${params.seed}" }
  count:
    cmd: "cat out/work/a/result.txt out/work/b/result.txt | wc -c > count.txt && cp count.txt count2.txt"
    deps: [out/work/a, out/work/b]
    params: [seed]
    outs: [count.txt, count2.txt]
`;

const EXECUTING: CrashPoint[] = ['object-written', 'ingested', 'committed', 'tree-staged', 'out-staged', 'out-old-moved', 'out-swapped', 'out-written'];
const RESTORING: CrashPoint[] = ['out-staged', 'out-old-moved', 'out-swapped', 'out-written'];
const NTH = [1, 3];

function outputs(rig: Rig): Map<string, string> {
  const out = rig.snapshot('out');
  for (const f of ['count.txt', 'count2.txt']) if (rig.exists(f)) out.set(f, rig.read(f));
  return out;
}

void test('kill -9 at every commit point, executing and restoring, loses nothing', async (t) => {
  // the reference: a clean project run with each seed in turn (outputs differ by seed)
  const clean = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  const references = new Map<number, { hashes: Map<string, string>; outputs: Map<string, string> }>();
  const allowed = new Map<string, Set<string>>();
  const referenceFor = async (seed: number): Promise<{ hashes: Map<string, string>; outputs: Map<string, string> }> => {
    let ref = references.get(seed);
    if (!ref) {
      const r = await clean.exec(['run', '-j', '2', '-S', `seed=${seed}`]);
      assert.equal(r.code, 0, r.stderr);
      ref = { hashes: outputHashes(clean), outputs: outputs(clean) };
      assert.equal(ref.hashes.size, 4);
      references.set(seed, ref);
    }
    for (const [stage, hash] of ref.hashes) allowed.set(stage, (allowed.get(stage) ?? new Set()).add(hash));
    return ref;
  };

  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  let trials = 0;
  let kills = 0;
  const notReached: string[] = [];
  let nextSeed = 1;
  const log: string[] = [];
  try {
    // one completed seed to restore from
    await referenceFor(0);
    assert.equal((await rig.exec(['run', '-S', 'seed=0'])).code, 0);
    const plan: { point: CrashPoint; nth: number; mode: 'execute' | 'restore' }[] = [];
    for (const point of EXECUTING) for (const nth of NTH) plan.push({ point, nth, mode: 'execute' });
    for (const point of RESTORING) for (const nth of NTH) plan.push({ point, nth, mode: 'restore' });
    for (const { point, nth, mode } of plan) {
      const seed = mode === 'execute' ? nextSeed++ : 0;
      if (mode === 'restore') {
        // seed 0 is in the cache; out/ and the cmd outs are gone, so the run restores every stage
        rmSync(rig.path('out'), { recursive: true, force: true });
        for (const f of ['count.txt', 'count2.txt']) rmSync(rig.path(f), { force: true });
      }
      const reference = await referenceFor(seed);
      const trial = `${mode} seed ${seed}, kill at ${point}:${nth}`;
      log.push(trial);
      trials++;
      const crashed = await rig.exec(['run', '-j', '2', '-S', `seed=${seed}`], { WSFLOW_CRASH_AT: `${point}:${nth}` });
      if (crashed.signal === 'SIGKILL') kills++;
      else notReached.push(`${mode} ${point}:${nth}`);
      if (crashed.signal !== 'SIGKILL') assert.equal(crashed.code, 0, `${trial}: not killed, yet the run failed:\n${crashed.stdout}${crashed.stderr}`);
      assertNoFalseHit(rig, allowed, trial);

      const next = await rig.exec(['run', '-j', '2', '-S', `seed=${seed}`]);
      assert.equal(next.code, 0, `${trial}: the next run failed:\n${next.stdout}\n${next.stderr}`);
      assert.deepEqual(outputs(rig), reference.outputs, `${trial}: outputs differ from a clean run`);
      assertNoFalseHit(rig, allowed, `${trial}, after the next run`);
      if (trials % 4 === 0) {
        const status = await rig.exec(['status', '-S', `seed=${seed}`]);
        assert.equal(status.code, 0, `${trial}: status after the next run:\n${status.stdout}`);
      }
    }
    assertNothingRunning(rig, 'after every trial');
    // every point was reached at least at its first hit
    assert.ok(kills >= EXECUTING.length + RESTORING.length, `only ${kills} of ${trials} trials reached their kill point`);
    // a point reached fewer than n times in a run completes it instead: those trials are counted, not as kills
    t.diagnostic(`fault-injection kill-at-commit-points: ${trials} trials, ${kills} kills, 0 lost; not reached: ${notReached.join(', ') || 'none'}`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\ntrials so far:\n${log.join('\n')}`, { cause: err });
  } finally {
    rig.cleanup();
    clean.cleanup();
  }
});
