/**
 * How a stage's resources become sbatch options. One job per stage: one node, one task; the stage's cpus, memory,
 * time limit and GPUs are per-job requests. Pure, so that the mapping is tested without a cluster.
 */
import type { PlannedStage } from '../../../pipeline/types.js';

/** `executors.slurm` in pipeline.yaml. */
export interface SlurmSettings {
  partition?: string;
  account?: string;
  /** appended after wsflow's own options, so they win where sbatch takes the last occurrence */
  extraArgs?: readonly string[];
}

export interface JobRequest {
  stageId: string;
  resources: PlannedStage['resources'];
  /** where the job's stdout and stderr go (one file: the execution's log) */
  logPath: string;
  /** the job's working directory (the project root) */
  workDir: string;
}

/** Prefix of every job name wsflow submits; `squeue --name` and humans can tell our jobs by it. */
export const JOB_NAME_PREFIX = 'wsflow:';

export function jobNameFor(stageId: string): string {
  return `${JOB_NAME_PREFIX}${stageId}`;
}

/** The GPUs a stage asks for: its `gpus:`, else one for the accel class (the device it would hold locally). */
export function gpusFor(resources: PlannedStage['resources']): number {
  if (resources.gpus !== undefined) return resources.gpus;
  return resources.class === 'accel' ? 1 : 0;
}

/** sbatch options for one stage job, without the script path. */
export function sbatchArgs(req: JobRequest, settings: SlurmSettings): string[] {
  const args = [
    '--parsable',
    `--job-name=${jobNameFor(req.stageId)}`,
    `--output=${req.logPath}`,
    `--chdir=${req.workDir}`,
    '--nodes=1',
    '--ntasks=1',
    // A requeued job would rerun the stage behind wsflow's back; node failures are reported and `--retries` decides.
    '--no-requeue',
  ];
  const r = req.resources;
  if (r.cpus !== undefined) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.memMB !== undefined) args.push(`--mem=${Math.ceil(r.memMB)}M`);
  if (r.timeMin !== undefined) args.push(`--time=${formatTimeLimit(r.timeMin)}`);
  const gpus = gpusFor(r);
  if (gpus > 0) args.push(`--gres=gpu:${gpus}`);
  if (settings.partition !== undefined) args.push(`--partition=${settings.partition}`);
  if (settings.account !== undefined) args.push(`--account=${settings.account}`);
  args.push(...(settings.extraArgs ?? []));
  return args;
}

/**
 * Minutes (fractional allowed: `time: 90s` is 1.5) as sbatch's [D-]HH:MM:SS, rounded up to a whole second.
 * SLURM itself keeps limits in whole minutes and rounds up again.
 */
export function formatTimeLimit(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`time limit must be a positive number of minutes, got ${minutes}`);
  const total = Math.ceil(Math.round(minutes * 60 * 1000) / 1000);
  const days = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hms = `${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  return days > 0 ? `${days}-${hms}` : hms;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
