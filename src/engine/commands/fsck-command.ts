/**
 * `wsflow fsck [--json]`: verifies the whole cache, like `git fsck`. Every object in cache/objects must hash to its
 * name; every materialised tree in cache/trees must hold exactly its manifest's bytes; every execution recorded as
 * succeeded must still have its manifest and objects. What fails is evicted (the object, the trees sharing it, the
 * executions that can no longer be restored: their stages run again when next needed) and reported.
 * Links and names wsflow did not create are reported and left alone (lstat, never followed).
 *
 * Exit codes: 0 the cache is intact; 1 damage was found and evicted; 3 the check could not run (another run is in
 * progress; a fault of the machine, reported by the CLI with the same code).
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { CACHE_NAMES, CacheStore, removeTree } from '../cas/cache-store.js';
import { evictCorruptObject } from '../cas/evict-corrupt.js';
import { hashFileSync } from '../keys/file-hasher.js';
import type { TreeHash } from '../keys/hashing.js';
import { cacheDirOf } from '../plan/engine-context.js';
import { firstLiveRun } from '../exec/leases.js';
import { openRecordedState } from '../project.js';
import { FAULT_EXIT_CODE } from '../faults.js';
import { fmtBytes } from './explain-command.js';
import { styleFor, type CommandEnv } from './command-env.js';

export interface FsckCommandOptions {
  projectDir: string;
  json: boolean;
}

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


export function fsckCommand(o: FsckCommandOptions, env: CommandEnv): number {
  const state = openRecordedState(o.projectDir);
  if (!state) {
    env.stdout.write(o.json ? `${JSON.stringify({ nothing: true, ok: true })}\n` : 'No cache here yet: nothing to check.\n');
    return 0;
  }
  try {
    const { store } = state;
    const cache = new CacheStore(cacheDirOf(o.projectDir));
    const now = Date.now();
    const r = firstLiveRun(store, now);
    if (r) {
      env.stderr.write(`error: run #${r.id} (pid ${r.pid} on ${r.host}) is in progress; its objects are being written. Try again when it ends.\n`);
      return FAULT_EXIT_CODE;
    }
    const report = check(store, cache, (line) => {
      if (!o.json) env.stdout.write(`${line}\n`);
    });
    if (o.json) env.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const s = styleFor(env.stdout);
      const head = `Checked ${report.checkedObjects} objects (${fmtBytes(report.checkedBytes)}) and ${report.checkedTrees} trees`;
      env.stdout.write(
        report.ok
          ? `${s.green(head)}: all intact.\n`
          : `${head}: ${s.red(`${report.corruptObjects.length} corrupt objects evicted`)}, ${report.removedTrees} trees removed, ` +
              `${report.evictedExecutions} executions no longer restorable (their stages run again when needed).\n`,
      );
      if (report.foreign.length > 0) {
        env.stdout.write(
          `Left alone ${report.foreign.length} entries wsflow did not create: ${report.foreign.slice(0, 3).join(', ')}${report.foreign.length > 3 ? ', …' : ''}\n`,
        );
      }
    }
    return report.ok ? 0 : 1;
  } finally {
    state.close();
  }
}

function check(store: Parameters<typeof evictCorruptObject>[0], cache: CacheStore, say: (line: string) => void): FsckReport {
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
      say(`corrupt: object ${hash.slice(0, 12)} (${fmtBytes(st.size)}) does not match its content hash: evicted, with ${evicted.trees} trees and ${evicted.executions} executions that used it`);
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
    say(`damaged: tree ${name.slice(0, 12)}: ${problem}: removed (it is made again from the objects when a stage needs it)`);
  }
  // 3. every execution recorded as succeeded can still be restored
  const gone: number[] = [];
  for (const e of store.succeededExecutions()) {
    if (!e.output_hash) continue;
    const v = cache.verifyTree(e.output_hash as TreeHash);
    if (v.ok) continue;
    gone.push(e.id);
    say(`missing: execution #${e.id} of ${e.stage_id}: ${v.problem}: no longer restorable`);
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
