/**
 * `--executor slurm`: one sbatch job per stage. The cluster schedules, so -j and --accel only cap the jobs in
 * flight. What status shows of a running stage is its job and SLURM's state (one squeue call for all of them).
 * This module stays small: the executor and the squeue client are imported when used.
 */
import type { ExecutorKind, JobDescription } from '../executor.js';
import { describeSlurmJob } from './slurm-job-view.js';

/**
 * Jobs in flight at once when -j/--accel are not given. The cluster schedules; this only keeps one run from
 * flooding the queue (sites cap jobs per user, often at a few hundred).
 */
export const SLURM_DEFAULT_IN_FLIGHT = 100;

export const slurmExecutorKind: ExecutorKind = {
  name: 'slurm',
  slots: (given) => {
    const jobs = given.jobs ?? SLURM_DEFAULT_IN_FLIGHT;
    return { jobs, accel: given.accel ?? jobs };
  },
  create: async (pipeline) => (await import('./create-slurm-executor.js')).createSlurmExecutor(pipeline),
  describeJobs: async (cacheDir, executionIds) => {
    const jobs = (await import('./slurm-status.js')).slurmJobsOf(cacheDir, executionIds);
    const out = new Map<number, JobDescription>();
    for (const [id, job] of jobs) out.set(id, { data: { ...job }, text: describeSlurmJob(job) });
    return out;
  },
};
