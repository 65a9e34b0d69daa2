/**
 * The cache check behind `wsflow fsck`: every object against its content hash, every materialised tree against its
 * manifest, every succeeded execution still restorable. What fails is evicted; each finding is reported as it is
 * made (an event), the totals at the end. Refused while a run is live: its objects are being written.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CACHE_NAMES, CacheStore, removeTree } from '../cas/cache-store.js';
import { evictCorruptObject } from '../cas/evict-corrupt.js';
import { hashFileSync } from '../keys/file-hasher.js';
import type { TreeHash } from '../keys/hashing.js';
import type { StateStore } from '../state/state-store.js';
import { withIdleState, type IdleStateOutcome } from './with-idle-state.js';

export interface FsckReport {
  checkedObjects: number;
  checkedBytes: number;
  checkedTrees: number;
  /** objects whose bytes did not match their name, evicted */
  corruptObjects: { hash: string; bytes: number }[];
  /** materialised trees removed (damaged, or sharing a damaged object) */
  removedTrees: number;
  /** executions recorded as succeeded that can no longer be restored (now marked evicted) */
  evictedExecutions: number;
  /** entries wsflow did not create (links, unexpected names), left alone */
  foreign: string[];
  ok: boolean;
}

/** One thing the check found wrong, and what it did about it. */
export type FsckFinding =
  /** an object whose bytes do not match its name: evicted, with the trees and executions that used it */
  | { type: 'corrupt-object'; hash: string; bytes: number; trees: number; executions: number }
  /** a materialised tree that does not hold its manifest's bytes: removed (made again from the objects) */
  | { type: 'damaged-tree'; tree: string; problem: string }
  /** a succeeded execution whose output can no longer be restored: marked evicted */
  | { type: 'unrestorable-execution'; executionId: number; stageId: string; problem: string };

/** No state recorded yet, a live run in the way, or the check's totals. */
export type FsckOutcome = IdleStateOutcome<FsckReport>;

export function checkCache(projectDir: string, onFinding: (finding: FsckFinding) => void): FsckOutcome {
  return withIdleState(projectDir, (store, cache) => check(store, cache, onFinding));
}

function check(store: StateStore, cache: CacheStore, say: (finding: FsckFinding) => void): FsckReport {
  const report: FsckReport = {
    checkedObjects: 0,
    checkedBytes: 0,
    checkedTrees: 0,
    corruptObjects: [],
    removedTrees: 0,
    evictedExecutions: 0,
    foreign: [],
    ok: true,
  };
  const inodes = new Map<string, number>();
  // 1. every object hashes to its name
  for (const prefix of list(cache.objectsDir)) {
    const dir = join(cache.objectsDir, prefix);
    if (!CACHE_NAMES.objectPrefix.test(prefix) || !lstatOrNull(dir)?.isDirectory()) {
      report.foreign.push(`objects/${prefix}`);
      continue;
    }
    for (const name of list(dir)) {
      const path = join(dir, name);
      const st = lstatOrNull(path);
      if (!st) continue;
      if (!CACHE_NAMES.objectRest.test(name) || !st.isFile()) {
        if (!CACHE_NAMES.objectTemp.test(name)) report.foreign.push(`objects/${prefix}/${name}`);
        continue;
      }
      const hash = prefix + name;
      report.checkedObjects++;
      report.checkedBytes += st.size;
      if (hashFileSync(path) === hash) {
        inodes.set(hash, st.ino);
        continue;
      }
      const evicted = evictCorruptObject(store, cache, hash);
      report.corruptObjects.push({ hash, bytes: st.size });
      report.removedTrees += evicted.trees;
      report.evictedExecutions += evicted.executions;
      say({ type: 'corrupt-object', hash, bytes: st.size, trees: evicted.trees, executions: evicted.executions });
    }
  }
  // 2. every materialised tree holds its manifest's bytes (files not hard-linked to a checked object are hashed)
  for (const name of list(cache.treesDir)) {
    const dir = join(cache.treesDir, name);
    const st = lstatOrNull(dir);
    if (!CACHE_NAMES.tree.test(name) || !st?.isDirectory()) {
      report.foreign.push(`trees/${name}`);
      continue;
    }
    report.checkedTrees++;
    const problem = treeProblem(cache, name as TreeHash, dir, inodes);
    if (problem === undefined) continue;
    removeTree(dir);
    report.removedTrees++;
    say({ type: 'damaged-tree', tree: name, problem });
  }
  // 3. every execution recorded as succeeded can still be restored
  const gone: number[] = [];
  for (const e of store.succeededExecutions()) {
    if (!e.output_hash) continue;
    const v = cache.verifyTree(e.output_hash as TreeHash);
    if (v.ok) continue;
    gone.push(e.id);
    say({ type: 'unrestorable-execution', executionId: e.id, stageId: e.stage_id, problem: v.error });
  }
  store.markEvicted(gone);
  report.evictedExecutions += gone.length;
  report.ok = report.corruptObjects.length === 0 && report.removedTrees === 0 && report.evictedExecutions === 0;
  return report;
}

function treeProblem(cache: CacheStore, hash: TreeHash, dir: string, inodes: ReadonlyMap<string, number>): string | undefined {
  const manifest = cache.readManifest(hash);
  if (!manifest) return 'its manifest is missing';
  for (const f of manifest.files) {
    const st = lstatOrNull(join(dir, f.path));
    if (!st?.isFile()) return `${f.path} is missing or not a regular file`;
    if (inodes.get(f.hash) === st.ino) continue;
    if (st.size !== f.size || hashFileSync(join(dir, f.path)) !== f.hash) return `${f.path} does not match its content hash`;
  }
  return undefined;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
