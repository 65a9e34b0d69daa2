/**
 * `wsflow run --executor slurm` end to end on a live one-node cluster (WSFLOW_SLURM_TESTS=1; the cluster is
 * started by .ci/slurm/start.sh when it does not answer, and stopped at the end if this file started it).
 *
 * A multi-stage pipeline (cmd stages, a matrix of project-local kind stages, an accel stage that asks for
 * --gres=gpu:1) runs through SLURM and locally: identical outputs and output hashes; a second SLURM run submits
 * nothing; a stage killed with scancel is reported with SLURM's reason and rerun by the next run, or retried within
 * the run with --retries; watch runs through SLURM too; Ctrl-C cancels the run's jobs; `wsflow status` shows a running stage's job id; `wsflow logs` has the job's output.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { squeueStates } from '../../../../src/engine/exec/slurm/slurm-commands.js';
import { acquireCluster, REPO_ROOT, SKIP_REASON, releaseCluster } from './cluster-fixture.js';

const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');

const PIPELINE = `
params:
  n: 4
matrix:
  variant: [a, b]
stages:
  seed:
    cmd: seq 1 \${params.n} > data/seed.txt && echo "seed ran in job $SLURM_JOB_ID"
    params: [n]
    outs: [data/seed.txt]
  square:
    foreach: variant
    uses: ./kinds/square.js
    needs: { in: seed }
    with:
      factor: 2
      label: \${matrix.variant}
  slow:
    cmd: if [ -f hold ]; then echo holding; sleep 300; fi; cat out/square/a/result.txt out/square/b/result.txt > data/slow.txt
    deps: [out/square/a/result.txt, out/square/b/result.txt]
    outs: [data/slow.txt]
  summary:
    uses: ./kinds/square.js
    needs: { in: slow }
    with:
      factor: 1
      label: summary
    resources:
      class: accel
      mem: 256M
      time: 10m
  tiny:
    uses: model
    with:
      tiny: { seed: 3, layers: 1, hidden_size: 16, intermediate_size: 32, heads: 2, kv_heads: 1, head_dim: 8 }
  tiny_digest:
    cmd: sha256sum out/tiny/model.safetensors out/tiny/config.json out/tiny/tokenizer.json > data/tiny.sha256
    deps: [out/tiny/model.safetensors, out/tiny/config.json, out/tiny/tokenizer.json]
    outs: [data/tiny.sha256]
`;

// Squares every number in its inputs' files and scales it: the output depends on upstream content.
const SQUARE_KIND = `
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
function files(dir) {
  return readdirSync(dir).sort().flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}
export default {
  name: 'square', version: '1', description: 'squares numbers',
  paramsSchema: { type: 'object', properties: { factor: { type: 'number' }, label: { type: 'string' } }, required: ['factor', 'label'], additionalProperties: false },
  inputs: { in: { description: 'upstream', multiple: true } },
  resources: 'cpu',
  async load() {
    return {
      async run(ctx) {
        const lines = [];
        for (const up of ctx.inputs.in) for (const f of files(up.dir)) {
          for (const t of readFileSync(f, 'utf8').split(/\\s+/)) if (/^[0-9]+$/.test(t)) lines.push(String(Number(t) ** 2 * ctx.params.factor));
        }
        ctx.log('square ' + ctx.params.label + ' on ' + (process.env.SLURM_JOB_ID ? 'SLURM job ' + process.env.SLURM_JOB_ID : 'a local worker'));
        for (const up of ctx.inputs.in) ctx.log('input ' + up.stageId + ' from execution ' + up.executionId + ' of run ' + up.runId + ', key ' + up.key);
        writeFileSync(join(ctx.outDir, 'result.txt'), ctx.params.label + ': ' + lines.join(' ') + '\\n');
      },
    };
  },
};
`;

interface WsflowResult {
  code: number | null;
  events: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

function makeProject(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'kinds'), { recursive: true });
  writeFileSync(join(dir, 'pipeline.yaml'), PIPELINE);
  writeFileSync(join(dir, 'kinds', 'square.js'), SQUARE_KIND);
  return dir;
}

/** The JSON-lines events of `--json`; a line still being written (or pretty-printed JSON) is not an event. */
function parseEvents(stdout: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"type":') || !line.endsWith('}')) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // incomplete
    }
  }
  return events;
}

