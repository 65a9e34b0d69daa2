/**
 * kill -9 of `wsflow run` at random moments: after every kill, no execution recorded as succeeded may point at
 * missing, truncated or wrong content (no false cache hit), and the next run completes with outputs equal to a
 * clean run's. Half the kills take the whole process group (scheduler, workers, commands), half only the
 * scheduler (workers must notice and leave). Trials alternate new params and resuming the same params.
 * WSFLOW_KILL_TRIALS sets the number of trials (default 20), WSFLOW_KILL_SEED the random seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig, sleep } from '../../helpers/rig.js';
import { assertNoFalseHit } from '../../helpers/cache-audit.js';
import { Rng } from '../../../src/core/random.js';

const PIPELINE = `
params: { seed: 0 }
matrix: { part: [a, b, c] }
stages:
  data:
    uses: ./kinds/write.js
    with: { text: data, files: 12, sleepMs: 40, ignored: "\${params.seed}" }
  work:
    uses: ./kinds/write.js
    foreach: part
    needs: { in: data }
    with: { text: "work \${matrix.part}", files: 12, sleepMs: 80, ignored: "\${params.seed}" }
  merge:
    uses: ./kinds/write.js
    needs: { in: "work@*" }
    with: { text: merge, files: 6, ignored: "\${params.seed}" }
  count:
    cmd: "wc -c < out/merge/result.txt > count.txt && cp count.txt count2.txt"
    deps: [out/merge]
    params: [seed]
    outs: [count.txt, count2.txt]
`;

function projectOutputs(rig: Rig): Map<string, string> {
  const out = rig.snapshot('out');
  for (const f of ['count.txt', 'count2.txt']) if (rig.exists(f)) out.set(f, rig.read(f));
  return out;
}

void test('kill -9 at random moments never leaves a false cache hit, and the next run completes like a clean one', async () => {
  const trials = Number(process.env.WSFLOW_KILL_TRIALS ?? 20);
  const rng = new Rng(Number(process.env.WSFLOW_KILL_SEED ?? 20261124));

  // reference: a clean run, its outputs and the output hash of every stage
  const clean = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  let reference: Map<string, string>;
  let referenceOutputs: Map<string, string>;
  let cleanMs: number;
  try {
    const t0 = Date.now();
    const r = await clean.exec(['run', '-j', '2']);
    cleanMs = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    reference = new Map(
      clean.withDb((db) => db.prepare(`SELECT stage_id, output_hash FROM executions WHERE status = 'succeeded'`).all() as { stage_id: string; output_hash: string }[]).map(
        (r) => [r.stage_id, r.output_hash],
      ),
    );
    referenceOutputs = projectOutputs(clean);
    assert.equal(reference.size, 6);
  } finally {
    clean.cleanup();
  }

  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  const log: string[] = [];
  try {
    for (let i = 0; i < trials; i++) {
      const seed = Math.floor(i / 2) + 1;
      const wholeGroup = i % 2 === 0;
      const delay = Math.floor(rng.uniform() * cleanMs);
      const trial = `trial ${i} (seed ${seed}, kill ${wholeGroup ? 'group' : 'scheduler'} after ${delay} ms)`;
      log.push(trial);
      const child = rig.spawn(['run', '-j', '2', '-S', `seed=${seed}`]);
      await sleep(delay);
      try {
        if (child.pid !== undefined) process.kill(wholeGroup ? -child.pid : child.pid, 'SIGKILL');
      } catch {
        // it already finished
      }
      await child.result;
      assertNoFalseHit(rig, reference, trial);

      const next = await rig.exec(['run', '-j', '2', '-S', `seed=${seed}`]);
      assert.equal(next.code, 0, `${trial}: the next run failed:\n${next.stdout}\n${next.stderr}`);
      assert.deepEqual(projectOutputs(rig), referenceOutputs, `${trial}: outputs differ from a clean run`);
      assertNoFalseHit(rig, reference, `${trial}, after the next run`);
      if (i % 4 === 3 || i === trials - 1) {
        const status = await rig.exec(['status', '-S', `seed=${seed}`]);
        assert.equal(status.code, 0, `${trial}: status after the next run:\n${status.stdout}`);
      }
    }
    // the killed runs are recorded as interrupted, not left running
    const running = rig.withDb((db) => (db.prepare(`SELECT COUNT(*) AS n FROM runs WHERE status = 'running'`).get() as { n: number }).n);
    assert.equal(running, 0);
  } catch (err) {
    throw new Error(`${(err as Error).message}\ntrials so far:\n${log.join('\n')}`, { cause: err });
  } finally {
    rig.cleanup();
  }
});
