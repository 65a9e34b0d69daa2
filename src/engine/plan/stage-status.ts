/**
 * The state of each stage — fresh / stale / cached / failed / running / never-run — with the reasons, computed
 * the same way by `status`, `--dry-run`, `explain` and the scheduler (which calls `assessStage` once a stage's
 * upstream results are known).
 */
import { neverRunReason } from './never-run-reason.js';
import type { ExecutionRow, StateStore } from '../state/state-store.js';
import { isHolderGone } from '../state/leases.js';
import { parseIngredients } from '../state/state-store.js';
import { keyIfComplete, type KeyIngredients } from '../keys/key-ingredients.js';
import type { StageKey, TreeHash } from '../keys/hashing.js';
import type { EngineContext } from './engine-context.js';
import { changedPaths, inspectOutputs } from './output-check.js';
import { diffIngredients, type Reason } from './reasons.js';
import { withUpstream, type StaticIngredients } from './static-ingredients.js';

/**
 * `running`: a live run (another process) is executing this very key; what comes of it is known when it ends.
 * `fresh-by-lock`: only status with a lock file says it (src/engine/lock/lock-status.ts): this checkout has no
 * result, the committed lock records one for this very key (`wsflow pull` restores it).
 */
export type StageState = 'fresh' | 'stale' | 'cached' | 'failed' | 'running' | 'never-run' | 'fresh-by-lock';

export interface StageStatus {
  stageId: string;
  state: StageState;
  reasons: Reason[];
  ingredients: KeyIngredients;
  /** null while an upstream stage is not up to date */
  key: StageKey | null;
  /** the execution whose result is in out/ */
  head: ExecutionRow | null;
  /** the execution a `cached` stage is restored from */
  hit: ExecutionRow | null;
  /** the stage's output hash if it is fresh or restorable, for its dependents' keys */
  outputHash: TreeHash | null;
  /** what the reasons are measured against: the head, else the latest success, else the latest execution */
  baseline: ExecutionRow | null;
  warnings: string[];
}

