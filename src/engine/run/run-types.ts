/**
 * The types the scheduler, one attempt and the commit share: the run's options and result, a scheduled node, and
 * the run scope an attempt works in (the run's counters, leases, slots and stop signal, owned by the scheduler).
 */
import type { PlannedStage } from '../../pipeline/types.js';
import type { EngineContext } from '../plan/engine-context.js';
import type { StaticIngredients } from '../plan/static-ingredients.js';
import type { EngineEvent, EventSink, RunCounts } from '../events.js';
import type { StageExecutor } from '../exec/executor.js';
import type { Slots } from '../exec/slots.js';
import type { LeaseManager } from '../state/leases.js';
import type { TreeHash } from '../keys/hashing.js';
import type { StageStatus } from '../plan/stage-status.js';

export interface RunPipelineOptions {
  ctx: EngineContext;
  /** static ingredients of the selected stages (computed, and their planning errors reported, beforehand) */
  statics: ReadonlyMap<string, StaticIngredients>;
  /** the selected stage ids in topological order (targets plus everything they need) */
  order: readonly string[];
  executor: StageExecutor;
  /** capacity of the `cpu` class (-j) */
  jobs: number;
  /** capacity of the `accel` class (--accel) */
  accel: number;
  keepGoing: boolean;
  /** times a failed stage is run again before it counts as failed (never after an interruption); default 0 */
  retries?: number;
  argv: readonly string[];
  emit: EventSink;
  /** Ctrl-C */
  signal: AbortSignal;
  /** watch mode: keys that failed earlier in this session and are not retried until something changes */
  skipFailedKeys?: ReadonlySet<string>;
  /**
   * `run --force`: stage ids run again although fresh or cached (each once per run). Their dependents are not forced:
   * their keys see the forced stage's output hash, so they rerun only if it changed (early cutoff).
   */
  force?: ReadonlySet<string>;
}

export type StageOutcome = 'fresh' | 'restored' | 'executed' | 'failed' | 'skipped' | 'interrupted';

export interface RunResult {
  runId: number;
  status: 'succeeded' | 'failed' | 'interrupted';
  counts: RunCounts;
  outcomes: Map<string, StageOutcome>;
  /** stages that failed in this run, with the key they failed on */
  failedKeys: { stageId: string; key: string }[];
  /**
   * The stages this run found fresh at their first check (not forced, not after waiting for another run), as
   * assessed against the store's head snapshot: what the lock update reuses while no other process has written
   * to the database since (StateStore.unchangedSinceHeadSnapshot).
   */
  freshStatuses: ReadonlyMap<string, StageStatus>;
}

/** One selected stage in the scheduler's graph. */
export interface ScheduledNode {
  id: string;
  stage: PlannedStage;
  st: StaticIngredients;
  /** position in topological order: the slot queue's priority */
  index: number;
  upstream: string[];
  dependents: string[];
  /** upstream stages not yet done */
  remaining: number;
  outputHash: TreeHash | null;
  /** the execution whose result outputHash is (for its dependents' provenance) */
  producer: number | null;
  outcome: StageOutcome | null;
}

export type Done = {
  outcome: 'fresh' | 'restored' | 'executed';
  outputHash: TreeHash;
  executionId: number;
  /** a stage fresh at its first check: the status that said so */
  freshStatus?: StageStatus;
};
export type NotDone = { outcome: 'failed' | 'skipped' | 'interrupted'; key?: string };

/** What one attempt needs of the run it belongs to; the scheduler owns all of it. */
export interface RunScope {
  readonly opts: RunPipelineOptions;
  readonly ctx: EngineContext;
  readonly runId: number;
  readonly nodes: ReadonlyMap<string, ScheduledNode>;
  readonly leases: LeaseManager;
  readonly slots: Readonly<Record<'accel' | 'cpu', Slots>>;
  /** aborted when no new work may start: a failure without --keep-going, or Ctrl-C */
  readonly stop: AbortController;
  /** the run's counters, updated in place */
  readonly counts: RunCounts;
  emit(e: EngineEvent): void;
}
