/**
 * `wsflow run --executor slurm`: the executor for a loaded pipeline, with its `executors.slurm` settings and job
 * directories under the project's cache (which must be on a filesystem the compute nodes share).
 */
import type { Pipeline } from '../../../pipeline/types.js';
import { cacheDirOf } from '../../plan/engine-context.js';
import { SlurmExecutor } from './slurm-executor.js';
import { slurmJobsDirOf } from './slurm-status.js';
import { slurmSettingsOf } from './slurm-settings.js';

export function createSlurmExecutor(pipeline: Pipeline): SlurmExecutor {
  return new SlurmExecutor({
    jobsDir: slurmJobsDirOf(cacheDirOf(pipeline.projectDir)),
    settings: slurmSettingsOf(pipeline.executors),
  });
}
