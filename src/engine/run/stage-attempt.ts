/**
 * Brings one stage whose upstream stages are done up to date: fresh → done; else take its lease (or wait for the
 * run holding it and re-check), restore a cache hit, or take a slot of its resource class and execute it, again
 * after a failure up to --retries times.
 */
import type { SkipCause } from '../events.js';
import { assessStage, type StageStatus } from '../plan/stage-status.js';
import { firstLine } from '../plan/reasons.js';
import { sleepUnlessAborted } from '../exec/on-abort.js';
import type { TreeHash } from '../keys/hashing.js';
import type { Done, NotDone, RunScope, ScheduledNode } from './run-types.js';

const LEASE_POLL_MS = 150;

/**
 * The first check of a stage, synchronous: done when it is fresh (the common case, every stage of a no-op run),
 * else the status processStage goes on from. The scheduler calls it as soon as the stage's upstream stages are
 * done, so a fresh stage costs no promise chain of its own.
 */
export function firstCheck(scope: RunScope, n: ScheduledNode): { done: Done | NotDone } | { status: StageStatus } {
  if (scope.opts.signal.aborted) return { done: skipped(scope, n, { type: 'stopped' }) };
  // against the run's head snapshot; a later check follows waiting or a key that moved under the lease
  const status = assess(scope, n);
  for (const w of status.warnings) scope.emit({ type: 'warning', stageId: n.id, message: w });
  const fresh = scope.opts.force?.has(n.id) === true ? null : freshResult(scope, n, status, false);
  return fresh ? { done: { ...fresh, freshStatus: status } } : { status };
}

/** Goes on from a first check that did not find the stage fresh. */
export async function processStage(scope: RunScope, n: ScheduledNode, firstStatus: StageStatus): Promise<Done | NotDone> {
  const { opts, stop } = scope;
  const forced = opts.force?.has(n.id) === true;
  let waitingSince: number | null = null;
  let pending: StageStatus | null = firstStatus;
  for (;;) {
    if (opts.signal.aborted) return skipped(scope, n, { type: 'stopped' });
    const status = pending ?? assess(scope, n);
    if (pending === null) {
      const fresh = forced ? null : freshResult(scope, n, status, waitingSince !== null);
      if (fresh) return fresh;
    }
    pending = null;
    if (status.key === null) throw new Error(`key of ${n.id} unknown although its upstream stages are done`);
    if (opts.skipFailedKeys?.has(status.key)) {
      const error = status.reasons.find((r) => r.type === 'failed');
      scope.counts.failed++;
      scope.emit({
        type: 'stage-skipped',
        stageId: n.id,
        cause: { type: 'failed-unchanged', error: error?.type === 'failed' ? firstLine(error.error) : 'failed earlier' },
      });
      return { outcome: 'failed', key: status.key };
    }
    if (waitingSince !== null && status.state === 'failed') {
      // the run we waited for failed on this very key: report it rather than run it a second time
      const latest = scope.ctx.store.latestExecutionOfStage(n.id);
      if (latest && latest.key === status.key && (latest.ended_at ?? 0) >= waitingSince) {
        scope.counts.failed++;
        scope.emit({
          type: 'stage-failed',
          stageId: n.id,
          executionId: latest.id,
          durationMs: latest.duration_ms ?? 0,
          failure: { reason: 'failed-elsewhere', runId: latest.run_id, message: firstLine(latest.error ?? 'failed') },
          logPath: latest.log_path,
          logTail: [],
        });
        return { outcome: 'failed', key: status.key };
      }
    }
    if (stop.signal.aborted) return skipped(scope, n, { type: 'stopped' });
    const lease = scope.leases.tryAcquire(n.id, status.key);
    if (!lease.acquired) {
      if (waitingSince === null) {
        waitingSince = Date.now();
        scope.emit({
          type: 'stage-waiting',
          stageId: n.id,
          holderPid: lease.holder.pid,
          holderHost: lease.holder.host,
          holderRunId: lease.holder.run_id,
        });
      }
      await sleepUnlessAborted(LEASE_POLL_MS, stop.signal);
      continue;
    }
    try {
      // re-check under the lease: the run we waited for (or one that just finished) may have produced it
      const current = assess(scope, n, true);
      if (current.key !== status.key) continue;
      const freshNow = forced ? null : freshResult(scope, n, current, waitingSince !== null);
      if (freshNow) return freshNow;
      if (!forced && current.state === 'cached' && current.hit) {
        // restoring and executing import their code when a stage first needs it: a no-op run loads neither
        const { restoreOutput } = await import('./restore-output.js');
        const restored = restoreOutput(scope, n, current);
        if (restored) {
          if (waitingSince !== null) scope.counts.waited++;
          return restored;
        }
        continue;
      }
      const cls = n.stage.resources.class;
      if (!(await scope.slots[cls].acquire(n.index, stop.signal))) return skipped(scope, n, { type: 'stopped' });
      if (stop.signal.aborted) {
        // a failure elsewhere stopped the run while this slot was being handed over
        scope.slots[cls].release();
        return skipped(scope, n, { type: 'stopped' });
      }
      try {
        return await executeWithRetries(scope, n, forced ? { ...current, reasons: [{ type: 'forced' }, ...current.reasons] } : current);
      } finally {
        scope.slots[cls].release();
      }
    } finally {
      scope.leases.release(n.id);
    }
  }
}

export function skipped(scope: RunScope, n: ScheduledNode, cause: SkipCause): NotDone {
  scope.counts.skipped++;
  scope.emit({ type: 'stage-skipped', stageId: n.id, cause });
  return { outcome: 'skipped' };
}

function assess(scope: RunScope, n: ScheduledNode, underLease = false): StageStatus {
  const upstreamHash = (id: string): TreeHash | null => scope.nodes.get(id)?.outputHash ?? null;
  return assessStage(scope.ctx, n.st, upstreamHash, underLease);
}

/** Done if out/ already holds this key's result (`waited`: another run produced it while this one waited). */
function freshResult(scope: RunScope, n: ScheduledNode, status: StageStatus, waited: boolean): Done | null {
  if (status.state !== 'fresh' || !status.outputHash || !status.head) return null;
  scope.counts.fresh++;
  if (waited) scope.counts.waited++;
  scope.emit({ type: 'stage-fresh', stageId: n.id });
  return { outcome: 'fresh', outputHash: status.outputHash, executionId: status.head.id };
}

/**
 * Runs the stage, and again after a failure up to --retries times, each attempt its own execution with its own
 * error and log. No retry once the run is interrupted or stopped by another stage's failure.
 */
async function executeWithRetries(scope: RunScope, n: ScheduledNode, status: StageStatus): Promise<Done | NotDone> {
  const { opts, stop } = scope;
  const retries = opts.retries ?? 0;
  const { executeAttempt } = await import('./execute-attempt.js');
  for (let retry = 0; ; retry++) {
    const r = await executeAttempt(scope, n, status, retry === 0 ? undefined : { n: retry, of: retries });
    if (r.outcome !== 'failed') return r;
    const { key, ...failed } = r.failure;
    if (retry < retries && !opts.signal.aborted && !stop.signal.aborted) {
      scope.counts.retries++;
      scope.emit({ type: 'stage-retry', ...failed, retry: { n: retry + 1, of: retries } });
      continue;
    }
    scope.counts.failed++;
    // stop before this stage's slot is handed to a waiting stage
    if (!opts.keepGoing) stop.abort();
    scope.emit({ type: 'stage-failed', ...failed });
    return { outcome: 'failed', key };
  }
}
