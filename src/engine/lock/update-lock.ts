/**
 * After a successful run: the lock's entries for every stage that is fresh now (the run's, and any other whose
 * out/ holds the result for its current key), merged into those it already holds for this profile; entries of
 * stages pipeline.yaml no longer declares are dropped.
 */
import type { Pipeline } from '../../pipeline/types.js';
import type { Result } from '../../contract/result.js';
import type { KindSource } from '../plan/engine-context.js';
import { computeAllStatic } from '../plan/static-ingredients.js';
import { assessAll, type StageStatus } from '../plan/stage-status.js';
import type { StateStore } from '../state/state-store.js';
import type { FileHasher } from '../keys/file-hasher.js';
import { openProjectForReading, type OpenProject } from '../project.js';
import { lockEntryOf } from './lock-entries.js';
import { emptyLock, LOCK_FORMAT, LOCK_LAYOUT, readLockText, stagesOfProfile, withProfileStages, writeLockIfChanged, type LockEntry, type LockStages } from './lock-file.js';
import { isVerifiedLockText, lockUnchangedSince, recordVerifiedLock } from './verified-lock.js';
import { sha256Hex } from '../keys/hashing.js';
import { jsonEqual } from '../util/json-equal.js';

/** What the run itself found fresh, and the store it assessed them with (RunResult.freshStatuses). */
export interface RunAssessed {
  fresh: ReadonlyMap<string, StageStatus>;
  store: StateStore;
  /** the run's file hasher: an unchanged lock is hashed through its memo, so that `status` finds it verified with one stat */
  hasher: FileHasher;
}

export function updateLockAfterRun(
  pipeline: Pipeline,
  source: Omit<KindSource, 'kinds'>,
  order: readonly string[],
  run?: RunAssessed,
): Result<{ written: boolean }, string> {
  // What the run found fresh still is while no other process has written to the database since it read the heads
  // (its own writes touched only the stages it executed or restored): a no-op run of the whole pipeline then plans
  // and assesses nothing twice. Otherwise every stage is assessed again, on a new reading of the database.
  const known: ReadonlyMap<string, StageStatus> = run && run.store.unchangedSinceHeadSnapshot() ? run.fresh : new Map();
  let project: OpenProject | null = null;
  try {
    // every stage fresh now, not only the run's: a concurrent run on other targets that committed first is kept
    // even if it read the lock before this one wrote it; a stage outside the selection that cannot be planned
    // (an input missing) leaves the lock to the run's own stages
    let scope = pipeline.order;
    let statuses: ReadonlyMap<string, StageStatus> = known;
    if (scope.some((id) => !known.has(id))) {
      // a new reading of the database: the run's own snapshot of the heads predates what it committed
      project = openProjectForReading(pipeline, source);
      const ctx = project.ctx;
      const plan = (ids: readonly string[]) => computeAllStatic(ctx, ids.filter((id) => !known.has(id)));
      let statics = plan(scope);
      if (!statics.ok) {
        scope = order;
        statics = plan(scope);
      }
      if (!statics.ok) return { ok: false, error: `cannot plan the lock entries: ${statics.error[0]?.message ?? 'planning failed'}` };
      statuses = assessAll(ctx, statics.value, scope, known);
    }
    // the same inputs as when this project last wrote or checked the lock, and the lock still those bytes: nothing to do
    const inputs = run ? lockInputsDigest(pipeline, scope, statuses) : null;
    if (run && inputs !== null && lockUnchangedSince(run, pipeline.projectDir, pipeline.profile, inputs)) return { ok: true, value: { written: false } };
    // the lock's bytes are ones this project wrote or checked (verified-lock.ts): well-formed and canonical as they are
    const current = readLockText(pipeline.projectDir, run ? (text) => isVerifiedLockText(run.store, text) : undefined);
    if (!current.ok) return current;
    const lock = current.value?.lock ?? emptyLock();
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
    // a canonical lock that already holds exactly these entries stays as it is, without serialising 1000 of them
    if (current.value?.trusted === true && sameEntries(stagesOfProfile(lock, pipeline.profile), stages)) {
      if (run && inputs !== null) recordVerifiedLock(run.store, current.value.text, pipeline.profile, inputs);
      return { ok: true, value: { written: false } };
    }
    const { written, text } = writeLockIfChanged(pipeline.projectDir, withProfileStages(lock, pipeline.profile, stages));
    if (run && inputs !== null) recordVerifiedLock(run.store, text, pipeline.profile, inputs);
    return { ok: true, value: { written } };
  } finally {
    project?.close();
  }
}

function sameEntries(a: LockStages, b: LockStages): boolean {
  const ids = Object.keys(b);
  if (Object.keys(a).length !== ids.length) return false;
  for (const id of ids) if (!Object.hasOwn(a, id) || !jsonEqual(a[id], b[id])) return false;
  return true;
}

/**
 * Everything the profile's lock entries are computed from besides the lock itself, as one hash: the stages the
 * pipeline declares (an entry of any other is dropped), and for each stage in scope whether it is fresh and then its
 * key (which covers params, matrix, source, upstream outputs, and inputs by content, hence their sizes too), the
 * execution whose output it holds (its output hash, files and bytes never change), and the display-only parts of its
 * ingredients that the key leaves out: where params came from, the global params' values, external inputs' paths
 * (relative to the project directory, also hashed). Any change gives another hash, and the entries are built and
 * compared as before; equal hashes, with the lock still the bytes written for them, mean the same entries.
 */
function lockInputsDigest(pipeline: Pipeline, scope: readonly string[], statuses: ReadonlyMap<string, StageStatus>): string {
  const parts: string[] = [LOCK_FORMAT, String(LOCK_LAYOUT), pipeline.projectDir, pipeline.order.join('\u0000')];
  for (const id of scope) {
    const s = statuses.get(id);
    if (s?.state !== 'fresh' || s.key === null || !s.head?.output_hash) {
      parts.push(id);
      continue;
    }
    const ing = s.ingredients;
    parts.push(
      [id, s.key, s.head.id, s.head.output_hash, JSON.stringify(ing.paramSources), JSON.stringify(ing.globalParams ?? null), ...ing.external.map((e) => e.path)].join('\u0000'),
    );
  }
  return sha256Hex(parts.join('\u0001'));
}
