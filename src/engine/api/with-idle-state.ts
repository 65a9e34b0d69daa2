/**
 * gc and fsck rewrite the cache, so they work only on a project no run is holding: the recorded state opened, the
 * first live run (if any) reported instead of touched, and the state closed whatever happens.
 */
import { CacheStore } from '../cas/cache-store.js';
import { cacheDirOf } from '../plan/engine-context.js';
import { openRecordedState } from '../project.js';
import { firstLiveRun } from '../state/leases.js';
import type { RunRow, StateStore } from '../state/state-store.js';

/** No state recorded yet, a live run in the way, or what `use` made of the idle project. */
export type IdleStateOutcome<R> = { type: 'nothing' } | { type: 'busy'; run: RunRow } | { type: 'done'; report: R };

export function withIdleState<R>(projectDir: string, use: (store: StateStore, cache: CacheStore) => R): IdleStateOutcome<R> {
  const state = openRecordedState(projectDir);
  if (!state) return { type: 'nothing' };
  try {
    const run = firstLiveRun(state.store, Date.now());
    if (run) return { type: 'busy', run };
    return { type: 'done', report: use(state.store, new CacheStore(cacheDirOf(projectDir))) };
  } finally {
    state.close();
  }
}
