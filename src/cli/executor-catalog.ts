/**
 * The executors `--executor` offers, by name, the default first. Each is imported when chosen (run) or when status
 * meets an execution it ran, so that a start on the default path loads no cluster code.
 */
import type { ExecutorCatalog } from '../engine/exec/executor.js';

export const executorCatalog: ExecutorCatalog = new Map([
  ['local', async () => (await import('../engine/exec/local-kind.js')).localExecutorKind],
  ['slurm', async () => (await import('../engine/exec/slurm/slurm-kind.js')).slurmExecutorKind],
]);
