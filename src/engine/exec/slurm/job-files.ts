/**
 * The files through which a submitting `wsflow run` and its SLURM job talk, in one directory per execution on
 * the shared filesystem (cache/slurm/<execution id>/):
 *
 *   spec.json     the StageRunSpec, exactly what a local worker receives              (submitter writes)
 *   job.sh        the batch script, with the sbatch command in its header            (submitter writes)
 *   job.json      job id, submit host and pid: lets a later run cancel orphans      (submitter writes)
 *   job.log       the job's stdout and stderr (sbatch --output), slurmstepd's notes  (SLURM writes)
 *   events.jsonl  `wsflow _run-stage --events`: {type:"event"} lines, then one {type:"finished", outcome}
 *   outputs.tsv   path<TAB>size of every file the stage wrote, listed after it succeeded (job writes, renamed)
 *
 * The job never touches the state database or the cache index: SQLite's WAL needs shared memory, which network
 * filesystems do not provide, so only the submitting process writes cache/state.db. Whole files are written to a
 * temporary name and renamed; the one appended file is read only up to its last complete line.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StageRunEvent, StageRunOutcome } from '../stage-spec.js';

export const JOB_FILES = {
  spec: 'spec.json',
  script: 'job.sh',
  job: 'job.json',
  log: 'job.log',
  events: 'events.jsonl',
  outputs: 'outputs.tsv',
} as const;

export function jobFile(jobDir: string, name: keyof typeof JOB_FILES): string {
  return join(jobDir, JOB_FILES[name]);
}

/** A line of `wsflow _run-stage --events FILE`. */
export type RunStageLine = { type: 'event'; event: StageRunEvent } | { type: 'finished'; outcome: StageRunOutcome };

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

/** outputs.tsv → files; null when it is absent (not written yet, or not visible yet) or malformed. */
export function readOutputList(path: string): { path: string; size: number }[] | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const files: { path: string; size: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.lastIndexOf('\t');
    const size = Number(line.slice(tab + 1));
    if (tab <= 0 || !Number.isInteger(size)) return null;
    files.push({ path: line.slice(0, tab), size });
  }
  return files;
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

/**
 * The bytes of a file from `start(size)` to its current end (a job's log or events grow while we read them);
 * empty when the file is not there (yet).
 */
export function readFileFrom(path: string, start: (size: number) => number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const size = fstatSync(fd).size;
    const from = start(size);
    if (size <= from) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - from);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, from + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
