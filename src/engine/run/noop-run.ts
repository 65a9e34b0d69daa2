/**
 * A run whose selected stages are all fresh already: CI from a warm cache, a second `wsflow run` after an edit that
 * changed no key. Such a run has nothing to schedule, lease or execute, so it is assessed the way `wsflow status`
 * assesses, in topological order, and recorded without the scheduler, whose graph, per-stage bookkeeping and modules
 * cost a no-op run ~10 ms of CPU at 1000 stages (bench/engine/README.md, "the no-op run without the scheduler").
 * The events, the run's record and the result are the ones the scheduler gives for the same run.
 *
 * The first stage that is not plainly fresh (stale, cached, failed, running, a warning to give, a forced stage)
 * ends the attempt: the scheduler then takes the run from the start, so the path that executes never depends on
 * this one having been right.
 */
import type { EngineContext } from '../plan/engine-context.js';
import type { StaticIngredients } from '../plan/static-ingredients.js';
import { assessStage, type StageStatus } from '../plan/stage-status.js';
import type { EventSink, RunCounts } from '../events.js';
import { beginRun } from './run-record.js';
import type { RunResult, StageOutcome } from './run-types.js';

/** Every selected stage's status when all are fresh with their results in out/ and nothing to warn about; else null. */
export function assessAllFresh(
  ctx: Pick<EngineContext, 'pipeline' | 'store' | 'cache' | 'hasher'>,
  statics: ReadonlyMap<string, StaticIngredients>,
  order: readonly string[],
): Map<string, StageStatus> | null {
  const statuses = new Map<string, StageStatus>();
  const upstreamHash = (id: string) => statuses.get(id)?.outputHash ?? null;
  for (const id of order) {
    const st = statics.get(id);
    if (!st) return null;
    const status = assessStage(ctx, st, upstreamHash);
    if (status.state !== 'fresh' || !status.outputHash || !status.head || status.warnings.length > 0) return null;
    statuses.set(id, status);
  }
  return statuses;
}

export interface NoopRunOptions {
  ctx: EngineContext;
  statics: ReadonlyMap<string, StaticIngredients>;
  order: readonly string[];
  /** the statuses assessAllFresh gave, against this context's store */
  fresh: ReadonlyMap<string, StageStatus>;
  argv: readonly string[];
  executor: string;
  jobs: number;
  accel: number;
  emit: EventSink;
}

/**
 * Records the run and reports every stage fresh, as the scheduler does when it finds them so. One transaction: the
 * run's row with its ~15 kB of producers is written once, not inserted and then rewritten (5 ms of a 1000-stage
 * no-op run, bench/engine/README.md).
 */
export function recordNoopRun(o: NoopRunOptions): RunResult {
  return o.ctx.store.db.transaction(() => record(o))();
}

function record(o: NoopRunOptions): RunResult {
  const { store } = o.ctx;
  const started = Date.now();
  const runId = beginRun(o.ctx, o.statics, o.order, o.argv, started);
  o.emit({ type: 'run-start', runId, stages: o.order.length, executor: o.executor, jobs: o.jobs, accel: o.accel });
  const counts: RunCounts = { fresh: 0, restored: 0, executed: 0, failed: 0, skipped: 0, interrupted: 0, waited: 0, retries: 0 };
  const outcomes = new Map<string, StageOutcome>();
  // the execution behind each stage, as the scheduler records it for run comparison (api/run-comparison.ts)
  const producers: Record<string, number> = {};
  for (const id of o.order) {
    const head = o.fresh.get(id)?.head;
    if (!head) throw new Error(`no fresh status for ${id}`);
    counts.fresh++;
    outcomes.set(id, 'fresh');
    producers[id] = head.id;
    o.emit({ type: 'stage-fresh', stageId: id });
  }
  const ended = Date.now();
  store.finishRun(runId, 'succeeded', { ...counts, producers }, ended);
  o.emit({ type: 'run-end', runId, status: 'succeeded', durationMs: ended - started, counts: { ...counts } });
  return { runId, status: 'succeeded', counts, outcomes, failedKeys: [], freshStatuses: o.fresh };
}
