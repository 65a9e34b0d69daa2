/**
 * Moving output trees between the local cache and a remote, verified by hash both ways: push sends only local
 * objects whose bytes hash to their names, pull keeps only downloaded bytes that hash to the name they were asked
 * for. A tree's manifest goes up after every file it names and comes down before them, so a manifest on the remote
 * means the whole tree is there: an interrupted push leaves files without a manifest (harmless, reused by the next
 * push), never a manifest without its files.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CacheStore } from '../cas/cache-store.js';
import { crashPoint } from '../util/crash-points.js';
import { hashFileSync } from '../keys/file-hasher.js';
import { sha256Hex, shortHash, type TreeHash } from '../keys/hashing.js';
import { parseManifest, type TreeManifest } from '../keys/tree-manifest.js';
import type { Remote } from './remote.js';

export interface TransferCounts {
  /** objects sent or received */
  objects: number;
  bytes: number;
  /** objects that were already where they were going */
  present: number;
}

export function zeroCounts(): TransferCounts {
  return { objects: 0, bytes: 0, present: 0 };
}

/** A tree that could not be moved, in one line: what, and which object. */
export class TransferError extends Error {}

/** Sends a tree the local cache holds; `counts` is added to. */
export async function pushTree(cache: CacheStore, remote: Remote, tree: TreeHash, counts: TransferCounts): Promise<void> {
  const manifestPath = cache.objectPath(tree);
  const manifestSize = sizeOf(manifestPath);
  if (manifestSize === null || cache.readManifest(tree) === null) throw new TransferError(`manifest ${shortHash(tree)} is not intact in the local cache`);
  if (await remote.has(tree, manifestSize)) {
    counts.present++;
    return;
  }
  const manifest = cache.readManifest(tree) as TreeManifest;
  const seen = new Set<string>();
  for (const f of manifest.files) {
    if (seen.has(f.hash)) continue;
    seen.add(f.hash);
    if (await remote.has(f.hash, f.size)) {
      counts.present++;
      continue;
    }
    const local = cache.objectPath(f.hash);
    // never publish damaged bytes under a content name: everyone who pulls would trust the name
    if (sizeOf(local) !== f.size || hashFileSync(local) !== f.hash) {
      throw new TransferError(`local cache object ${shortHash(f.hash)} for ${f.path} does not match its hash (run wsflow fsck)`);
    }
    await remote.put(f.hash, local, f.size);
    crashPoint('remote-object-pushed');
    counts.objects++;
    counts.bytes += f.size;
  }
  await remote.put(tree, manifestPath, manifestSize);
  crashPoint('remote-object-pushed');
  counts.objects++;
  counts.bytes += manifestSize;
}

/**
 * Brings a tree into the local cache (objects only: what the state records and out/ hold is the caller's). Each
 * download lands in `stagingDir` (cache/tmp, this process's) and is renamed into cache/objects only once its bytes
 * hash to its name; a mismatch is a TransferError and nothing of it is kept.
 */
export async function fetchTree(cache: CacheStore, remote: Remote, tree: TreeHash, stagingDir: string, counts: TransferCounts): Promise<void> {
  if (cache.verifyTree(tree).ok) {
    counts.present++;
    return;
  }
  const manifestTmp = await download(remote, tree, stagingDir, 'its manifest');
  let manifest: TreeManifest;
  try {
    manifest = parseManifest(readFileSync(manifestTmp, 'utf8'));
  } catch (e) {
    rmSync(manifestTmp, { force: true });
    throw new TransferError(`remote manifest ${shortHash(tree)} on ${remote.description} is not a manifest (${(e as Error).message})`);
  }
  const seen = new Set<string>();
  for (const f of manifest.files) {
    if (seen.has(f.hash)) continue;
    seen.add(f.hash);
    if (sizeOf(cache.objectPath(f.hash)) === f.size) {
      counts.present++;
      continue;
    }
    const tmp = await download(remote, f.hash, stagingDir, f.path);
    if (sizeOf(tmp) !== f.size) {
      rmSync(tmp, { force: true });
      throw new TransferError(`remote object ${shortHash(f.hash)} for ${f.path} on ${remote.description} has the wrong size: not used`);
    }
    counts.objects++;
    counts.bytes += f.size;
    place(cache, f.hash, tmp);
  }
  counts.objects++;
  counts.bytes += sizeOf(manifestTmp) ?? 0;
  place(cache, tree, manifestTmp);
}

async function download(remote: Remote, hash: string, stagingDir: string, what: string): Promise<string> {
  const tmp = join(stagingDir, hash);
  rmSync(tmp, { force: true });
  if (!(await remote.get(hash, tmp))) throw new TransferError(`object ${shortHash(hash)} (${what}) is not on ${remote.description}`);
  const actual = what === 'its manifest' ? sha256Hex(readFileSync(tmp)) : hashFileSync(tmp);
  if (actual !== hash) {
    rmSync(tmp, { force: true });
    throw new TransferError(`remote object ${shortHash(hash)} (${what}) on ${remote.description} does not match its content hash: not used`);
  }
  return tmp;
}

function place(cache: CacheStore, hash: string, tmp: string): void {
  const dest = cache.objectPath(hash);
  mkdirSync(dirname(dest), { recursive: true });
  chmodSync(tmp, 0o444);
  renameSync(tmp, dest);
}

function sizeOf(path: string): number | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}
