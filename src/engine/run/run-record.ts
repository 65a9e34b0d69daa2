/**
 * The start of a run's record, shared by the scheduler and the no-op run: runs left 'running' by a dead process
 * are recovered (with what they may have left next to an out path), and this run gets its row.
 */
import { layoutPaths, type EngineContext } from '../plan/engine-context.js';
import type { StaticIngredients } from '../plan/static-ingredients.js';
import { recoverCrashedRuns } from '../state/leases.js';
import { HOST } from '../util/process-util.js';
import { removeStaleSiblings } from '../cas/cache-store.js';
import { guardedOutPath } from '../cas/out-guard.js';

/** The new run's id. `started` is its start time (ms since the epoch). */
export function beginRun(
  ctx: Pick<EngineContext, 'pipeline' | 'store' | 'cache'>,
  statics: ReadonlyMap<string, StaticIngredients>,
  order: readonly string[],
  argv: readonly string[],
  started: number,
): number {
  const { store, cache, pipeline } = ctx;
  const crashed = recoverCrashedRuns(store, started);
  cache.removeStaleStaging();
  if (crashed.length > 0) {
    // a killed run may have left a half-swapped copy next to an out path that no longer needs restoring
    for (const id of order) {
      const st = statics.get(id);
      if (!st) continue;
      for (const p of layoutPaths(st.layout)) {
        try {
          removeStaleSiblings(guardedOutPath(pipeline.projectDir, p));
        } catch {
          // an out whose parent now leads out of the project: its stage reports it when it gets there
        }
      }
    }
  }
  return store.insertRun({ argv: JSON.stringify(argv), profile: pipeline.profile, host: HOST, pid: process.pid, now: started });
}
