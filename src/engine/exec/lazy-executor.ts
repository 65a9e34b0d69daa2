/**
 * An executor whose code is imported when the first stage needs it: a no-op `wsflow run` (everything fresh or
 * restored) then never loads node:child_process or a cluster client.
 */
import type { ExecuteRequest, StageExecutor } from './executor.js';
import type { StageRunOutcome } from './stage-spec.js';

export function lazyExecutor(name: string, load: () => Promise<StageExecutor>): StageExecutor {
  let loaded: Promise<StageExecutor> | null = null;
  return {
    name,
    async execute(request: ExecuteRequest): Promise<StageRunOutcome> {
      return (await (loaded ??= load())).execute(request);
    },
    async close(): Promise<void> {
      if (loaded) await (await loaded).close();
    },
  };
}
