/**
 * After a successful run: the lock's entries for every stage that is fresh now (the run's, and any other whose
 * out/ holds the result for its current key), merged into those it already holds for this profile; entries of
 * stages pipeline.yaml no longer declares are dropped.
 */
import type { Pipeline } from '../../pipeline/types.js';
import type { Result } from '../../contract/result.js';
import type { KindSource } from '../plan/engine-context.js';
import { computeAllStatic } from '../plan/static-ingredients.js';
import { assessAll } from '../plan/stage-status.js';
import { openProjectForReading } from '../project.js';
import { lockEntryOf } from './lock-entries.js';
import { emptyLock, readLock, stagesOfProfile, withProfileStages, writeLockIfChanged, type LockEntry } from './lock-file.js';

export function updateLockAfterRun(pipeline: Pipeline, source: Omit<KindSource, 'kinds'>, order: readonly string[]): Result<{ written: boolean }, string> {
  const current = readLock(pipeline.projectDir);
  if (!current.ok) return current;
  const lock = current.value ?? emptyLock();
  // a new reading of the database: the run's own snapshot of the heads predates what it committed
  const project = openProjectForReading(pipeline, source);
  try {
    // every stage fresh now, not only the run's: a concurrent run on other targets that committed first is kept
    // even if it read the lock before this one wrote it; a stage outside the selection that cannot be planned
    // (an input missing) leaves the lock to the run's own stages
    let scope = pipeline.order;
    let statics = computeAllStatic(project.ctx, scope);
    if (!statics.ok) {
      scope = order;
      statics = computeAllStatic(project.ctx, scope);
    }
    if (!statics.ok) return { ok: false, error: `cannot plan the lock entries: ${statics.error[0]?.message ?? 'planning failed'}` };
    const statuses = assessAll(project.ctx, statics.value, scope);
    const stages: Record<string, LockEntry> = {};
    for (const [id, entry] of Object.entries(stagesOfProfile(lock, pipeline.profile))) if (pipeline.stages.has(id)) stages[id] = entry;
    for (const id of scope) {
      const s = statuses.get(id);
      if (s?.state !== 'fresh' || s.key === null || !s.head?.output_hash) continue;
      stages[id] = lockEntryOf(
        s.ingredients,
        s.key,
        { hash: s.head.output_hash, files: s.head.output_files ?? 0, bytes: s.head.output_bytes ?? 0 },
        pipeline.projectDir,
      );
    }
    return { ok: true, value: { written: writeLockIfChanged(pipeline.projectDir, withProfileStages(lock, pipeline.profile, stages)) } };
  } finally {
    project.close();
  }
}
