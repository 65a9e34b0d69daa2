/**
 * Reading what a stage's outputs in the project currently hold, as a tree manifest comparable to the one
 * recorded for the execution that produced them.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileHasher } from '../keys/file-hasher.js';
import type { TreeHash } from '../keys/hashing.js';
import { treeHashOf, walkFiles, type TreeEntry, type TreeManifest } from '../keys/tree-manifest.js';
import type { OutputLayout } from './engine-context.js';
import { err, ok, type Result } from '../../contract/result.js';

/** The outputs' tree hash and manifest, or the error: the first path that is missing. */
export type OutputCheck = Result<{ hash: TreeHash; manifest: TreeManifest }, string>;

export interface OutputFile {
  /** path inside the output tree */
  rel: string;
  abs: string;
}

/**
 * The files making up an output: for a kind, everything under its out directory (paths relative to it); for a cmd
 * stage, each declared out (a file, or every file under a directory) with project-relative paths.
 */
export function listOutputFiles(projectDir: string, layout: OutputLayout): Result<OutputFile[], string> {
  if (layout.type === 'dir') {
    const root = join(projectDir, layout.path);
    if (!isDir(root)) return err(layout.path);
    return ok(walkFiles(root, { followSymlinks: true }).map((f) => ({ rel: f.rel, abs: f.abs })));
  }
  const files: OutputFile[] = [];
  for (const p of layout.paths) {
    const abs = join(projectDir, p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      return err(p);
    }
    if (st.isDirectory()) for (const f of walkFiles(abs, { followSymlinks: true })) files.push({ rel: `${p}/${f.rel}`, abs: f.abs });
    else files.push({ rel: p, abs });
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return ok(files);
}

/** Hashes the outputs in place (through the memo, so an unchanged out/ costs one stat per file). */
export function inspectOutputs(projectDir: string, layout: OutputLayout, hasher: FileHasher): OutputCheck {
  if (layout.type === 'paths' && layout.paths.length === 1) {
    // the common cmd stage with one out file: one stat, no directory walk
    const p = layout.paths[0] ?? '';
    const abs = join(projectDir, p);
    let st;
    try {
      st = hasher.statForHash(abs);
    } catch {
      return err(p);
    }
    if (st.isFile()) {
      const manifest = { files: [{ path: p, hash: hasher.hashFile(abs, st), size: Number(st.size), exec: (Number(st.mode) & 0o111) !== 0 }] };
      return ok({ hash: treeHashOf(manifest), manifest });
    }
  }
  let listed;
  try {
    listed = listOutputFiles(projectDir, layout);
  } catch {
    return err(layout.type === 'dir' ? layout.path : layout.paths.join(', '));
  }
  if (!listed.ok) return listed;
  const files: TreeEntry[] = [];
  for (const f of listed.value) {
    let st;
    try {
      st = statSync(f.abs, { bigint: true });
    } catch {
      return err(f.rel);
    }
    files.push({ path: f.rel, hash: hasher.hashFile(f.abs, st), size: Number(st.size), exec: (Number(st.mode) & 0o111) !== 0 });
  }
  const manifest = { files };
  return ok({ hash: treeHashOf(manifest), manifest });
}

/** Paths that differ between two manifests (changed, added or removed), for "output modified (a, b)". */
export function changedPaths(recorded: TreeManifest, current: TreeManifest, limit = 3): string[] {
  const a = new Map(recorded.files.map((f) => [f.path, f.hash]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of current.files) {
    seen.add(f.path);
    const h = a.get(f.path);
    if (h === undefined) out.push(`${f.path} added`);
    else if (h !== f.hash) out.push(f.path);
  }
  for (const f of recorded.files) if (!seen.has(f.path)) out.push(`${f.path} deleted`);
  return out.length > limit ? [...out.slice(0, limit), `${out.length - limit} more`] : out;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
