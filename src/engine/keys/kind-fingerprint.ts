/**
 * Fingerprints of stage-kind code. Not part of the key (a kind's `version` is): a code change without a version
 * bump is shown as a warning by status/explain, so that refactors do not rerun a week of training.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileHasher } from './file-hasher.js';

export interface KindLocation {
  /** the module file of a project-local kind */
  modulePath?: string;
  /** kind name, for built-ins: fingerprinted as `<builtinDir>/<name>/` (or `<name>.js`) */
  name: string;
}

export function kindFingerprint(loc: KindLocation, hasher: FileHasher, builtinDir: string | undefined): string | null {
  try {
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