function wsflow(project: string, args: readonly string[]): WsflowResult {
  const r = spawnSync(process.execPath, [WSFLOW, ...args], { cwd: project, encoding: 'utf8', env: { ...process.env, WSFLOW_SLURM_POLL_MS: '300' } });
  return { code: r.status, events: parseEvents(r.stdout), stdout: r.stdout, stderr: r.stderr };
}

/** Runs still going when a test fails are interrupted (which cancels their jobs) before the cluster stops. */
const background = new Set<{ child: ChildProcess; done: Promise<WsflowResult> }>();

function startWsflow(project: string, args: readonly string[]): { child: ChildProcess; done: Promise<WsflowResult> } {
  const child = spawn(process.execPath, [WSFLOW, ...args], { cwd: project, env: { ...process.env, WSFLOW_SLURM_POLL_MS: '300' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const done = new Promise<WsflowResult>((resolve) => {
    child.on('close', (code) => resolve({ code, events: parseEvents(stdout), stdout, stderr }));
  });
  const handle = { child, done };
  background.add(handle);
  void done.then(() => background.delete(handle));
  return handle;
}

const started = (r: WsflowResult): string[] => r.events.filter((e) => e.type === 'stage-start').map((e) => String(e.stageId));
const jobsOf = (r: WsflowResult): string[] =>
  r.events.filter((e) => e.type === 'stage-annotate' && e.key === 'slurm_job').map((e) => String(e.value));

/** Every file under out/ and data/, with its bytes. */
function results(project: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else out.set(relative(project, abs), readFileSync(abs).toString('base64'));
    }
  };
  walk(join(project, 'out'));
  walk(join(project, 'data'));
  return out;
}

function outputHashes(project: string): Map<string, string> {
  const db = new Database(join(project, 'cache', 'state.db'), { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT e.stage_id AS stage, e.output_hash AS hash FROM stage_heads h JOIN executions e ON e.id = h.execution_id ORDER BY e.stage_id`)
      .all() as { stage: string; hash: string }[];
    return new Map(rows.map((r) => [r.stage, r.hash]));
  } finally {
    db.close();
  }
}

function holding(project: string): boolean {
  const jobs = join(project, 'cache', 'slurm');
  if (!existsSync(jobs)) return false;
  return readdirSync(jobs).some((d) => {
    try {
      return readFileSync(join(jobs, d, 'events.jsonl'), 'utf8').includes('holding');
    } catch {
      return false;
    }
  });
}

function succeededExecutions(project: string, stageId: string): number {
  const db = new Database(join(project, 'cache', 'state.db'), { readonly: true });
  try {
    const row = db.prepare(`SELECT COUNT(*) AS n FROM executions WHERE stage_id = ? AND status = 'succeeded'`).get(stageId) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/**
 * The job of the held `slow` stage once SLURM runs it and its command is inside the hold (it printed
 * "holding"): RUNNING alone precedes node's start-up, and the test may remove the hold file before sh looks.
 */
async function waitForRunning(
  project: string,
  result: () => WsflowResult | null,
  stageJob: () => string | undefined,
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = stageJob();
    if (job && holding(project)) {
      const s = await squeueStates([job]);
      if (s.ok && s.value.get(job)?.state === 'RUNNING') return job;
    }
    const r = result();
    if (r) throw new Error(`wsflow ended before the stage ran (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    if (Date.now() > deadline) throw new Error('the stage never reached RUNNING');
    await new Promise((res) => setTimeout(res, 200));
  }
}

void describe('wsflow run --executor slurm', { skip: SKIP_REASON }, () => {
  let root = '';

  before(async () => {
    await acquireCluster();
    root = mkdtempSync(join(tmpdir(), 'wsflow-slurm-run-'));
  });
  after(async () => {
    for (const b of background) b.child.kill('SIGINT');
    await Promise.all([...background].map((b) => b.done));
    if (root) rmSync(root, { recursive: true, force: true });
    releaseCluster();
  });

  void test('results identical to the local executor, and a second run submits nothing', () => {
    const local = makeProject(root, 'local');
    const slurm = makeProject(root, 'slurm');

    const l = wsflow(local, ['run', '--json']);
    assert.equal(l.code, 0, l.stdout + l.stderr);
    const s = wsflow(slurm, ['run', '--executor', 'slurm', '--json']);
    assert.equal(s.code, 0, s.stdout + s.stderr);

    const all = ['seed', 'square@a', 'square@b', 'slow', 'summary', 'tiny', 'tiny_digest'];
    assert.deepEqual(started(s).sort(), [...all].sort());
    assert.equal(jobsOf(s).length, all.length, 'one sbatch job per stage');
    const runStart = s.events.find((e) => e.type === 'run-start');
    assert.equal(runStart?.executor, 'slurm');

    // stage outputs are a pure function of inputs and params: byte-identical, provenance.json included
    const localResults = results(local);
    assert.ok(localResults.has('out/tiny/model.safetensors') && localResults.has('data/tiny.sha256'));
    assert.deepEqual(results(slurm), localResults);
    assert.equal(Buffer.from(localResults.get('out/summary/result.txt') ?? '', 'base64').toString(), 'summary: 4 64 324 1024 4 64 324 1024\n');
    const localHashes = outputHashes(local);
    const slurmHashes = outputHashes(slurm);
    for (const id of all) assert.equal(slurmHashes.get(id), localHashes.get(id), id);

    // the accel stage asked SLURM for the GPU and got the fake one start.sh configures
    const logs = wsflow(slurm, ['logs', 'summary']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /--gres=gpu:1/);
    assert.match(logs.stdout, /--mem=256M --time=00:10:00/);
    assert.match(logs.stdout, /square summary on SLURM job \d+/);
    assert.match(wsflow(slurm, ['logs', 'seed']).stdout, /seed ran in job \d+/);
    // the job's spec carries its inputs' provenance from the state db, as a local worker's does
    const seedExecution = new Database(join(slurm, 'cache', 'state.db'), { readonly: true });
    try {
      const seedRow = seedExecution.prepare(`SELECT id, run_id, key FROM executions WHERE stage_id = 'seed'`).get() as { id: number; run_id: number; key: string };
      assert.match(wsflow(slurm, ['logs', 'square@a']).stdout, new RegExp(`input seed from execution ${seedRow.id} of run ${seedRow.run_id}, key ${seedRow.key}`));
    } finally {
      seedExecution.close();
    }

    const again = wsflow(slurm, ['run', '--executor', 'slurm', '--json']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(started(again), []);
    assert.deepEqual(jobsOf(again), []);
    assert.equal(wsflow(slurm, ['status']).code, 0);
  });

  void test('a stage killed with scancel is reported with SLURM\'s reason, leaves no cache entry, and reruns next time', async () => {
    const project = makeProject(root, 'scancel');
    writeFileSync(join(project, 'hold'), '');
    let finished: WsflowResult | null = null;
    const run = startWsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    void run.done.then((r) => (finished = r));
    let stdoutSoFar = '';
    run.child.stdout?.on('data', (t: string) => (stdoutSoFar += t));
    const jobOfSlow = (): string | undefined =>
      parseEvents(stdoutSoFar).find((e) => e.type === 'stage-annotate' && e.stageId === 'slow' && e.key === 'slurm_job')?.value as string | undefined;
    const job = await waitForRunning(project, () => finished, jobOfSlow);

    // while it runs, status names the job
    const status = wsflow(project, ['status', '--json']);
    const slowStatus = (
      JSON.parse(status.stdout) as {
        stages: { id: string; state: string; reasons: { type: string; slurm?: { jobId: string } }[]; running?: { slurm?: { jobId: string; state: string } } }[];
      }
    ).stages.find((x) => x.id === 'slow');
    assert.equal(slowStatus?.state, 'running');
    assert.equal(slowStatus?.reasons[0]?.type, 'running');
    assert.equal(slowStatus?.reasons[0]?.slurm?.jobId, job);
    assert.equal(slowStatus?.running?.slurm?.jobId, job);
    assert.equal(slowStatus?.running?.slurm?.state, 'RUNNING');
    assert.match(
      wsflow(project, ['status']).stdout,
      new RegExp(`^slow +running +← running now in pid \\d+ on \\S+ \\(run #1\\): SLURM job ${job} running on \\S+; its result will be known when it finishes$`, 'm'),
    );

    assert.equal(spawnSync('scancel', [job]).status, 0);
    const r = await run.done;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const failed = r.events.find((e) => e.type === 'stage-failed' && e.stageId === 'slow');
    assert.ok(failed, r.stdout);
    assert.match(String(failed.error), new RegExp(`^SLURM job ${job} on \\S+ ended CANCELLED: .*cancelled \\(scancel or an administrator\\)`));
    assert.ok(r.events.some((e) => e.type === 'stage-skipped' && e.stageId === 'summary'));
    // the command may still write its out between SIGTERMs (sh runs on when its sleep dies first), but nothing
    // of it is committed: no successful execution, and status says failed
    assert.equal(succeededExecutions(project, 'slow'), 0);
    const st = wsflow(project, ['status', '--json']);
    assert.equal(st.code, 1);
    const states = new Map((JSON.parse(st.stdout) as { stages: { id: string; state: string }[] }).stages.map((x) => [x.id, x.state]));
    assert.equal(states.get('slow'), 'failed');
    assert.equal(states.get('seed'), 'fresh');

    unlinkSync(join(project, 'hold'));
    const next = wsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.deepEqual(started(next).sort(), ['slow', 'summary']);
    assert.equal(readFileSync(join(project, 'out', 'summary', 'result.txt'), 'utf8'), 'summary: 4 64 324 1024 4 64 324 1024\n');
    assert.equal(readdirSync(join(project, 'cache', 'slurm')).length, 0, 'job directories are removed');
  });

  void test('--retries: a job cancelled once is retried as a new job and the run succeeds', async () => {
    const project = makeProject(root, 'retry');
    writeFileSync(join(project, 'hold'), '');
    let finished: WsflowResult | null = null;
    const run = startWsflow(project, ['run', '--executor', 'slurm', '--retries', '1', '--json', 'summary']);
    void run.done.then((r) => (finished = r));
    let stdoutSoFar = '';
    run.child.stdout?.on('data', (t: string) => (stdoutSoFar += t));
    const jobsOfSlow = (): string[] =>
      parseEvents(stdoutSoFar)
        .filter((e) => e.type === 'stage-annotate' && e.stageId === 'slow' && e.key === 'slurm_job')
        .map((e) => String(e.value));
    const job = await waitForRunning(project, () => finished, () => jobsOfSlow()[0]);
    unlinkSync(join(project, 'hold'));
    assert.equal(spawnSync('scancel', [job]).status, 0);
    const r = await run.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const retry = r.events.find((e) => e.type === 'stage-retry' && e.stageId === 'slow') as { error?: string; retry?: { n: number; of: number } } | undefined;
    assert.ok(retry, r.stdout);
    assert.deepEqual(retry.retry, { n: 1, of: 1 });
    assert.match(String(retry.error), new RegExp(`^SLURM job ${job} on \\S+ ended CANCELLED`));
    assert.equal(new Set(jobsOfSlow()).size, 2, 'the retry is a new job');
    assert.equal(jobsOf(r).length, 6, 'seed, square@a, square@b, slow twice, summary');
    const db = new Database(join(project, 'cache', 'state.db'), { readonly: true });
    try {
      const rows = db.prepare(`SELECT status, error FROM executions WHERE stage_id = 'slow' ORDER BY id`).all() as { status: string; error: string | null }[];
      assert.deepEqual(rows.map((x) => x.status), ['failed', 'succeeded']);
      assert.match(String(rows[0]?.error), /CANCELLED/);
    } finally {
      db.close();
    }
    assert.equal(readFileSync(join(project, 'out', 'summary', 'result.txt'), 'utf8'), 'summary: 4 64 324 1024 4 64 324 1024\n');
  });

  void test('watch --executor slurm runs each stage as a job, and stops on Ctrl-C', async () => {
    const project = makeProject(root, 'watch');
    const watch = startWsflow(project, ['watch', '--executor', 'slurm', '--json', '--debounce', '150', 'seed']);
    let stdoutSoFar = '';
    watch.child.stdout?.on('data', (t: string) => (stdoutSoFar += t));
    const deadline = Date.now() + 60_000;
    while (!stdoutSoFar.includes('Watching')) {
      if (Date.now() > deadline) throw new Error(`watch never finished its first run:\n${stdoutSoFar}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    const events = parseEvents(stdoutSoFar);
    assert.equal(events.find((e) => e.type === 'run-start')?.executor, 'slurm');
    assert.ok(events.some((e) => e.type === 'stage-annotate' && e.stageId === 'seed' && e.key === 'slurm_job'), stdoutSoFar);
    assert.equal(readFileSync(join(project, 'data', 'seed.txt'), 'utf8'), '1\n2\n3\n4\n');
    watch.child.kill('SIGINT');
    const r = await watch.done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  void test('Ctrl-C cancels the jobs the run submitted; nothing is cached for them', async () => {
    const project = makeProject(root, 'interrupt');
    const first = wsflow(project, ['run', '--executor', 'slurm', '--json', 'square@a', 'square@b']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    writeFileSync(join(project, 'hold'), '');
    let stdoutSoFar = '';
    let finished: WsflowResult | null = null;
    const run = startWsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    run.child.stdout?.on('data', (t: string) => (stdoutSoFar += t));
    void run.done.then((r) => (finished = r));
    const jobOfSlow = (): string | undefined =>
      parseEvents(stdoutSoFar).find((e) => e.type === 'stage-annotate' && e.stageId === 'slow' && e.key === 'slurm_job')?.value as string | undefined;
    const job = await waitForRunning(project, () => finished, jobOfSlow);
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.ok(r.events.some((e) => e.type === 'stage-interrupted' && e.stageId === 'slow'));
    const s = await squeueStates([job]);
    assert.ok(s.ok);
    assert.equal(s.value.get(job)?.state, 'CANCELLED');
    assert.equal(succeededExecutions(project, 'slow'), 0);
    unlinkSync(join(project, 'hold'));
    const next = wsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.deepEqual(started(next).sort(), ['slow', 'summary']);
  });

  void test('a job whose wsflow run was killed -9 is cancelled by the next run, which reruns the stage', async () => {
    const project = makeProject(root, 'orphan');
    writeFileSync(join(project, 'hold'), '');
    let stdoutSoFar = '';
    let finished: WsflowResult | null = null;
    const run = startWsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    run.child.stdout?.on('data', (t: string) => (stdoutSoFar += t));
    void run.done.then((r) => (finished = r));
    const jobOfSlow = (): string | undefined =>
      parseEvents(stdoutSoFar).find((e) => e.type === 'stage-annotate' && e.stageId === 'slow' && e.key === 'slurm_job')?.value as string | undefined;
    const job = await waitForRunning(project, () => finished, jobOfSlow);
    run.child.kill('SIGKILL');
    await run.done;
    const orphan = await squeueStates([job]);
    assert.ok(orphan.ok);
    assert.equal(orphan.value.get(job)?.state, 'RUNNING', 'SLURM keeps the job of a dead submitter running');

    unlinkSync(join(project, 'hold'));
    const next = wsflow(project, ['run', '--executor', 'slurm', '--json', 'summary']);
    assert.equal(next.code, 0, next.stdout + next.stderr);
    assert.deepEqual(started(next).sort(), ['slow', 'summary']);
    const after = await squeueStates([job]);
    assert.ok(after.ok);
    assert.equal(after.value.get(job)?.state, 'CANCELLED');
    assert.equal(readFileSync(join(project, 'out', 'summary', 'result.txt'), 'utf8'), 'summary: 4 64 324 1024 4 64 324 1024\n');
  });

  void test('a failing stage reports its own error; --keep-going still runs what does not depend on it', () => {
    const project = makeProject(root, 'failing');
    const yaml = readFileSync(join(project, 'pipeline.yaml'), 'utf8').replace(
      'seq 1 ${params.n} > data/seed.txt && echo',
      'seq 1 ${params.n} > data/seed.txt && exit 7 && echo',
    );
    writeFileSync(join(project, 'pipeline.yaml'), `${yaml}  lone:\n    cmd: echo lone > data/lone.txt\n    outs: [data/lone.txt]\n`);
    const r = wsflow(project, ['run', '--executor', 'slurm', '--keep-going', '--json', 'summary', 'lone']);
    assert.equal(r.code, 1);
    const failed = r.events.find((e) => e.type === 'stage-failed');
    assert.equal(failed?.stageId, 'seed');
    assert.deepEqual(failed?.failure, { reason: 'exit-status', status: 7 });
    assert.equal(failed?.error, 'command exited with status 7');
    assert.equal(readFileSync(join(project, 'data', 'lone.txt'), 'utf8'), 'lone\n');
    assert.deepEqual(started(r).sort(), ['lone', 'seed']);
  });

  void test('executors.slurm settings reach sbatch; a bad partition is a clear submission error', () => {
    const project = makeProject(root, 'settings');
    writeFileSync(
      join(project, 'pipeline.yaml'),
      `${readFileSync(join(project, 'pipeline.yaml'), 'utf8')}executors:\n  slurm:\n    partition: no_such_partition\n    extra_args: ["--comment=wsflow"]\n`,
    );
    const r = wsflow(project, ['run', '--executor', 'slurm', '--json', 'seed']);
    assert.equal(r.code, 1);
    const failed = r.events.find((e) => e.type === 'stage-failed');
    assert.match(String(failed?.error), /^could not submit seed to SLURM: sbatch failed \(exit 1\): .*invalid partition/i);
    assert.ok(!existsSync(join(project, 'data', 'seed.txt')));
  });
});
