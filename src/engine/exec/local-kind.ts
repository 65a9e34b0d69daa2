/**
 * `--executor local` (the default): each stage in a forked worker process on this machine, -j cpu-class stages
 * (default: the cores) and --accel model-heavy ones (default 1) at once. The worker code is imported when the
 * first stage runs, so a no-op run never loads node:child_process.
 */
import { availableParallelism } from 'node:os';
import type { ExecutorKind } from './executor.js';
import { lazyExecutor } from './lazy-executor.js';

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export const localExecutorKind: ExecutorKind = {
  name: 'local',
  slots: (given) => ({ jobs: given.jobs ?? defaultJobs(), accel: given.accel ?? 1 }),
  create: (_pipeline, env) =>
    Promise.resolve(lazyExecutor('local', async () => new (await import('./local-executor.js')).LocalExecutor({ workerEntry: env.workerEntry }))),
};
