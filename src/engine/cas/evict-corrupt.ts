/**
 * What follows from one damaged cache object: the object goes, the materialised trees that hard-link it go (same
 * inode, same damage), and every recorded execution whose output names it stops counting as a hit, so its stage
 * runs again instead of being served from a cache that no longer holds its bytes.
 */
import { readdirSync } from 'node:fs';
import type { TreeHash } from '../keys/hashing.js';
import type { StateStore } from '../state/state-store.js';
import { CACHE_NAMES, type CacheStore } from './cache-store.js';

export interface Eviction {
  /** executions no longer restorable */
  executions: number;
  /** materialised trees removed */
  trees: number;
}

export function evictCorruptObject(store: StateStore, cache: CacheStore, hash: string): Eviction {
  const names = new Map<string, boolean>();
  const uses = (tree: string): boolean => {
    let found = names.get(tree);
    if (found === undefined) {
      found = tree === hash || (cache.readManifest(tree as TreeHash)?.files.some((f) => f.hash === hash) ?? false);
      names.set(tree, found);
    }
    return found;
  };
  const ids: number[] = [];
  for (const e of store.succeededExecutions()) if (e.output_hash && uses(e.output_hash)) ids.push(e.id);
  let trees: string[] = [];
  try {
    trees = readdirSync(cache.treesDir).filter((n) => CACHE_NAMES.tree.test(n));
  } catch {
    // no trees yet
  }
  const removed = cache.evictObject(hash, trees.filter(uses) as TreeHash[]);
  store.markEvicted(ids);
  return { executions: ids.length, trees: removed.length };
}
