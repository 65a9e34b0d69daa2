/**
 * Failure reporting, --keep-going, Ctrl-C, and planning errors (exit 2, nothing written).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { Rig } from '../../helpers/rig.js';

const BRANCHES = `
params: { broken: true }
stages:
  base:
    uses: ./kinds/write.js
    with: { text: base }
  bad:
    uses: ./kinds/write.js
    needs: { in: base }
    with: { text: bad, fail: "\${params.broken}" }
  after_bad:
    uses: ./kinds/write.js
    needs: { in: bad }
    with: { text: after }
  good:
    uses: ./kinds/write.js
    needs: { in: base }
    with: { text: good, sleepMs: 400 }
  after_good:
    uses: ./kinds/write.js
    needs: { in: good }
    with: { text: after good }
`;

void test('a failing stage is reported with its error and log; its dependents do not run; status says failed', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': BRANCHES } });
  try {
    const run = await rig.exec(['run', '-j', '1']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /✗ bad failed after \S+: Error: bad was told to fail/);
    assert.match(run.stdout, /│ stdout of bad/, 'the tail of the stage output is shown');
    assert.match(run.stdout, /log: wsflow logs bad {2}\(.*cache\/logs\/\d+\.log\)/);
    assert.match(run.stdout, /Failed \(run #1, .*\): .*1 failed/);
    assert.ok(!rig.invocations().includes('after_bad'));
    // without --keep-going nothing new starts after the failure (good was queued behind bad at -j 1)
    assert.ok(!rig.invocations().includes('after_good'));

    const logs = await rig.exec(['logs', 'bad']);
    assert.equal(logs.code, 0);
    assert.match(logs.stdout, /stdout of bad/);
    assert.match(logs.stdout, /# failed after .*: Error: bad was told to fail/);

    const status = await rig.exec(['status']);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /^bad\s+failed\s+← failed in run #1: Error: bad was told to fail$/m);
    assert.match(status.stdout, /^after_bad\s+never-run$/m);
    assert.match(status.stdout, /^base\s+fresh$/m);

    // the run recorded the execution as failed with its error
    const row = rig.withDb((db) => db.prepare(`SELECT status, error FROM executions WHERE stage_id = 'bad'`).get() as { status: string; error: string });
    assert.equal(row.status, 'failed');
    assert.match(row.error, /bad was told to fail/);
    assert.equal(rig.exists('out/bad'), false, 'nothing of a failed stage reaches out/');
  } finally {
    rig.cleanup();
  }
});

void test('--keep-going runs everything that does not depend on the failure', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': BRANCHES } });
  try {
    const run = await rig.exec(['run', '-j', '1', '--keep-going']);
    assert.equal(run.code, 1);
    assert.deepEqual(rig.invocations().sort(), ['after_good', 'bad', 'base', 'good']);
    assert.match(run.stdout, /○ after_bad {2}not run: upstream bad failed/);
    assert.match(run.stdout, /3 executed, .*1 failed, 1 not run/);
    // fixed: only the failed branch runs now
    rig.clearInvocations();
    const fixed = await rig.exec(['run', '-S', 'broken=false']);
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.deepEqual(rig.invocations().sort(), ['after_bad', 'bad']);
  } finally {
    rig.cleanup();
  }
});

void test('a crashing worker process is reported and the run fails cleanly', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
stages:
  crash:
    uses: ./kinds/crash.js
    with: {}
`,
      'kinds/crash.js': `export default { name: 'crash', version: '1', description: 'exits', paramsSchema: { type: 'object' },
  inputs: {}, resources: 'cpu', async load() { return { async run() { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); } }; } };`,
    },
  });
  try {
    const run = await rig.exec(['run']);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /✗ crash failed after \S+: stage worker process killed by SIGKILL \(out of memory, or killed from outside\)/);
    assert.equal((await rig.exec(['status'])).code, 1);
  } finally {
    rig.cleanup();
  }
});

void test('Ctrl-C stops running stages, caches nothing partial, records the run as interrupted; the next run completes', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
stages:
  quick:
    uses: ./kinds/write.js
    with: { text: quick }
  slow:
    uses: ./kinds/write.js
    needs: { in: quick }
    with: { text: slow, gate: gates/slow }
  shell:
    cmd: "echo shell $$ start 0 >> .invocations.log && sleep 20 && echo done > shell.txt"
    outs: [shell.txt]
`,
    },
  });
  try {
    const child = rig.spawn(['run', '-j', '2']);
    // both stages are running (slow waits for a gate the test never opens) when Ctrl-C comes
    await rig.until(() => rig.invocations().includes('slow') && rig.invocations().includes('shell'), 'slow and shell to start');
    const t0 = Date.now();
    process.kill(child.pid ?? 0, 'SIGINT');
    const r = await child.result;
    assert.ok(Date.now() - t0 < 10_000, 'stopped promptly');
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stdout, /■ slow interrupted/);
    assert.match(r.stdout, /■ shell interrupted/);
    assert.match(r.stdout, /Interrupted \(run #1/);
    const rows = rig.withDb((db) => ({
      run: (db.prepare(`SELECT status FROM runs WHERE id = 1`).get() as { status: string }).status,
      execs: db.prepare(`SELECT stage_id, status FROM executions ORDER BY stage_id`).all() as { stage_id: string; status: string }[],
    }));
    assert.equal(rows.run, 'interrupted');
    assert.deepEqual(rows.execs, [
      { stage_id: 'quick', status: 'succeeded' },
      { stage_id: 'shell', status: 'interrupted' },
      { stage_id: 'slow', status: 'interrupted' },
    ]);
    assert.equal(rig.exists('out/slow'), false);
    assert.equal(rig.exists('shell.txt'), false);
    assert.deepEqual(readdirSync(rig.path('cache/tmp')), [], 'staging removed');
    // no stray sleep left running from the shell stage
    assert.equal(existsSync(rig.path('shell.txt')), false);

    rig.release('slow');
    rig.write('pipeline.yaml', rig.read('pipeline.yaml').replace('sleep 20', 'true'));
    const next = await rig.exec(['run']);
    assert.equal(next.code, 0, next.stdout);
    assert.match(next.stdout, /2 executed, 1 fresh/);
  } finally {
    rig.cleanup();
  }
});

void test('a planning error (missing external input) exits 2 and leaves the project byte for byte unchanged', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
stages:
  a:
    uses: ./kinds/write.js
    with: { text: a }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: b, external: data/missing.txt }
`,
    },
  });
  try {
    const before = rig.snapshot('.', true);
    const run = await rig.exec(['run']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^pipeline\.yaml:6:3: error: stage b \(with\.external\): external file .*data\/missing\.txt does not exist$/m);
    assert.match(run.stderr, /1 planning error; nothing was run or written/);
    assert.deepEqual(rig.invocations(), []);
    assert.equal(rig.exists('cache'), false);
    assert.equal(rig.exists('out'), false);
    // not even the pipeline load cache (.wsflow/): the project is byte for byte as it was
    assert.deepEqual(rig.snapshot('.', true), before);
    for (const args of [['status'], ['status', '--json'], ['run', '--dry-run'], ['explain', 'b'], ['run', '--executor', 'slurm'], ['run', 'b']]) {
      const r = await rig.exec(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(rig.snapshot('.', true), before, `wsflow ${args.join(' ')} wrote nothing`);
    }
    // once the plan succeeds, the load cache is kept
    rig.write('data/missing.txt', 'here now');
    const status = await rig.exec(['status']);
    assert.equal(status.code, 1, status.stderr);
    assert.equal(rig.snapshot('.wsflow/pipeline-cache').size, 1);
  } finally {
    rig.cleanup();
  }
});

void test('a stage failure is a typed reason end to end: exit status, signal, kind threw, output missing', async () => {
  const rig = new Rig({
    files: {
      'pipeline.yaml': `
stages:
  exits: { cmd: "exit 7", outs: [a.txt] }
  killed: { cmd: "kill -9 $$", outs: [b.txt] }
  threw:
    uses: ./kinds/write.js
    with: { text: t, fail: true }
  no_out: { cmd: "true", outs: [c.txt] }
`,
    },
  });
  try {
    const run = await rig.exec(['run', '--keep-going', '--json']);
    assert.equal(run.code, 1, run.stderr);
    const failed = new Map(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; stageId?: string; failure?: Record<string, unknown>; error?: string })
        .filter((e) => e.type === 'stage-failed')
        .map((e) => [e.stageId, e]),
    );
    assert.deepEqual(failed.get('exits')?.failure, { reason: 'exit-status', status: 7 });
    assert.equal(failed.get('exits')?.error, 'command exited with status 7', 'the JSON line also carries the text');
    assert.deepEqual(failed.get('killed')?.failure, { reason: 'signal', signal: 'SIGKILL' });
    assert.equal(failed.get('threw')?.failure?.reason, 'kind-threw');
    assert.match(String(failed.get('threw')?.failure?.message), /^Error: threw was told to fail/);
    assert.deepEqual(failed.get('no_out')?.failure, { reason: 'output-missing', message: 'the command did not write its declared out c.txt' });
    // the state database keeps the failure's line, as before
    const errors = rig.withDb((db) => db.prepare(`SELECT stage_id, error FROM executions ORDER BY stage_id`).all() as { stage_id: string; error: string }[]);
    assert.deepEqual(
      errors.filter((e) => e.stage_id !== 'threw'),
      [
        { stage_id: 'exits', error: 'command exited with status 7' },
        { stage_id: 'killed', error: 'command killed by SIGKILL' },
        { stage_id: 'no_out', error: 'the command did not write its declared out c.txt' },
      ],
    );
  } finally {
    rig.cleanup();
  }
});
