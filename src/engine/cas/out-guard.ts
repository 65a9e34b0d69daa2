/**
 * The execution-time half of the out-path check (planning does the first, src/pipeline/project-paths.ts): a
 * symlink may appear in an out's parents after planning, so every clear, swap and restore of an out re-resolves
 * its parent directory and refuses to touch anything that resolves outside the project. The out itself may be a
 * link: we rename or unlink it, which never follows it.
 */
import { dirname, join } from 'node:path';
import { isWithin, realPathOf } from '../../pipeline/project-paths.js';
import { FaultError } from '../util/faults.js';

export class OutsideProjectError extends FaultError {}

/** The absolute path of the project-relative out `rel`, after checking that its parent really is in the project. */
export function guardedOutPath(projectDir: string, rel: string): string {
  const abs = join(projectDir, rel);
  const realProject = realPathOf(projectDir);
  const realParent = realPathOf(dirname(abs));
  if (!isWithin(realParent, realProject)) {
    throw new OutsideProjectError(
      `out "${rel}" now resolves to ${join(realParent, abs.slice(dirname(abs).length + 1))}, outside the project directory (a symbolic link on its path); nothing was written there`,
    );
  }
  return abs;
}
