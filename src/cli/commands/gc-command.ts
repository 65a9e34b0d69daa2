/**
 * `wsflow gc [--profile P | --all-profiles] [--keep N] [--dry-run]`: in the profile it trims (default: the project's,
 * as every command), removes cache objects and trees that neither a stage's head nor its last N results need; other
 * profiles' results are never touched. Says what that frees. Older executions whose outputs go are marked evicted
 * (no longer hits). Refuses to run while another wsflow run is live: its results are in cache/ before they are committed.
 */
import { collectGarbage, type GcScope } from '../../engine/api/collect-garbage.js';
import { fmtBytes } from '../loggers/format-bytes.js';
import { styleFor, type CommandEnv } from '../command-env.js';

export interface GcCommandOptions {
  projectDir: string;
  dryRun: boolean;
  json: boolean;
  scope: GcScope;
}

export function gcCommand(o: GcCommandOptions, env: CommandEnv): number {
  const outcome = collectGarbage(o.projectDir, o.dryRun, o.scope);
  if (outcome.type === 'nothing') {
    env.stdout.write(o.json ? `${JSON.stringify({ nothing: true })}\n` : 'No cache here yet: nothing to collect.\n');
    return 0;
  }
  if (outcome.type === 'busy') {
    const r = outcome.run;
    env.stderr.write(
      `error: run #${r.id} (pid ${r.pid} on ${r.host}) is in progress; gc would race with its results. Try again when it ends.\n`,
    );
    return 1;
  }
  const { report } = outcome;
  if (o.json) env.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const s = styleFor(env.stdout);
    const verb = o.dryRun ? 'Would remove' : 'Removed';
    env.stdout.write(
      `${s.bold(verb)} ${report.removedObjects} objects (${fmtBytes(report.removedBytes)}) and ${report.removedTrees} trees; ` +
        `${report.evictedExecutions} older executions ${o.dryRun ? 'would no longer be' : 'are no longer'} restorable.\n` +
        `Kept ${report.keptObjects} objects (${fmtBytes(report.keptBytes)}) for ${report.keptExecutions} executions: ${scopeText(o.scope)}.\n` +
        (report.foreign.length > 0
          ? `Left alone ${report.foreign.length} entries wsflow did not create (links or unexpected names): ${report.foreign.slice(0, 3).join(', ')}${report.foreign.length > 3 ? ', …' : ''}\n`
          : ''),
    );
  }
  return 0;
}

function scopeText(scope: GcScope): string {
  const last = scope.keep === 1 ? 'the last result' : `the last ${scope.keep} results`;
  if (scope.profiles.type === 'all') return `every head and ${last} of each stage, in every profile`;
  const p = scope.profiles.profile;
  const name = p === null ? 'no profile' : `profile ${p}`;
  return `every head, ${last} of each stage in ${name}, and every result of other profiles`;
}
