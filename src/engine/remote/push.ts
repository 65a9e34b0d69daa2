/**
 * `wsflow push [TARGETS]`: the results this checkout holds for the selected stages (fresh in out/, or restorable
 * from cache/), sent to a remote. What the lock file records is what a fresh clone will ask for, and after a
 * successful run the two are the same results.
 */
import type { Pipeline } from '../../pipeline/types.js';
import type { KindSource } from '../plan/engine-context.js';
import { selectStages } from '../plan/select-stages.js';
import { computeAllStatic, type PlanError } from '../plan/static-ingredients.js';
import { assessAll } from '../plan/stage-status.js';
import { openProjectForReading } from '../project.js';
import type { TreeHash } from '../keys/hashing.js';
import type { Remote } from './remote.js';
import { pushTree, TransferError, zeroCounts, type TransferCounts } from './transfer.js';
import type { Result } from '../../contract/result.js';

export type PlanFailure = { type: 'selection'; message: string } | { type: 'plan'; errors: readonly PlanError[] };

export interface PushReport {
  remote: string;
  /** stages whose results are now on the remote */
  pushed: string[];
  /** stages with no result here to push (never run, stale, failed…) */
  unavailable: { stageId: string; state: string }[];
  /** stages whose push failed, one line each */
  failed: { stageId: string; message: string }[];
  counts: TransferCounts;
}

export async function pushStages(
  pipeline: Pipeline,
  source: Omit<KindSource, 'kinds'>,
  targets: readonly string[],
  remote: Remote,
  onStage: (stageId: string) => void = () => undefined,
): Promise<Result<PushReport, PlanFailure>> {
  const selection = selectStages(pipeline, targets);
  if (!selection.ok) return { ok: false, error: { type: 'selection', message: selection.error } };
  const project = openProjectForReading(pipeline, source);
  try {
    const statics = computeAllStatic(project.ctx, selection.value.order);
    if (!statics.ok) return { ok: false, error: { type: 'plan', errors: statics.error } };
    const statuses = assessAll(project.ctx, statics.value, selection.value.order);
    const report: PushReport = { remote: remote.description, pushed: [], unavailable: [], failed: [], counts: zeroCounts() };
    const done = new Map<TreeHash, string | null>();
    for (const id of selection.value.order) {
      const s = statuses.get(id);
      if (!s) continue;
      const tree = s.state === 'fresh' || s.state === 'cached' ? s.outputHash : null;
      if (tree === null) {
        report.unavailable.push({ stageId: id, state: s.state });
        continue;
      }
      onStage(id);
      // two stages with byte-identical outputs share one tree
      if (!done.has(tree)) {
        try {
          await pushTree(project.ctx.cache, remote, tree, report.counts);
          done.set(tree, null);
        } catch (e) {
          if (!(e instanceof TransferError)) throw e;
          done.set(tree, e.message);
        }
      }
      const failure = done.get(tree);
      if (failure) report.failed.push({ stageId: id, message: failure });
      else report.pushed.push(id);
    }
    return { ok: true, value: report };
  } finally {
    project.close();
  }
}
