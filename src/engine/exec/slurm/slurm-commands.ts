/**
 * The SLURM client commands wsflow uses (sbatch, squeue, scontrol, sacct, scancel), each run as a child process
 * with a timeout. Errors are values: a cluster that is down or slow is an expected condition the executor reports.
 */
import { execFile } from 'node:child_process';
import type { Result } from '../../../contract/result.js';
import { parseSacct, parseScontrolJob, parseSqueue, SQUEUE_FORMAT, type JobStatus } from './job-states.js';

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** Slow controllers exist (busy clusters answer squeue in seconds); a hung one must not hang the run. */
const COMMAND_TIMEOUT_MS = 60_000;

function run(cmd: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<Result<CommandOutput, string>> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        let why: string;
        if (e.code === 'ENOENT') why = `${cmd} not found on PATH: is this a SLURM submit host? (.ci/slurm/start.sh starts a one-node cluster)`;
        else if (e.killed) why = `${cmd} did not answer within ${Math.round(timeoutMs / 1000)} s`;
        else why = `${cmd} failed (exit ${String(e.code)}): ${firstLines(stderr || stdout || e.message)}`;
        resolve({ ok: false, error: why });
        return;
      }
      resolve({ ok: true, value: { stdout, stderr } });
    });
  });
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' / ');
}

/** Submits a batch script; resolves to the job id (`--parsable` prints `ID` or `ID;CLUSTER`). */
export async function sbatch(args: readonly string[], scriptPath: string): Promise<Result<string, string>> {
  const r = await run('sbatch', [...args, scriptPath]);
  if (!r.ok) return r;
  const id = r.value.stdout.trim().split(';')[0] ?? '';
  if (!/^\d+$/.test(id)) return { ok: false, error: `sbatch printed no job id: ${firstLines(r.value.stdout + r.value.stderr)}` };
  return { ok: true, value: id };
}

/**
 * States of the given jobs in one squeue call (one RPC for the whole run, however many jobs: controllers are
 * shared). Jobs SLURM no longer knows (ended longer than MinJobAge ago, or a restarted test cluster) are absent.
 */
export async function squeueStates(jobIds: readonly string[]): Promise<Result<Map<string, JobStatus>, string>> {
  if (jobIds.length === 0) return { ok: true, value: new Map() };
  const r = await run('squeue', ['-h', '-t', 'all', '-j', jobIds.join(','), '-o', SQUEUE_FORMAT]);
  if (!r.ok) {
    // squeue exits 1 when none of the ids is known any more
    if (/Invalid job id/i.test(r.error)) return { ok: true, value: new Map() };
    return r;
  }
  return { ok: true, value: parseSqueue(r.value.stdout) };
}

/** `scontrol show job -o ID` as fields; null when the controller no longer knows the job. */
export async function scontrolShowJob(jobId: string): Promise<Result<Record<string, string> | null, string>> {
  const r = await run('scontrol', ['show', 'job', '-o', jobId]);
  if (!r.ok) {
    if (/Invalid job id/i.test(r.error)) return { ok: true, value: null };
    return r;
  }
  const line = r.value.stdout.split('\n').find((l) => l.startsWith('JobId='));
  return { ok: true, value: line ? parseScontrolJob(line) : null };
}

/** The accounting record of a finished job; null when accounting is off (no slurmdbd) or has no record. */
export async function sacctJob(jobId: string): Promise<{ state: string; exitCode: string; reason: string } | null> {
  const r = await run('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode,Reason']);
  if (!r.ok) return null;
  return parseSacct(r.value.stdout, jobId);
}

export async function scancel(jobIds: readonly string[]): Promise<Result<void, string>> {
  if (jobIds.length === 0) return { ok: true, value: undefined };
  const r = await run('scancel', [...jobIds]);
  return r.ok ? { ok: true, value: undefined } : r;
}
