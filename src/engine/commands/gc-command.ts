/**
 * `wsflow gc [--dry-run]`: removes cache objects and trees not referenced by the latest successful execution of
 * any stage, and says what that frees. Older executions whose outputs go are marked evicted (no longer hits).
 * Refuses to run while another wsflow run is live: its results are in cache/ before they are committed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CacheStore, removeTree } from '../cas/cache-store.js';
import type { TreeHash } from '../keys/hashing.js';
import { cacheDirOf } from '../plan/engine-context.js';
import type { StateStore } from '../state/state-store.js';
import { isHolderGone, recoverCrashedRuns } from '../exec/leases.js';
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
    recoverCrashedRuns(store, now);
    const live = store.runningRuns().filter((r) => !isHolderGone(r, now));
    if (live.length) {
      const r = live[0];
      env.stderr.write(
        `error: run #${r?.id} (pid ${r?.pid} on ${r?.host}) is in progress; gc would race with its results. Try again when it ends.\n`,
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
          `Kept ${report.keptObjects} objects (${fmtBytes(report.keptBytes)}) for the latest successful execution of ${report.keptExecutions} stages.\n`,
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
  for (const prefix of safeList(cache.objectsDir)) {
    const dir = join(cache.objectsDir, prefix);
    for (const name of safeList(dir)) {
      const hash = prefix + name;
      const path = join(dir, name);
      let size = 0;
      try {
        size = statSync(path).size;
      } catch {
        continue;
      }
      if (keepObjects.has(hash)) {
        keptBytes += size;
        continue;
      }
      removedObjects++;
      removedBytes += size;
      if (!dryRun) removeTree(path);
    }
  }
  let removedTrees = 0;
  for (const name of safeList(cache.treesDir)) {
    if (keepTrees.has(name)) continue;
    removedTrees++;
    if (!dryRun) removeTree(join(cache.treesDir, name));
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
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
