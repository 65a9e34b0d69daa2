/**
 * How long each stage took the last time it succeeded: what a run's overall ETA is estimated from. The store's
 * profile's executions only: a smoke run's minutes say nothing about the real study's hours, nor the reverse.
 */
import { profileKey, type StateStore } from '../state/state-store.js';

/** stage id → duration (ms) of its latest successful execution in the store's profile; stages that never succeeded are absent */
export function previousDurations(store: StateStore, stageIds: readonly string[]): Map<string, number> {
  const wanted = new Set(stageIds);
  const rows = store.db
    .prepare(`SELECT stage_id, started_at, ended_at FROM executions WHERE status = 'succeeded' AND ended_at IS NOT NULL AND profile = ? ORDER BY id`)
    .all(profileKey(store.profile)) as { stage_id: string; started_at: number; ended_at: number }[];
  const out = new Map<string, number>();
  for (const r of rows) if (wanted.has(r.stage_id)) out.set(r.stage_id, Math.max(0, r.ended_at - r.started_at));
  return out;
}
