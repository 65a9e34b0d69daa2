/**
 * The SLURM behaviour the executor relies on, checked against a live one-node cluster (WSFLOW_SLURM_TESTS=1):
 * submission, the state and cause of each way a job ends, and GRES scheduling of the accel class.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sbatch, scancel, squeueStates } from '../../../../src/engine/exec/slurm/slurm-commands.js';
import { readJobEnd } from '../../../../src/engine/exec/slurm/job-end.js';
import { phaseOf, type JobEnd, type JobStatus } from '../../../../src/engine/exec/slurm/job-states.js';
import { sbatchArgs } from '../../../../src/engine/exec/slurm/sbatch-args.js';
import { clusterGpus, acquireCluster, LONG_TESTS, nodeName, nodeState, SKIP_REASON, releaseCluster } from './cluster-fixture.js';

void describe('SLURM behaviour on a live cluster', { skip: SKIP_REASON }, () => {
  let dir = '';
  let n = 0;

  before(async () => {
    await acquireCluster();
    dir = mkdtempSync(join(tmpdir(), 'wsflow-slurm-'));
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseCluster();
  });

  async function submit(body: string, resources: Parameters<typeof sbatchArgs>[0]['resources'] = { class: 'cpu' }) {
    n += 1;
    const script = join(dir, `job-${n}.sh`);
    const log = join(dir, `job-${n}.log`);
    writeFileSync(script, `#!/bin/bash\n${body}\n`);
    const r = await sbatch(sbatchArgs({ stageId: `probe-${n}`, resources, logPath: log, workDir: dir }, {}), script);
    assert.ok(r.ok, r.ok ? '' : r.error);
    return { jobId: r.value, log };
  }

  async function waitFor(jobId: string, want: (s: JobStatus) => boolean, timeoutMs = 30_000): Promise<JobStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await squeueStates([jobId]);
      assert.ok(r.ok, r.ok ? '' : r.error);
      const s = r.value.get(jobId);
      if (s && want(s)) return s;
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${s?.state ?? 'unknown'} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  async function endOf(job: { jobId: string; log: string }, timeoutMs?: number): Promise<JobEnd> {
    const last = await waitFor(job.jobId, (s) => phaseOf(s.state) === 'ended', timeoutMs);
    return readJobEnd(job.jobId, last, job.log);
  }

  void test('a job that exits 0 is COMPLETED, its stdout and stderr land in the one log file', async () => {
    const job = await submit('echo out; echo err >&2');
    const end = await endOf(job);
    assert.equal(end.cause, 'completed');
    assert.equal(end.state, 'COMPLETED');
    assert.deepEqual(end.exitCode, { code: 0, signal: 0 });
    assert.equal(readFileSync(job.log, 'utf8'), 'out\nerr\n');
  });

  void test('a non-zero exit is FAILED with that exit code', async () => {
    const end = await endOf(await submit('exit 3'));
    assert.equal(end.cause, 'exit-code');
    assert.match(end.message, /ended FAILED \(NonZeroExitCode\): exit code 3$/);
  });

  void test('scancel of a running job: CANCELLED, and the log says so', async () => {
    const job = await submit('echo started; sleep 120');
    await waitFor(job.jobId, (s) => s.state === 'RUNNING');
    const c = await scancel([job.jobId]);
    assert.ok(c.ok);
    const end = await endOf(job);
    assert.equal(end.cause, 'cancelled');
    assert.equal(end.state, 'CANCELLED');
    assert.match(readFileSync(job.log, 'utf8'), /CANCELLED AT/);
  });

  void test('a job over its --mem is killed and reported as out of memory', async () => {
    const alloc = `${JSON.stringify(process.execPath)} -e 'const a=[];for(let i=0;i<8;i++)a.push(Buffer.alloc(50e6,1));setTimeout(()=>{},20000)'`;
    const end = await endOf(await submit(alloc, { class: 'cpu', memMB: 64 }));
    assert.equal(end.cause, 'out-of-memory', end.message);
    assert.match(end.message, /out of memory/);
  });

  void test('a node that goes down fails its job as NODE_FAIL (not requeued)', async () => {
    const job = await submit('sleep 120');
    await waitFor(job.jobId, (s) => s.state === 'RUNNING');
    const node = nodeName();
    const down = spawnSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=wsflow-test'], { encoding: 'utf8' });
    assert.equal(down.status, 0, down.stderr);
    try {
      const end = await endOf(job);
      assert.equal(end.cause, 'node-failure', end.message);
      assert.match(end.message, /NODE_FAIL \(NodeDown\)/);
    } finally {
      // ReturnToService=2 brings the node back when slurmd re-registers; resume makes it immediate
      spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume']);
      const deadline = Date.now() + 30_000;
      while (nodeState() !== 'idle' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(nodeState(), 'idle');
  });

  void test('accel stages ask for --gres=gpu:1, and one GPU runs one accel job at a time', async (t) => {
    if (clusterGpus() !== 1) {
      t.skip('the cluster does not advertise exactly one gpu GRES (WSFLOW_SLURM_GPUS=1 is start.sh\'s default)');
      return;
    }
    const a = await submit('sleep 3', { class: 'accel' });
    const b = await submit('echo "gpu=$CUDA_VISIBLE_DEVICES"', { class: 'accel' });
    await waitFor(a.jobId, (s) => s.state === 'RUNNING');
    const bState = await waitFor(b.jobId, () => true);
    assert.equal(bState.state, 'PENDING');
    assert.equal(bState.reason, 'Resources');
    assert.equal((await endOf(a)).cause, 'completed');
    assert.equal((await endOf(b)).cause, 'completed');
    assert.equal(readFileSync(b.log, 'utf8'), 'gpu=0\n');
  });

  void test('sbatch errors come back as values naming the problem', async () => {
    const script = join(dir, 'never.sh');
    writeFileSync(script, '#!/bin/bash\ntrue\n');
    const r = await sbatch(['--parsable', '--partition=no_such_partition'], script);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.error, /^sbatch failed \(exit 1\): .*invalid partition/i);
  });

  void test('squeue on ids it does not know is an empty answer, not an error', async () => {
    const r = await squeueStates(['999999']);
    assert.ok(r.ok);
    assert.equal(r.value.size, 0);
  });

  void test('a time limit ends the job TIMEOUT (SLURM enforces whole minutes, checked every 30 s)', { skip: !LONG_TESTS && 'set WSFLOW_LONG_TESTS=1 (takes ~90 s)' }, async () => {
    const end = await endOf(await submit('sleep 300', { class: 'cpu', timeMin: 1 }), 150_000);
    assert.equal(end.cause, 'time-limit', end.message);
    assert.match(end.message, /TIMEOUT \(TimeLimit\)/);
  });
});
