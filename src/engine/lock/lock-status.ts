/**
 * Status with the lock file as a second record: a stage this checkout has no result for, whose key (computed from
 * the current pipeline and its upstream stages' outputs, locked or local) equals its lock entry's, is
 * `fresh-by-lock` — someone computed exactly this, and `wsflow pull` restores it from a remote. A stage the checkout
 * never ran that does not match is stale, with its differences from the entry as the reasons (the same reasons
 * status gives against a recorded execution). What the checkout itself records always wins.
 */
import type { EngineContext } from '../plan/engine-context.js';
import { assessStage, type StageStatus } from '../plan/stage-status.js';
import { diffIngredients, type Reason } from '../plan/reasons.js';
import { withUpstream, type StaticIngredients } from '../plan/static-ingredients.js';
import { isKeyComplete, stageKeyOf } from '../keys/key-ingredients.js';
import type { TreeHash } from '../keys/hashing.js';
import { ingredientsOfEntry } from './lock-entries.js';
import type { LockEntry, LockStages } from './lock-file.js';
import type { Result } from '../../contract/result.js';

export interface LockedStatus extends StageStatus {
  /** the lock entry a `fresh-by-lock` stage matches */
  locked?: LockEntry;
}

/**
 * `lock`: the stages of the profile's lock, asked for only once a stage is never-run or stale here (a checkout's
 * own fresh results never consult it); its error, a damaged lock, is the result.
 */
export function assessAllWithLock(
  ctx: Pick<EngineContext, 'pipeline' | 'store' | 'cache' | 'hasher'>,
  statics: ReadonlyMap<string, StaticIngredients>,
  order: readonly string[],
  lock: () => Result<LockStages, string>,
): Result<Map<string, LockedStatus>, string> {
  const out = new Map<string, LockedStatus>();
  const outputHashOf = (up: string): TreeHash | null => out.get(up)?.outputHash ?? null;
  let stages: LockStages | undefined;
  for (const id of order) {
    const st = statics.get(id);
    if (!st) continue;
    const local = assessStage(ctx, st, outputHashOf);
    if (local.state !== 'never-run' && local.state !== 'stale') {
      out.set(id, local);
      continue;
    }
    if (stages === undefined) {
      const read = lock();
      if (!read.ok) return read;
      stages = read.value;
    }
    const entry = Object.hasOwn(stages, id) ? stages[id] : undefined;
    out.set(id, entry ? againstLock(local, st, entry, outputHashOf) : local);
  }
  return { ok: true, value: out };
}

function againstLock(local: StageStatus, st: StaticIngredients, entry: LockEntry, outputHashOf: (id: string) => TreeHash | null): LockedStatus {
  const ingredients = withUpstream(st, outputHashOf);
  if (isKeyComplete(ingredients) && stageKeyOf(ingredients) === entry.key) {
    return { ...local, state: 'fresh-by-lock', reasons: [], key: entry.key, outputHash: entry.output.hash, locked: entry };
  }
  // the checkout's own history explains a stale stage better than the lock; a stage it never ran, the lock does
  if (local.state !== 'never-run') return local;
  const reasons: Reason[] = diffIngredients(ingredientsOfEntry(st.stage.id, entry), ingredients);
  return { ...local, state: 'stale', reasons: reasons.length ? reasons : [{ type: 'key-changed' }] };
}
