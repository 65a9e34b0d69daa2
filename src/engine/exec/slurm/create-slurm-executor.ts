/**
 * `wsflow run --executor slurm`: the executor for a loaded pipeline, with its `executors.slurm` settings and job
 * directories under the project's cache (which must be on a filesystem the compute nodes share).
 */
import type { Pipeline } from '../../../pipeline/types.js';
import { cacheDirOf } from '../../plan/engine-context.js';
import { SlurmExecutor } from './slurm-executor.js';
import { slurmJobsDirOf } from './slurm-status.js';

/**
 * Jobs in flight at once when -j/--accel are not given. The cluster schedules; this only keeps one run from
 * flooding the queue (sites cap jobs per user, often at a few hundred).
 */
export const SLURM_DEFAULT_IN_FLIGHT = 100;

export function createSlurmExecutor(pipeline: Pipeline): SlurmExecutor {
  return new SlurmExecutor({
    jobsDir: slurmJobsDirOf(cacheDirOf(pipeline.projectDir)),
    settings: pipeline.executors?.slurm ?? {},
  });
}
