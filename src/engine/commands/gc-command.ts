/**
 * `wsflow gc [--dry-run]`: removes cache objects and trees not referenced by the latest successful execution of
 * any stage, and says what that frees. Older executions whose outputs go are marked evicted (no longer hits).
 * Refuses to run while another wsflow run is live: its results are in cache/ before they are committed.
 */
import { lstatSync, readdirSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CACHE_NAMES, CacheStore, removeTree } from '../cas/cache-store.js';
import type { TreeHash } from '../keys/hashing.js';
import { cacheDirOf } from '../plan/engine-context.js';
import type { StateStore } from '../state/state-store.js';
import { firstLiveRun } from '../exec/leases.js';
import { openRecordedState } from '../project.js';
import { fmtBytes } from './explain-command.js';
import { styleFor, type CommandEnv } from './command-env.js';

export interface GcCommandOptions {
  projectDir: string;
  dryRun: boolean;
  json: boolean;
}

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

export function gcCommand(o: GcCommandOptions, env: CommandEnv): number {
  const state = openRecordedState(o.projectDir);
  if (!state) {
    env.stdout.write(o.json ? `${JSON.stringify({ nothing: true })}\n` : 'No cache here yet: nothing to collect.\n');
    return 0;
  }
  try {
    const { store } = state;
    const cache = new CacheStore(cacheDirOf(o.projectDir));
    const now = Date.now();
    const r = firstLiveRun(store, now);
    if (r) {
      env.stderr.write(
        `error: run #${r.id} (pid ${r.pid} on ${r.host}) is in progress; gc would race with its results. Try again when it ends.\n`,
      );
      return 1;
    }
    const report = collect(store, cache, o.dryRun);
    if (o.json) env.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const s = styleFor(env.stdout);
      const verb = o.dryRun ? 'Would remove' : 'Removed';
      env.stdout.write(
        `${s.bold(verb)} ${report.removedObjects} objects (${fmtBytes(report.removedBytes)}) and ${report.removedTrees} trees; ` +
          `${report.evictedExecutions} older executions ${o.dryRun ? 'would no longer be' : 'are no longer'} restorable.\n` +
          `Kept ${report.keptObjects} objects (${fmtBytes(report.keptBytes)}) for the latest successful execution of ${report.keptExecutions} stages.\n` +
          (report.foreign.length > 0
            ? `Left alone ${report.foreign.length} entries wsflow did not create (links or unexpected names): ${report.foreign.slice(0, 3).join(', ')}${report.foreign.length > 3 ? ', …' : ''}\n`
            : ''),
      );
    }
    return 0;
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
