/**
 * Garbage collection of the cache: keep what the latest successful execution of each stage needs, remove the rest
 * (or, dry, count it). Refused while a run is live: it would race with that run's results.
 */
import { lstatSync, readdirSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CACHE_NAMES, CacheStore, removeTree } from '../cas/cache-store.js';
import type { TreeHash } from '../keys/hashing.js';
import { cacheDirOf } from '../plan/engine-context.js';
import type { RunRow, StateStore } from '../state/state-store.js';
import { firstLiveRun } from '../state/leases.js';
import { openRecordedState } from '../project.js';

export interface GcReport {
  dryRun: boolean;
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
export type GcOutcome = { type: 'nothing' } | { type: 'busy'; run: RunRow } | { type: 'done'; report: GcReport };

export function collectGarbage(projectDir: string, dryRun: boolean): GcOutcome {
  const state = openRecordedState(projectDir);
  if (!state) return { type: 'nothing' };
  try {
    const { store } = state;
    const run = firstLiveRun(store, Date.now());
    if (run) return { type: 'busy', run };
    return { type: 'done', report: collect(store, new CacheStore(cacheDirOf(projectDir)), dryRun) };
  } finally {
    state.close();
  }
}

function collect(store: StateStore, cache: CacheStore, dryRun: boolean): GcReport {
  const keepObjects = new Set<string>();
  const keepTrees = new Set<string>();
  let keptBytes = 0;
  const latest = store.latestSuccessPerStage();
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
