/**
 * A tree manifest: the files of a directory (or a set of paths) with their content hashes and sizes.
 * Output directories are stored in the cache as their files plus this manifest; the manifest's own sha256 is the
 * output hash that downstream keys use (so a byte-identical output gives the same hash: early cutoff).
 */
import { readdirSync, statSync, lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from './canonical-json.js';
import { sha256Hex, type FileHash, type TreeHash } from './hashing.js';

export interface TreeEntry {
  /** relative POSIX path inside the tree */
  path: string;
  hash: FileHash;
  size: number;
  /** the file had an executable bit */
  exec: boolean;
}

export interface TreeManifest {
  files: TreeEntry[];
}

const MANIFEST_FORMAT = 'wsflow-tree-1';

/** The manifest's bytes as stored in the cache; its sha256 is the tree hash. */
export function serializeManifest(manifest: TreeManifest): string {
  const files = [...manifest.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return canonicalJson({ files: files.map((f) => [f.path, f.hash, f.size, f.exec ? 1 : 0]), format: MANIFEST_FORMAT });
}

export function parseManifest(text: string): TreeManifest {
  const raw = JSON.parse(text) as { format?: unknown; files?: unknown };
  if (raw.format !== MANIFEST_FORMAT || !Array.isArray(raw.files)) throw new Error('not a wsflow tree manifest');
  return {
    files: raw.files.map((row: unknown) => {
      if (!Array.isArray(row) || row.length !== 4) throw new Error('malformed manifest entry');
      const [path, hash, size, exec] = row as [string, string, number, number];
      return { path, hash: hash as FileHash, size, exec: exec === 1 };
    }),
  };
}

export function treeHashOf(manifest: TreeManifest): TreeHash {
  return sha256Hex(serializeManifest(manifest)) as TreeHash;
}

export function manifestBytes(manifest: TreeManifest): number {
  let n = 0;
  for (const f of manifest.files) n += f.size;
  return n;
}

export interface WalkedFile {
  /** relative POSIX path */
  rel: string;
  abs: string;
  stat: Stats;
}

export class TreeWalkError extends Error {}

/**
 * Lists the regular files under `root`, sorted by relative path. Symlinks are followed when `followSymlinks`
 * (inputs a user points us at) and rejected otherwise (stage outputs: a link would escape the cache).
 */
export function walkFiles(root: string, options: { followSymlinks: boolean }): WalkedFile[] {
  const out: WalkedFile[] = [];
  const visit = (absDir: string, relDir: string): void => {
    const names = readdirSync(absDir).sort();
    for (const name of names) {
      const abs = join(absDir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      let st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        if (!options.followSymlinks) throw new TreeWalkError(`${rel} is a symbolic link; stage outputs must be regular files`);
        st = statSync(abs);
      }
      if (st.isDirectory()) visit(abs, rel);
      else if (st.isFile()) out.push({ rel, abs, stat: st });
      else throw new TreeWalkError(`${rel} is not a regular file or directory`);
    }
  };
  visit(root, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
