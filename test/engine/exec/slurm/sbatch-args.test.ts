import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTimeLimit, gpusFor, jobNameFor, sbatchArgs } from '../../../../src/engine/exec/slurm/sbatch-args.js';

const base = { stageId: 'train_pos@lora', logPath: '/shared/p/cache/logs/7.log', workDir: '/shared/p' };

void test('a cpu stage with no hints asks for one node, one task, and nothing else', () => {
  const args = sbatchArgs({ ...base, resources: { class: 'cpu' } }, {});
  assert.deepEqual(args, [
    '--parsable',
    '--job-name=wsflow:train_pos@lora',
    '--output=/shared/p/cache/logs/7.log',
    '--chdir=/shared/p',
    '--nodes=1',
    '--ntasks=1',
    '--no-requeue',
  ]);
});

void test('each resource maps to its sbatch option; executor settings and extra args come last', () => {
  const args = sbatchArgs(
    { ...base, resources: { class: 'accel', cpus: 4, memMB: 16 * 1024, timeMin: 90 } },
    { partition: 'gpu', account: 'lab', extraArgs: ['--qos=short', '--constraint=a100'] },
  );
  assert.deepEqual(args.slice(7), [
    '--cpus-per-task=4',
    '--mem=16384M',
    '--time=01:30:00',
    '--gres=gpu:1',
    '--partition=gpu',
    '--account=lab',
    '--qos=short',
    '--constraint=a100',
  ]);
});

void test('accel means one GPU unless gpus says otherwise; gpus: 0 lets an accel stage run on a CPU partition', () => {
  assert.equal(gpusFor({ class: 'accel' }), 1);
  assert.equal(gpusFor({ class: 'accel', gpus: 2 }), 2);
  assert.equal(gpusFor({ class: 'accel', gpus: 0 }), 0);
  assert.equal(gpusFor({ class: 'cpu' }), 0);
  assert.equal(gpusFor({ class: 'cpu', gpus: 1 }), 1);
  assert.ok(!sbatchArgs({ ...base, resources: { class: 'accel', gpus: 0 } }, {}).some((a) => a.startsWith('--gres')));
  assert.ok(sbatchArgs({ ...base, resources: { class: 'cpu', gpus: 2 } }, {}).includes('--gres=gpu:2'));
});

void test('memory is whole megabytes, rounded up', () => {
  const args = sbatchArgs({ ...base, resources: { class: 'cpu', memMB: 511.2 } }, {});
  assert.ok(args.includes('--mem=512M'));
});

void test('time limits: minutes to [D-]HH:MM:SS, seconds rounded up', () => {
  assert.equal(formatTimeLimit(1), '00:01:00');
  assert.equal(formatTimeLimit(1.5), '00:01:30');
  assert.equal(formatTimeLimit(0.5 / 60), '00:00:01');
  assert.equal(formatTimeLimit(59 + 59 / 60), '00:59:59');
  assert.equal(formatTimeLimit(24 * 60), '1-00:00:00');
  assert.equal(formatTimeLimit(36 * 60 + 1), '1-12:01:00');
  assert.throws(() => formatTimeLimit(0), /positive/);
  assert.throws(() => formatTimeLimit(Number.NaN), /positive/);
});

void test('job names carry the stage id', () => {
  assert.equal(jobNameFor('eval@lora,seed=1'), 'wsflow:eval@lora,seed=1');
});
