/**
 * What a SLURM job runs: `node slurm-job-main.js JOB_DIR`. Reads the stage spec the submitting `wsflow run` wrote,
 * runs it with runStageSpec (the very code a local worker runs), appends events to events.jsonl and writes
 * result.json last. The output stays in spec.outDir (or the cmd's outs) for the submitter to verify and commit:
 * nothing here writes the state database or the cache index.
 *
 * SIGTERM (scancel, a time limit: SLURM sends it KillWait seconds before SIGKILL) aborts the stage, so that a
 * cmd's children are stopped and the result says what happened; SIGKILL leaves no result, which the submitter
 * reads as "the job died" and explains from SLURM's record.
 */
import { appendFileSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { runStageSpec } from '../run-stage-spec.js';
import type { StageRunEvent, StageRunOutcome, StageRunSpec } from '../stage-spec.js';
import { jobFile, writeFileAtomic, type JobResult } from './job-files.js';

async function main(argv: readonly string[]): Promise<number> {
  const jobDir = argv[0];
  if (!jobDir) {
    process.stderr.write('usage: slurm-job-main.js JOB_DIR\n');
    return 2;
  }
  const startedAt = Date.now();
  const spec = JSON.parse(readFileSync(jobFile(jobDir, 'spec'), 'utf8')) as StageRunSpec;
  const eventsPath = jobFile(jobDir, 'events');
  const emit = (event: StageRunEvent): void => {
    appendFileSync(eventsPath, `${JSON.stringify(event)}\n`);
  };

  const controller = new AbortController();
  let signalName: string | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    signalName = name;
    controller.abort();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  const slurmJobId = process.env.SLURM_JOB_ID ?? null;

  let outcome: StageRunOutcome = await runStageSpec(spec, emit, controller.signal);
  if (signalName && !outcome.ok) outcome = { ok: false, error: `stopped by ${signalName} from SLURM`, interrupted: true };

  const result: JobResult = {
    outcome,
    files: outcome.ok && spec.source.type === 'kind' ? listFiles(spec.outDir) : [],
    host: hostname(),
    slurmJobId,
    startedAt,
    endedAt: Date.now(),
    ...(signalName ? { signal: signalName } : {}),
  };
  writeFileAtomic(jobFile(jobDir, 'result'), `${JSON.stringify(result)}\n`);
  return outcome.ok ? 0 : 1;
}

function listFiles(root: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const st = lstatSync(abs);
      if (st.isDirectory()) walk(abs);
      else out.push({ path: relative(root, abs), size: st.size });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// exit explicitly: a stage may leave timers or worker threads (tfjs) that would keep the job, and its allocation, alive
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`wsflow slurm job: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
