/**
 * `wsflow status` (and `run --dry-run`) on a stage whose execution is under way in another run: "running", with
 * the pid, host and run, and that its result will be known when it finishes; not "stale ← key format changed".
 * Once that run is interrupted (Ctrl-C) or dies (kill -9), the stage says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../../helpers/rig.js';

const PIPELINE = `
stages:
  slow:
    uses: ./kinds/write.js
    with: { text: slow, sleepMs: 30000 }
  after:
    uses: ./kinds/write.js
    needs: { in: slow }
    with: { text: after }
`;

interface StatusJson {
  stages: { id: string; state: string; reasons: { type: string; text: string; pid?: number; runId?: number }[]; running?: { pid: number } }[];
  counts: Record<string, number>;
}

void test('a stage running in another run is "running" with where and when; interrupted or dead runs say so', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE } });
  try {
    const run = rig.spawn(['run']);
    await rig.started('slow');

    const status = await rig.exec(['status']);
    assert.equal(status.code, 1);
    assert.match(status.stdout, new RegExp(`^slow\\s+running\\s+← running now in pid ${run.pid} on \\S+ \\(run #1\\); its result will be known when it finishes$`, 'm'));
    assert.doesNotMatch(status.stdout, /key format changed/);
    assert.equal((status.stdout.match(/running now/g) ?? []).length, 1, 'said once, not again from the lease');
    assert.match(status.stdout, /^after\s+never-run$/m);
    assert.match(status.stdout, /1 never run, 1 running$/m);

    const json = JSON.parse((await rig.exec(['status', '--json'])).stdout) as StatusJson;
    const slow = json.stages.find((x) => x.id === 'slow');
    assert.equal(slow?.state, 'running');
    assert.equal(slow?.reasons[0]?.type, 'running');
    assert.equal(slow?.reasons[0]?.pid, run.pid);
    assert.equal(slow?.running?.pid, run.pid);
    assert.equal(json.counts.running, 1);

    const dry = await rig.exec(['run', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^… slow {2}running in another run: would wait for it and use its result$/m);
    assert.match(dry.stdout, /1 running elsewhere/);

    process.kill(run.pid ?? 0, 'SIGINT');
    assert.equal((await run.result).code, 130);
    const afterInterrupt = await rig.exec(['status']);
    assert.match(afterInterrupt.stdout, /^slow\s+stale\s+← interrupted in run #1$/m);

    // killed outright: the execution still says running, but its process is gone
    rig.clearInvocations();
    const doomed = rig.spawn(['run']);
    await rig.started('slow');
    process.kill(doomed.pid ?? 0, 'SIGKILL');
    await doomed.result;
    const afterKill = await rig.exec(['status']);
    assert.match(afterKill.stdout, /^slow\s+stale\s+← interrupted in run #2: the wsflow process running it died$/m);
  } finally {
    rig.cleanup();
  }
});