/** Stages are fresh/cached/stale; a stale stage's dependents have unknown keys until it reruns. */
export function assessStage(
  ctx: Pick<EngineContext, 'pipeline' | 'store' | 'cache' | 'hasher'>,
  st: StaticIngredients,
  outputHashOf: (stageId: string) => TreeHash | null,
  /** read the head from the database rather than the snapshot (the caller holds the stage's lease) */
  freshHead = false,
): StageStatus {
  const { store, cache } = ctx;
  const id = st.stage.id;
  const ingredients = withUpstream(st, outputHashOf);
  const head = store.headExecution(id, freshHead) ?? null;
  // queried once, and only when needed: a fresh stage (the common case in a 1000-stage status) never asks
  let latestRow: ExecutionRow | null | undefined;
  const latestExecution = (): ExecutionRow | null => (latestRow === undefined ? (latestRow = store.latestExecutionOfStage(id) ?? null) : latestRow);
  const baseline = head ?? store.latestSuccessOfStage(id) ?? latestExecution();
  const warnings = codeWarnings(st, baseline);
  const base = { stageId: id, ingredients, head, baseline, warnings };
  const diff = (): Reason[] => {
    if (!baseline) return [neverRunReason(ctx.pipeline, store, st.stage)];
    const r = diffIngredients(parseIngredients(baseline), ingredients);
    return r.length ? r : [{ type: 'key-changed' }];
  };

  const key = keyIfComplete(ingredients);
  if (key === null) {
    return { ...base, state: baseline ? 'stale' : 'never-run', reasons: diff(), key: null, hit: null, outputHash: null };
  }
  const reasons: Reason[] = [];

  if (head && head.key === key && head.output_hash) {
    const check = inspectOutputs(ctx.pipeline.projectDir, st.layout, ctx.hasher);
    if (check.ok && check.value.hash === head.output_hash) {
      // the common case (every stage of a no-op status), spelt out: the same fields in the same order as the spreads
      return { stageId: id, ingredients, head, baseline, warnings, state: 'fresh', reasons: [], key, hit: null, outputHash: head.output_hash };
    }
    if (!check.ok) reasons.push({ type: 'output-missing', path: check.error });
    else {
      const recorded = cache.readManifest(head.output_hash);
      const where = st.layout.type === 'dir' ? st.layout.path : st.layout.paths.join(', ');
      reasons.push({ type: 'output-modified', path: where, files: recorded ? changedPaths(recorded, check.value.manifest) : [] });
    }
    const v = cache.verifyTree(head.output_hash);
    if (v.ok) return { ...base, state: 'cached', reasons, key, hit: head, outputHash: head.output_hash };
    reasons.push({ type: 'not-in-cache', problem: v.error });
  }

  const hit = head && head.key === key ? undefined : store.latestSuccessByKey(key);
  if (hit && hit.output_hash) {
    const v = cache.verifyTree(hit.output_hash);
    if (v.ok) {
      const why = baseline && baseline.key !== key ? diff() : reasons;
      return { ...base, state: 'cached', reasons: why, key, hit, outputHash: hit.output_hash };
    }
    reasons.push({ type: 'not-in-cache', problem: v.error });
  }

  const latest = latestExecution();
  if (latest && latest.key === key) {
    if (latest.status === 'failed') {
      reasons.unshift({ type: 'failed', runId: latest.run_id, executionId: latest.id, error: latest.error ?? 'failed' });
      return { ...base, state: 'failed', reasons, key, hit: null, outputHash: null };
    }
    if (latest.status === 'running' && runIsAlive(store, latest.run_id)) {
      const running: Reason = { type: 'running', runId: latest.run_id, executionId: latest.id, pid: latest.pid, host: latest.host, executor: latest.executor };
      const why = baseline && baseline.key !== key ? diff() : [];
      return { ...base, state: 'running', reasons: [running, ...why, ...reasons], key, hit: null, outputHash: null };
    }
    if (latest.status === 'running' || latest.status === 'interrupted') {
      // a dead run's execution still says running until the next `wsflow run` records it as interrupted
      const error = latest.status === 'running' ? 'the wsflow process running it died' : (latest.error ?? 'interrupted');
      reasons.unshift({ type: 'interrupted', runId: latest.run_id, executionId: latest.id, error });
    }
  }
  if (!baseline) return { ...base, state: 'never-run', reasons: [neverRunReason(ctx.pipeline, store, st.stage)], key, hit: null, outputHash: null };
  const why = baseline.key === key ? reasons : [...diff(), ...reasons];
  return { ...base, state: 'stale', reasons: why.length ? why : [{ type: 'key-changed' }], key, hit: null, outputHash: null };
}

/** The run is still going: recorded as running, and its process alive (same host) or heartbeating (another). */
function runIsAlive(store: StateStore, runId: number): boolean {
  const run = store.getRun(runId);
  return run !== undefined && run.status === 'running' && !isHolderGone(run, Date.now());
}

function codeWarnings(st: StaticIngredients, baseline: ExecutionRow | null): string[] {
  if (!baseline || st.source.type !== 'kind' || st.kindFingerprint === null || baseline.kind_fingerprint === null) return [];
  if (baseline.kind !== st.source.name || baseline.kind_version !== st.source.version) return [];
  if (baseline.kind_fingerprint === st.kindFingerprint) return [];
  return [
    `kind ${st.source.name} code changed since run #${baseline.run_id} without a version bump (still ${st.source.version}): ` +
      `results are reused; bump its version if they would change`,
  ];
}

/**
 * Statuses of the given stages (in topological order), each seeing its upstream stages' statuses. `known`: statuses
 * already assessed (and still true), taken as they are.
 */
export function assessAll(
  ctx: Pick<EngineContext, 'pipeline' | 'store' | 'cache' | 'hasher'>,
  statics: ReadonlyMap<string, StaticIngredients>,
  order: readonly string[],
  known?: ReadonlyMap<string, StageStatus>,
): Map<string, StageStatus> {
  const out = new Map<string, StageStatus>();
  for (const id of order) {
    const had = known?.get(id);
    if (had) {
      out.set(id, had);
      continue;
    }
    const st = statics.get(id);
    if (!st) continue;
    out.set(id, assessStage(ctx, st, (up) => out.get(up)?.outputHash ?? null));
  }
  return out;
}
