/**
 * The SLURM executor: each stage the scheduler hands over becomes one `sbatch` job that runs the same stage spec a
 * local worker would, through `wsflow _run-stage SPEC --events FILE` (runStageSpec, as in the local worker). Dependencies stay with wsflow's scheduler, not
 * `--dependency=afterok`: a stage's key, and whether it needs to run at all (early cutoff, cache hits), is known
 * only once its upstream outputs are hashed; a failed afterok dependency would leave jobs pending forever
 * (DependencyNeverSatisfied); and --keep-going, leases and restores behave exactly as locally.
 *
 * The job writes its outputs into the staging directory the scheduler gave it, on the shared filesystem, then lists
 * them with their sizes; this process checks that it sees exactly that (NFS caches lag), and the scheduler commits.
 */
import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecuteRequest, StageExecutor } from '../executor.js';
import type { StageRunEvent, StageRunOutcome, StageRunSpec } from '../stage-spec.js';
import { HOST, isPidAlive } from '../../util/process-util.js';
import { removeTree } from '../../cas/cache-store.js';
import { onAbort } from '../on-abort.js';
import { describeFailure } from '../../../contract/failure.js';
import { jobNameFor, sbatchArgs, type SlurmSettings } from './sbatch-args.js';
import { sbatch, scancel, squeueStates } from './slurm-commands.js';
import { JobWatcher, type JobUpdate } from './job-watcher.js';
import { phaseOf, type JobEnd, type JobStatus } from './job-states.js';
import { readJobEnd } from './job-end.js';
import { jobFile, readFileFrom, readJson, readOutputList, writeFileAtomic, type JobRecord, type RunStageLine } from './job-files.js';

export interface SlurmExecutorOptions {
  /** one directory per execution, on the filesystem the compute nodes share (the engine uses cache/slurm) */
  jobsDir: string;
  /** `executors.slurm` from pipeline.yaml */
  settings: SlurmSettings;
  /** node binary the job runs (default: this process's, which must exist on the nodes: a shared install) */
  nodePath?: string;
  /** the wsflow launcher the job runs (default: this installation's bin/wsflow.js) */
  wsflowBin?: string;
  /** node flags for the job, e.g. --max-old-space-size */
  execArgv?: readonly string[];
  /** squeue interval (default 2 s, or WSFLOW_SLURM_POLL_MS) */
  pollMs?: number;
  /**
   * How long to wait for files a job wrote to become visible here. NFS caches attributes and directory entries
   * for up to a minute (acregmax/acdirmax); a missing result must not be taken for a dead job too early.
   */
  visibilityGraceMs?: number;
  /** keep cache/slurm/<execution> after the job (default: removed; its log is copied into the stage log) */
  keepJobDirs?: boolean;
}

const DEFAULT_POLL_MS = 2_000;
const DEFAULT_VISIBILITY_GRACE_MS = 60_000;
/** After scancel, SLURM sends SIGTERM, waits KillWait (30 s by default) and sends SIGKILL. */
const CANCEL_WAIT_MS = 120_000;

/** dist/src/engine/exec/slurm/ → bin/wsflow.js of the same installation */
const WSFLOW_BIN = fileURLToPath(new URL('../../../../../bin/wsflow.js', import.meta.url));

export class SlurmExecutor implements StageExecutor {
  readonly name = 'slurm';
  readonly #o: Required<Omit<SlurmExecutorOptions, 'execArgv'>> & { execArgv: readonly string[] };
  readonly #watcher: JobWatcher;
  /** jobs in flight: cancelled by close() whatever happens to the scheduler */
  readonly #inFlight = new Set<string>();
  #swept = false;
  #closed = false;

