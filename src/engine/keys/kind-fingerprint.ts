/**
 * Fingerprints of stage-kind code. Not part of the key (a kind's `version` is): a code change without a version
 * bump is shown as a warning by status/explain, so that refactors do not rerun a week of training.
 */
import { existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import type { FileHasher } from './file-hasher.js';

export interface KindLocation {
  /** the module file of a project-local kind */
  modulePath?: string;
  /** kind name, for built-ins: fingerprinted as `<builtinDir>/<name>/` (or `<name>.js`) */
  name: string;
  /** StageKind.codePaths: when given, these are fingerprinted instead (relative ones against the built-in dir) */
  codePaths?: readonly string[];
}

/** One planning pass fingerprints a shared library (stages/lib, src/core) once, not once per kind. */
const pathMemo = new WeakMap<FileHasher, Map<string, string | null>>();

function hashPath(abs: string, hasher: FileHasher): string | null {
  let memo = pathMemo.get(hasher);
  if (memo === undefined) {
    memo = new Map();
    pathMemo.set(hasher, memo);
  }
  let h = memo.get(abs);
  if (h === undefined) {
    if (!existsSync(abs)) h = null;
    else if (statSync(abs).isDirectory()) h = hasher.hashDir(abs, { followSymlinks: true }).hash;
    else h = hasher.hashFile(abs);
    memo.set(abs, h);
  }
  return h;
}

export function kindFingerprint(loc: KindLocation, hasher: FileHasher, builtinDir: string | undefined): string | null {
  try {
    if (loc.codePaths !== undefined && loc.codePaths.length > 0) {
      const combined = createHash('sha256');
      for (const p of loc.codePaths) {
        const abs = isAbsolute(p) ? p : builtinDir ? join(builtinDir, p) : null;
        if (abs === null) return null;
        combined.update(`${p}\0${hashPath(abs, hasher) ?? 'missing'}\0`);
      }
      return combined.digest('hex');
    }
    if (loc.modulePath) return hasher.hashFile(loc.modulePath);
    if (!builtinDir) return null;
    const dir = join(builtinDir, loc.name);
    if (existsSync(dir) && statSync(dir).isDirectory()) return hasher.hashDir(dir, { followSymlinks: true }).hash;
    const file = `${dir}.js`;
    if (existsSync(file)) return hasher.hashFile(file);
    return null;
  } catch {
    return null;
  }
}
