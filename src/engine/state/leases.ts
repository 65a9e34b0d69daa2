/**
 * Per-stage leases in the state database, so that several `wsflow run` processes on one project never execute
 * the same stage at once: the second waits and then reuses the first one's result.
 *
 * A lease is held by a run (pid, host) and refreshed by the run's heartbeat. It is taken over, with no `--unlock`
 * ever needed, when its holder is provably dead (same host, pid gone) or its heartbeat is older than the TTL
 * (another host: a cluster node that vanished).
 */
import type { StateStore, LeaseRow, RunRow } from './state-store.js';
import { HOST, isPidAlive } from '../util/process-util.js';

export const HEARTBEAT_MS = 2_000;
export const LEASE_TTL_MS = 20_000;

export type LeaseAttempt = { acquired: true } | { acquired: false; holder: LeaseRow };

export function isHolderGone(holder: { host: string; pid: number; heartbeat_at: number }, now: number): boolean {
  if (holder.host === HOST && !isPidAlive(holder.pid)) return true;
  return now - holder.heartbeat_at > LEASE_TTL_MS;
}

export class LeaseManager {
  readonly #store: StateStore;
  readonly #runId: number;
  readonly #held = new Set<string>();

  constructor(store: StateStore, runId: number) {
    this.#store = store;
    this.#runId = runId;
  }

  /** Takes the lease on `stageId` unless a live run holds it. */
  tryAcquire(stageId: string, key: string): LeaseAttempt {
    const store = this.#store;
    const attempt = store.db
      .transaction((): LeaseAttempt => {
        const now = Date.now();
        const holder = store.getLease(stageId);
        if (holder && holder.run_id !== this.#runId && !isHolderGone(holder, now)) {
          const run = store.getRun(holder.run_id);
          if (!run || run.status === 'running') return { acquired: false, holder };
        }
        store.putLease({ stage_id: stageId, key, run_id: this.#runId, host: HOST, pid: process.pid, acquired_at: now, heartbeat_at: now });
        return { acquired: true };
      })
      .immediate();
    if (attempt.acquired) this.#held.add(stageId);
    return attempt;
  }

  release(stageId: string): void {
    if (!this.#held.delete(stageId)) return;
    this.#store.deleteLease(stageId, this.#runId);
  }

  releaseAll(): void {
    this.#store.deleteLeasesOfRun(this.#runId);
    this.#held.clear();
  }
}

/**
 * Runs left 'running' by a process that died (kill -9, OOM of the scheduler, power loss) are recorded as
 * interrupted; their leases go with them.
 */
export function recoverCrashedRuns(store: StateStore, now: number): RunRow[] {
  const crashed = store.runningRuns().filter((r) => r.pid !== process.pid && isHolderGone(r, now));
  for (const r of crashed) store.markRunCrashed(r.id, now);
  return crashed;
}

/**
 * The first run still in progress after dead runs are recovered: gc and fsck must not touch the cache while one
 * is writing objects into it.
 */
export function firstLiveRun(store: StateStore, now: number): RunRow | undefined {
  recoverCrashedRuns(store, now);
  return store.runningRuns().find((r) => !isHolderGone(r, now));
}