  constructor(options: SlurmExecutorOptions) {
    const envPoll = Number(process.env.WSFLOW_SLURM_POLL_MS);
    this.#o = {
      jobsDir: options.jobsDir,
      settings: options.settings,
      nodePath: options.nodePath ?? process.execPath,
      wsflowBin: options.wsflowBin ?? WSFLOW_BIN,
      execArgv: options.execArgv ?? [],
      pollMs: options.pollMs ?? (Number.isFinite(envPoll) && envPoll > 0 ? envPoll : DEFAULT_POLL_MS),
      visibilityGraceMs: options.visibilityGraceMs ?? DEFAULT_VISIBILITY_GRACE_MS,
      keepJobDirs: options.keepJobDirs ?? process.env.WSFLOW_SLURM_KEEP_JOB_DIRS === '1',
    };
    this.#watcher = new JobWatcher(this.#o.pollMs);
  }

  async execute(request: ExecuteRequest): Promise<StageRunOutcome> {
    try {
      return await this.#execute(request);
    } catch (err) {
      return fail('executor-error', `SLURM executor: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const left = [...this.#inFlight];
    if (left.length > 0) await scancel(left);
    this.#watcher.close();
  }

  async #execute(request: ExecuteRequest): Promise<StageRunOutcome> {
    const { spec, signal, onEvent } = request;
    if (this.#closed) return fail('executor-error', 'executor closed');
    if (signal.aborted) return interrupted();
    if (!this.#swept) {
      this.#swept = true;
      await cancelOrphans(this.#o.jobsDir);
    }

    const jobDir = join(this.#o.jobsDir, String(spec.executionId));
    // an execution id is new for each attempt, but a deleted state.db starts counting again
    removeTree(jobDir);
    mkdirSync(jobDir, { recursive: true });
    writeFileAtomic(jobFile(jobDir, 'spec'), `${JSON.stringify(spec)}\n`);
    const logPath = jobFile(jobDir, 'log');
    const args = sbatchArgs({ stageId: spec.stageId, resources: request.resources, logPath, workDir: spec.projectDir }, this.#o.settings);
    const scriptPath = jobFile(jobDir, 'script');
    const command = [this.#o.nodePath, ...this.#o.execArgv, this.#o.wsflowBin, '_run-stage', jobFile(jobDir, 'spec'), '--events', jobFile(jobDir, 'events')];
    writeFileAtomic(scriptPath, batchScript(spec, jobDir, args, scriptPath, command));
    chmodSync(scriptPath, 0o755);

    const submitted = await sbatch(args, scriptPath);
    if (!submitted.ok) {
      this.#cleanup(jobDir);
      return fail('executor-error', `could not submit ${spec.stageId} to SLURM: ${submitted.error}`);
    }
    const jobId = submitted.value;
    this.#inFlight.add(jobId);
    const record: JobRecord = {
      jobId,
      stageId: spec.stageId,
      executionId: spec.executionId,
      runId: spec.runId,
      host: HOST,
      pid: process.pid,
      submittedAt: Date.now(),
    };
    writeFileAtomic(jobFile(jobDir, 'job'), `${JSON.stringify(record)}\n`);
    onEvent({ type: 'annotate', key: 'slurm_job', value: jobId });
    onEvent({ type: 'log', message: `SLURM job ${jobId} submitted: sbatch ${args.join(' ')} ${scriptPath}` });

    const relay = new Relay(jobDir, onEvent);
    try {
      const end = await this.#follow(jobId, relay, request);
      return await this.#conclude(jobId, jobDir, relay, end, request);
    } finally {
      this.#inFlight.delete(jobId);
    }
  }

  /** Relays events and log text until SLURM says the job ended; cancels it on abort. */
  async #follow(jobId: string, relay: Relay, request: ExecuteRequest): Promise<{ last: JobStatus | undefined; vanished: boolean }> {
    const { signal, onEvent } = request;
    let last: JobStatus | undefined;
    let lastShown = '';
    let pollErrorShown = false;
    let cancelAt: number | null = null;
    return await new Promise((resolve) => {
      const cancel = (): void => {
        if (cancelAt !== null) return;
        cancelAt = Date.now();
        onEvent({ type: 'log', message: `cancelling SLURM job ${jobId}` });
        void scancel([jobId]).then((r) => {
          if (!r.ok) onEvent({ type: 'log', message: `scancel ${jobId} failed: ${r.error}` });
          this.#watcher.nudge();
        });
      };
      const finish = (vanished: boolean): void => {
        unwatch();
        unsubscribe();
        relay.drain();
        resolve({ last, vanished });
      };
      const unsubscribe = onAbort(signal, cancel);
      const unwatch = this.#watcher.watch(jobId, (u: JobUpdate) => {
        relay.drain();
        if (u.type === 'poll-error') {
          if (!pollErrorShown) onEvent({ type: 'log', message: `cannot read SLURM job ${jobId}'s state, still trying: ${u.error}` });
          pollErrorShown = true;
          return;
        }
        if (u.type === 'vanished') {
          finish(true);
          return;
        }
        pollErrorShown = false;
        last = u.status;
        const shown = `${u.status.state} ${u.status.reason}`;
        if (shown !== lastShown) {
          lastShown = shown;
          const reason = u.status.reason && u.status.reason !== 'None' ? ` (${u.status.reason})` : '';
          onEvent({ type: 'log', message: `SLURM job ${jobId}: ${u.status.state}${reason}` });
        }
        if (phaseOf(u.status.state) === 'ended') finish(false);
        else if (cancelAt !== null && Date.now() - cancelAt > CANCEL_WAIT_MS) finish(false);
      });
      if (signal.aborted) cancel();
    });
  }

  async #conclude(
    jobId: string,
    jobDir: string,
    relay: Relay,
    seen: { last: JobStatus | undefined; vanished: boolean },
    request: ExecuteRequest,
  ): Promise<StageRunOutcome> {
    const { spec, signal, onEvent } = request;
    const end = await readJobEnd(jobId, seen.last, jobFile(jobDir, 'log'));
    // a job that ended by itself wrote its outcome first; give the shared filesystem time to show it
    const endedByItself = end.cause === 'completed' || end.cause === 'exit-code';
    const finished = await this.#awaitFinished(relay, endedByItself ? this.#o.visibilityGraceMs : 0);
    if (end.node) onEvent({ type: 'annotate', key: 'slurm_node', value: end.node });
    onEvent({ type: 'log', message: end.message });

    // SLURM stopped the job (scancel, time limit, memory, node): its reason leads, whatever the stage saw
    const killedBySlurm = !endedByItself && end.cause !== 'other';
    let outcome: StageRunOutcome;
    if (signal.aborted) {
      outcome = interrupted();
    } else if (!killedBySlurm && finished?.ok && end.cause === 'completed') {
      const visible = spec.source.type === 'kind' ? await this.#awaitOutputs(jobDir, spec.outDir) : null;
      outcome =
        visible === null
          ? { ok: true, value: null }
          : fail('output-missing', `SLURM job ${jobId} finished, but its output is not visible here: ${visible}`);
    } else if (!killedBySlurm && finished && !finished.ok && finished.error.reason !== 'interrupted') {
      // the stage itself failed (an exception, a command's exit status): its own failure, as locally
      outcome = finished;
    } else {
      const stageSaw = finished && !finished.ok ? `; the stage reported: ${firstLine(describeFailure(finished.error))}` : '';
      outcome = fail(failureOf(end, finished), `${explain(end, finished, jobDir, seen.vanished)}${stageSaw}`);
    }
    this.#cleanup(jobDir);
    return outcome;
  }

  async #awaitFinished(relay: Relay, graceMs: number): Promise<StageRunOutcome | null> {
    const deadline = Date.now() + graceMs;
    for (;;) {
      relay.drain();
      if (relay.finished) return relay.finished;
      if (Date.now() >= deadline) return null;
      await delay(Math.min(1_000, this.#o.pollMs));
    }
  }

  /**
   * null when every file the job listed is here with its size; else what is wrong after the grace period.
   * Files the job did not list cannot appear: the stage is over and the directory is private to this execution.
   */
  async #awaitOutputs(jobDir: string, outDir: string): Promise<string | null> {
    const deadline = Date.now() + this.#o.visibilityGraceMs;
    for (;;) {
      const files = readOutputList(jobFile(jobDir, 'outputs'));
      const problem = files === null ? `the job's list of its outputs (${jobFile(jobDir, 'outputs')}) is missing` : compareFiles(outDir, files);
      if (problem === null) return null;
      if (Date.now() >= deadline) return problem;
      await delay(Math.min(1_000, this.#o.pollMs));
    }
  }

  #cleanup(jobDir: string): void {
    if (!this.#o.keepJobDirs) removeTree(jobDir);
  }
}

function compareFiles(outDir: string, files: readonly { path: string; size: number }[]): string | null {
  for (const f of files) {
    let size: number;
    try {
      size = statSync(join(outDir, f.path)).size;
    } catch {
      return `${f.path} is missing from ${outDir}`;
    }
    if (size !== f.size) return `${f.path} has ${size} bytes here, the job wrote ${f.size}`;
  }
  return null;
}

function explain(end: JobEnd, finished: StageRunOutcome | null, jobDir: string, vanished: boolean): string {
  if (end.cause === 'completed' && !finished) {
    return `${end.message}, but its outcome never appeared in ${jobDir}: the compute node must see this directory (put the project on a filesystem the nodes share)`;
  }
  if (vanished && end.state === 'UNKNOWN') return `${end.message} (it disappeared from squeue)`;
  return end.message;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function interrupted(): StageRunOutcome {
  return { ok: false, error: { reason: 'interrupted' } };
}

type MessageReason = 'timeout' | 'output-missing' | 'job-ended' | 'executor-error';

function fail(reason: MessageReason, message: string): StageRunOutcome {
  return { ok: false, error: { reason, message } };
}

/** The reason of a job SLURM ended, or that ended without leaving its outcome where we can read it. */
function failureOf(end: JobEnd, finished: StageRunOutcome | null): MessageReason {
  if (end.cause === 'time-limit') return 'timeout';
  if (end.cause === 'completed' && !finished) return 'output-missing';
  return 'job-ended';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The job: `wsflow _run-stage`, then, for a kind stage that succeeded, the list of what it wrote (GNU find) renamed
 * into place, so that the submitter can tell a complete output from a lagging view of it.
 */
export function batchScript(spec: StageRunSpec, jobDir: string, args: readonly string[], scriptPath: string, command: readonly string[]): string {
  const lines = [
    '#!/bin/bash',
    `# wsflow: stage ${spec.stageId}, execution #${spec.executionId}, run #${spec.runId}, submitted from ${HOST}`,
    '# resubmit by hand (for debugging) with:',
    `#   sbatch ${[...args, scriptPath].map(shellQuote).join(' ')}`,
    command.map(shellQuote).join(' '),
    'status=$?',
  ];
  if (spec.source.type === 'kind') {
    const list = shellQuote(jobFile(jobDir, 'outputs'));
    const tmp = shellQuote(`${jobFile(jobDir, 'outputs')}.tmp`);
    lines.push(
      'if [ "$status" -eq 0 ]; then',
      `  find ${shellQuote(spec.outDir)} -type f -printf '%P\\t%s\\n' > ${tmp} && mv ${tmp} ${list} || status=1`,
      'fi',
    );
  }
  lines.push('exit "$status"', '');
  return lines.join('\n');
}

/**
 * Jobs whose submitting run died (kill -9, a lost login session) keep running and their results are never
 * committed; the next run on the same host cancels them. A job is ours only if SLURM still lists it under the
 * name we gave it: job ids are reused when a test cluster restarts.
 */
async function cancelOrphans(jobsDir: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(jobsDir);
  } catch {
    return;
  }
  const orphans: { dir: string; record: JobRecord }[] = [];
  for (const name of names) {
    const dir = join(jobsDir, name);
    const record = readJson<JobRecord>(jobFile(dir, 'job'));
    if (!record || record.host !== HOST || record.pid === process.pid || isPidAlive(record.pid)) continue;
    orphans.push({ dir, record });
  }
  if (orphans.length === 0) return;
  const states = await squeueStates(orphans.map((o) => o.record.jobId));
  if (!states.ok) return;
  const toCancel = orphans.filter((o) => {
    const s = states.value.get(o.record.jobId);
    return s !== undefined && phaseOf(s.state) !== 'ended' && s.name === jobNameFor(o.record.stageId);
  });
  if (toCancel.length > 0) await scancel(toCancel.map((o) => o.record.jobId));
  for (const o of orphans) removeTree(o.dir);
}

/** Streams what a job writes (events.jsonl, job.log) to the scheduler as it appears; keeps the final outcome. */
class Relay {
  readonly #dir: string;
  readonly #emit: (e: StageRunEvent) => void;
  #eventsOffset = 0;
  #logOffset = 0;
  finished: StageRunOutcome | null = null;

  constructor(jobDir: string, emit: (e: StageRunEvent) => void) {
    this.#dir = jobDir;
    this.#emit = emit;
  }

  drain(): void {
    const ev = readFrom(jobFile(this.#dir, 'events'), this.#eventsOffset, true);
    this.#eventsOffset += ev.consumed;
    for (const line of ev.text.split('\n')) {
      if (line.trim() === '') continue;
      let parsed: RunStageLine | null = null;
      try {
        parsed = JSON.parse(line) as RunStageLine;
      } catch {
        parsed = null;
      }
      if (parsed?.type === 'event') this.#emit(parsed.event);
      else if (parsed?.type === 'finished') this.finished = parsed.outcome;
      else this.#emit({ type: 'output', stream: 'stderr', text: `${line}\n` });
    }
    const log = readFrom(jobFile(this.#dir, 'log'), this.#logOffset, false);
    this.#logOffset += log.consumed;
    if (log.text) this.#emit({ type: 'output', stream: 'stdout', text: log.text });
  }
}

/** New bytes of a file from `offset`; with `wholeLines`, only up to the last newline (a line may be half-written). */
function readFrom(path: string, offset: number, wholeLines: boolean): { text: string; consumed: number } {
  let bytes = readFileFrom(path, () => offset);
  if (wholeLines) {
    const nl = bytes.lastIndexOf(0x0a);
    bytes = nl >= 0 ? bytes.subarray(0, nl + 1) : bytes.subarray(0, 0);
  } else {
    // do not split a UTF-8 sequence: keep trailing continuation bytes for the next read
    let end = bytes.length;
    let back = 0;
    while (end > 0 && back < 4 && ((bytes[end - 1] as number) & 0xc0) === 0x80) {
      end--;
      back++;
    }
    if (end > 0 && back > 0 && ((bytes[end - 1] as number) & 0xc0) === 0xc0) bytes = bytes.subarray(0, end - 1);
  }
  return { text: bytes.toString('utf8'), consumed: bytes.length };
}
