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
import { checkCache, type FsckFinding } from '../../engine/api/check-cache.js';
import { FAULT_EXIT_CODE } from '../../engine/util/faults.js';
import { fmtBytes } from '../loggers/format-bytes.js';
import { styleFor, type CommandEnv } from '../command-env.js';

export interface FsckCommandOptions {
  projectDir: string;
  json: boolean;
}

function findingLine(f: FsckFinding): string {
  switch (f.type) {
    case 'corrupt-object':
      return `corrupt: object ${f.hash.slice(0, 12)} (${fmtBytes(f.bytes)}) does not match its content hash: evicted, with ${f.trees} trees and ${f.executions} executions that used it`;
    case 'damaged-tree':
      return `damaged: tree ${f.tree.slice(0, 12)}: ${f.problem}: removed (it is made again from the objects when a stage needs it)`;
    case 'unrestorable-execution':
      return `missing: execution #${f.executionId} of ${f.stageId}: ${f.problem}: no longer restorable`;
  }
}

export function fsckCommand(o: FsckCommandOptions, env: CommandEnv): number {
  const outcome = checkCache(o.projectDir, (f) => {
    if (!o.json) env.stdout.write(`${findingLine(f)}\n`);
  });
  if (outcome.type === 'nothing') {
    env.stdout.write(o.json ? `${JSON.stringify({ nothing: true, ok: true })}\n` : 'No cache here yet: nothing to check.\n');
    return 0;
  }
  if (outcome.type === 'busy') {
    const r = outcome.run;
    env.stderr.write(`error: run #${r.id} (pid ${r.pid} on ${r.host}) is in progress; its objects are being written. Try again when it ends.\n`);
    return FAULT_EXIT_CODE;
  }
  const { report } = outcome;
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
}
