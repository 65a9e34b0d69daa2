/**
 * `executors.slurm` in pipeline.yaml (schema-checked by the loader, which passes each executor's settings on as
 * written) in our spelling.
 */
import type { ExecutorSettings } from '../../../pipeline/types.js';
import type { SlurmSettings } from './sbatch-args.js';

export function slurmSettingsOf(executors: ExecutorSettings | undefined): SlurmSettings {
  const plain = executors?.['slurm'] as { partition?: string; account?: string; extra_args?: string[] } | undefined;
  if (!plain) return {};
  const { partition, account, extra_args: extraArgs } = plain;
  return {
    ...(partition !== undefined ? { partition } : {}),
    ...(account !== undefined ? { account } : {}),
    ...(extraArgs !== undefined ? { extraArgs: [...extraArgs] } : {}),
  };
}
