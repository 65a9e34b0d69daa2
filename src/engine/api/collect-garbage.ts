/**
 * Garbage collection of the cache, scoped by profile: in the profiles it trims, keep what each stage's head (what
 * out/ holds) and its last N results (distinct keys) need; keep every result of every other profile; remove the rest
 * (or, dry, count it). Refused while a run is live: it would race with that run's results.
 */
import { lstatSync, readdirSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CACHE_NAMES, CacheStore, removeTree } from '../cas/cache-store.js';
import type { TreeHash } from '../keys/hashing.js';
import { profileKey, type ExecutionRow, type StateStore } from '../state/state-store.js';
import { withIdleState, type IdleStateOutcome } from './with-idle-state.js';

/** Which profiles gc trims (every other profile's results are kept whole), and how many results per stage stay. */
export interface GcScope {
  /** the profiles to trim: one (null: the no-profile study), or all of them */
  profiles: { type: 'one'; profile: string | null } | { type: 'all' };
  /** results (distinct keys) kept per stage of a trimmed profile, besides its head; at least 1 */
  keep: number;
}

export interface GcReport {
  dryRun: boolean;
  scope: { profiles: string | null | '*'; keep: number };
  /** succeeded executions whose results stay restorable */
  keptExecutions: number;
  keptObjects: number;
  keptBytes: number;
  removedObjects: number;
  removedBytes: number;
  removedTrees: number;
  evictedExecutions: number;
  /** entries of cache/objects and cache/trees that wsflow did not create (links, odd names): left alone */
  foreign: string[];
}

/** No state recorded yet, a live run in the way, or what was (or would be) collected. */
export type GcOutcome = IdleStateOutcome<GcReport>;

export function collectGarbage(projectDir: string, dryRun: boolean, scope: GcScope): GcOutcome {
  return withIdleState(projectDir, (store, cache) => collect(store, cache, dryRun, scope));
}

/**
 * The executions whose results stay: every head of every profile; in a trimmed profile the newest execution of each
 * of a stage's last `keep` keys (a forced rerun of the same key does not push an older result out); every
 * result of a profile gc does not trim.
 */
export function executionsToKeep(store: StateStore, scope: GcScope): ExecutionRow[] {
  const trimmed = (profile: string): boolean => scope.profiles.type === 'all' || profile === profileKey(scope.profiles.profile);
  const headIds = new Set(store.allHeads().map((h) => h.execution_id));
  const keysSeen = new Map<string, Set<string>>();
  const kept: ExecutionRow[] = [];
  for (const e of store.succeededExecutionsNewestFirst()) {
    if (!trimmed(e.profile)) {
      kept.push(e);
      continue;
    }
    const stage = JSON.stringify([e.profile, e.stage_id]);
    const keys = keysSeen.get(stage) ?? new Set<string>();
    keysSeen.set(stage, keys);
    const counted = !keys.has(e.key) && keys.size < scope.keep;
    if (counted) keys.add(e.key);
    if (counted || headIds.has(e.id)) kept.push(e);
  }
  return kept;
}

function collect(store: StateStore, cache: CacheStore, dryRun: boolean, scope: GcScope): GcReport {
  const keepObjects = new Set<string>();
  const keepTrees = new Set<string>();
  let keptBytes = 0;
  const latest = executionsToKeep(store, scope);
  for (const e of latest) {
    if (!e.output_hash) continue;
    keepTrees.add(e.output_hash);
    keepObjects.add(e.output_hash);
    const manifest = cache.readManifest(e.output_hash);
    for (const f of manifest?.files ?? []) keepObjects.add(f.hash);
  }
  let removedObjects = 0;
  let removedBytes = 0;
  const foreign: string[] = [];
  // lstat throughout: only what wsflow created (a directory named by two hex digits holding regular files named by
  // the rest of a sha256, a tree directory named by a sha256) is removed; a link is never followed
  for (const prefix of safeList(cache.objectsDir)) {
    const dir = join(cache.objectsDir, prefix);
    if (!CACHE_NAMES.objectPrefix.test(prefix) || kindOf(dir) !== 'dir') {
      foreign.push(`objects/${prefix}`);
      continue;
    }
    for (const name of safeList(dir)) {
      const hash = prefix + name;
      const path = join(dir, name);
      const st = lstatOrNull(path);
      if (!st) continue;
      if (!CACHE_NAMES.objectRest.test(name) || !st.isFile()) {
        if (!CACHE_NAMES.objectTemp.test(name)) foreign.push(`objects/${prefix}/${name}`);
        continue;
      }
      if (keepObjects.has(hash)) {
        keptBytes += st.size;
        continue;
      }
      removedObjects++;
      removedBytes += st.size;
      if (!dryRun) unlinkSync(path);
    }
  }
  let removedTrees = 0;
  for (const name of safeList(cache.treesDir)) {
    const path = join(cache.treesDir, name);
    if (!CACHE_NAMES.tree.test(name) || kindOf(path) !== 'dir') {
      foreign.push(`trees/${name}`);
      continue;
    }
    if (keepTrees.has(name)) continue;
    removedTrees++;
    if (!dryRun) removeTree(path);
  }
  const gone = store.succeededExecutions().filter((e) => e.output_hash && !keepTrees.has(e.output_hash as TreeHash));
  if (!dryRun) {
    store.markEvicted(gone.map((e) => e.id));
    cache.removeStaleStaging();
  }
  return {
    dryRun,
    scope: { profiles: scope.profiles.type === 'all' ? '*' : scope.profiles.profile, keep: scope.keep },
    keptExecutions: latest.length,
    keptObjects: keepObjects.size,
    keptBytes,
    removedObjects,
    removedBytes,
    removedTrees,
    evictedExecutions: gone.length,
    foreign,
  };
}


function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function kindOf(path: string): 'dir' | 'file' | 'other' | null {
  const st = lstatOrNull(path);
  if (!st) return null;
  return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
