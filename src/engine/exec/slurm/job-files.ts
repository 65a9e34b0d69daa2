/**
 * The files through which a submitting `wsflow run` and its SLURM job talk, in one directory per execution on
 * the shared filesystem (cache/slurm/<execution id>/):
 *
 *   spec.json     the StageRunSpec, exactly what a local worker receives             (submitter writes)
 *   job.sh        the batch script, with the sbatch command in its header           (submitter writes)
 *   job.json      job id, submit host and pid: lets a later run cancel orphans     (submitter writes)
 *   job.log       the job's stdout and stderr (sbatch --output), slurmstepd's notes (SLURM writes)
 *   events.jsonl  progress, logs, metrics, annotations, one JSON object a line      (job appends)
 *   result.json   the outcome and the list of files the job wrote, written last     (job writes)
 *
 * The job never touches the state database or the cache index: SQLite's WAL needs shared memory, which network
 * filesystems do not provide, so only the submitting process writes cache/state.db. Whole files are written to a
 * temporary name and renamed; the one appended file is read only up to its last complete line.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StageRunOutcome } from '../stage-spec.js';

export const JOB_FILES = {
  spec: 'spec.json',
  script: 'job.sh',
  job: 'job.json',
  log: 'job.log',
  events: 'events.jsonl',
  result: 'result.json',
} as const;

export function jobFile(jobDir: string, name: keyof typeof JOB_FILES): string {
  return join(jobDir, JOB_FILES[name]);
}

/** What the job wrote: the outcome of runStageSpec and, on success, every output file with its size. */
export interface JobResult {
  outcome: StageRunOutcome;
  /** files under spec.outDir (relative paths) as the job saw them when it finished */
  files: { path: string; size: number }[];
  host: string;
  slurmJobId: string | null;
  startedAt: number;
  endedAt: number;
  /** set when the job stopped because SLURM (scancel, time limit) signalled it */
  signal?: string;
}

/** Who submitted a job: enough for a later run to tell a job whose submitter died. */
export interface JobRecord {
  jobId: string;
  stageId: string;
  executionId: number;
  runId: number;
  host: string;
  pid: number;
  submittedAt: number;
}

/**
 * Temp, fsync, rename: a reader on another host sees the old name, nothing, or the whole file. The fsync matters
 * on network filesystems, where close-to-open consistency is all a reader on another node can rely on.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function readJson<T>(path: string): T | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
