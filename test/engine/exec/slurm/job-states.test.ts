/**
 * The parsers and the end-cause classification, on text captured from slurm-wlm 22.05 on the CI cluster
 * (.ci/slurm/start.sh). test/engine/exec/slurm/slurm-commands.test.ts checks the same against a live cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeEnd,
  parseExitCode,
  parseSacct,
  parseScontrolJob,
  parseSqueue,
  phaseOf,
  slurmLogLines,
} from '../../../../src/engine/exec/slurm/job-states.js';

void test('phases: queued, running (COMPLETING included: processes are still being cleaned up), ended', () => {
  assert.equal(phaseOf('PENDING'), 'queued');
  assert.equal(phaseOf('RUNNING'), 'running');
  assert.equal(phaseOf('COMPLETING'), 'running');
  for (const s of ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED']) {
    assert.equal(phaseOf(s), 'ended', s);
  }
  assert.equal(phaseOf('CANCELLED by 0'), 'ended');
});

void test('squeue lines', () => {
  const m = parseSqueue('10|PENDING|BeginTime|wsflow:a\n11|NODE_FAIL|NodeDown|wsflow:b@x|y\n\n12|RUNNING|None|wrap\n');
  assert.deepEqual([...m.keys()], ['10', '11', '12']);
  assert.deepEqual(m.get('11'), { jobId: '11', state: 'NODE_FAIL', reason: 'NodeDown', name: 'wsflow:b@x|y' });
});

void test('scontrol show job -o: values with spaces stay whole', () => {
  const line =
    'JobId=5 JobName=wsflow:train@lora UserId=root(0) GroupId=root(0) JobState=TIMEOUT Reason=TimeLimit ' +
    'Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=143:0 RunTime=00:01:24 ' +
    'TimeLimit=00:01:00 NodeList=vm WorkDir=/tmp/my project StdOut=/tmp/my project/cache/logs/5.log Power=';
  const f = parseScontrolJob(line);
  assert.equal(f.JobState, 'TIMEOUT');
  assert.equal(f.Reason, 'TimeLimit');
  assert.equal(f.ExitCode, '143:0');
  assert.equal(f.JobName, 'wsflow:train@lora');
  assert.equal(f.WorkDir, '/tmp/my project');
  assert.equal(f.StdOut, '/tmp/my project/cache/logs/5.log');
  assert.equal(f.Power, '');
});

void test('sacct -P picks the allocation line', () => {
  const out = '41|OUT_OF_MEMORY|0:125|None\n41.batch|OUT_OF_MEMORY|0:125|\n';
  assert.deepEqual(parseSacct(out, '41'), { state: 'OUT_OF_MEMORY', exitCode: '0:125', reason: 'None' });
  assert.equal(parseSacct(out, '42'), null);
});

void test('exit codes', () => {
  assert.deepEqual(parseExitCode('3:0'), { code: 3, signal: 0 });
  assert.deepEqual(parseExitCode('0:9'), { code: 0, signal: 9 });
  assert.equal(parseExitCode('n/a'), null);
  assert.equal(parseExitCode(undefined), null);
});

void test('end causes from state, reason, exit code and the slurmstepd lines of the log', () => {
  const timeout = describeEnd(
    { jobId: '5', state: 'TIMEOUT', reason: 'TimeLimit', exitCode: '143:0', node: 'vm' },
    'step 1\nslurmstepd-vm: error: *** JOB 5 ON vm CANCELLED AT 2026-11-24T15:56:37 DUE TO TIME LIMIT ***\n',
  );
  assert.equal(timeout.cause, 'time-limit');
  assert.match(timeout.message, /^SLURM job 5 on vm ended TIMEOUT \(TimeLimit\): exit code 143, time limit reached$/);

  // OverMemoryKill without cgroups: FAILED/JobLaunchFailure, signal 9; only the log says it was memory
  const oom = describeEnd(
    { jobId: '6', state: 'FAILED', reason: 'JobLaunchFailure', exitCode: '0:9' },
    'allocated\nslurmstepd-vm: error: StepId=6.batch exceeded memory limit (644644864 > 104857600), being killed\n' +
      'slurmstepd-vm: error: *** JOB 6 ON vm CANCELLED AT 2026-11-24T15:55:18 ***\n',
  );
  assert.equal(oom.cause, 'out-of-memory');
  assert.match(oom.message, /killed by signal 9, out of memory: StepId=6\.batch exceeded memory limit \(644644864 > 104857600\)/);
  assert.equal(describeEnd({ jobId: '7', state: 'OUT_OF_MEMORY', reason: 'OutOfMemory', exitCode: '0:125' }, '').cause, 'out-of-memory');

  const nodeFail = describeEnd(
    { jobId: '11', state: 'NODE_FAIL', reason: 'NodeDown', exitCode: '0:15' },
    'slurmstepd-vm: error: *** JOB 11 ON vm CANCELLED AT 2026-11-24T15:56:59 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***\n',
  );
  assert.equal(nodeFail.cause, 'node-failure');
  assert.match(nodeFail.message, /NODE_FAIL \(NodeDown\): killed by signal 15, node failure/);

  const cancelled = describeEnd({ jobId: '4', state: 'CANCELLED', reason: 'None', exitCode: '0:15' }, '');
  assert.equal(cancelled.cause, 'cancelled');
  assert.equal(cancelled.message, 'SLURM job 4 ended CANCELLED: killed by signal 15, cancelled (scancel or an administrator)');

  const failed = describeEnd({ jobId: '2', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' }, '');
  assert.equal(failed.cause, 'exit-code');
  assert.equal(failed.message, 'SLURM job 2 ended FAILED (NonZeroExitCode): exit code 3');

  assert.equal(describeEnd({ jobId: '1', state: 'COMPLETED', reason: 'None', exitCode: '0:0' }, 'hi\n').cause, 'completed');
});

void test('only slurmstepd error lines count as SLURM log lines', () => {
  assert.deepEqual(slurmLogLines('slurmstepd: error: a\nuser says slurmstepd: error: b\n  slurmstepd-n01: error: c\n'), ['a', 'c']);
});
