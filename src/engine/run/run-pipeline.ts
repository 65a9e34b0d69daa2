/**
 * Brings the selected stages up to date. This file is the scheduler: our own ready-loop over resource-class
 * slots (see DESIGN.md for why not p-graph), the run's record and heartbeat, and the failure policy (a failure
 * stops new work unless --keep-going; the failed stage's dependents are skipped). What happens to one stage is in
 * stage-attempt.ts (lease, restore, execute, retry), execute-attempt.ts (one execution) and commit-output.ts
 * (objects → execution row → out/ → head).
 */
import type { SkipCause } from '../events.js';
import { Slots } from '../exec/slots.js';
import { onAbort } from '../exec/on-abort.js';
import { HEARTBEAT_MS, LeaseManager } from '../state/leases.js';
import { describeFault } from '../util/faults.js';
import { beginRun } from './run-record.js';
import { firstCheck, processStage, skipped } from './stage-attempt.js';
import type { StageStatus } from '../plan/stage-status.js';
import type { Done, NotDone, RunPipelineOptions, RunResult, RunScope, ScheduledNode, StageOutcome } from './run-types.js';

export type { RunPipelineOptions, RunResult, StageOutcome } from './run-types.js';

export async function runPipeline(opts: RunPipelineOptions): Promise<RunResult> {
  return new Scheduler(opts).run();
}

class Scheduler {
  readonly #o: RunPipelineOptions;
  readonly #nodes = new Map<string, ScheduledNode>();
  readonly #slots: Record<'accel' | 'cpu', Slots>;
  readonly #stop = new AbortController();
  readonly #counts = { fresh: 0, restored: 0, executed: 0, failed: 0, skipped: 0, interrupted: 0, waited: 0, retries: 0 };
  readonly #failedKeys: { stageId: string; key: string }[] = [];
  readonly #freshStatuses = new Map<string, StageStatus>();
  #scope!: RunScope;
  #active = 0;
  #finished!: () => void;
  /** stages whose upstream stages are done, waiting for their first check (see #activate) */
  readonly #ready: ScheduledNode[] = [];
  #draining = false;
  #starting = false;

  constructor(o: RunPipelineOptions) {
    this.#o = o;
    this.#slots = { accel: new Slots(o.accel), cpu: new Slots(o.jobs) };
    o.order.forEach((id, index) => {
      const st = o.statics.get(id);
      if (!st) throw new Error(`no static ingredients for ${id}`);
      const upstream = upstreamIds(st.stage.needs, o.statics);
      this.#nodes.set(id, { id, stage: st.stage, st, index, upstream, dependents: [], remaining: upstream.length, outputHash: null, producer: null, outcome: null });
    });
    for (const n of this.#nodes.values()) for (const u of n.upstream) this.#nodes.get(u)?.dependents.push(n.id);
  }

  async run(): Promise<RunResult> {
    const { ctx } = this.#o;
    const { store } = ctx;
    const started = Date.now();
    const runId = beginRun(ctx, this.#o.statics, this.#o.order, this.#o.argv, started);
    const leases = new LeaseManager(store, runId);
    this.#scope = {
      opts: this.#o,
      ctx,
      runId,
      nodes: this.#nodes,
      leases,
      slots: this.#slots,
      stop: this.#stop,
      counts: this.#counts,
      emit: this.#o.emit,
    };
    const heartbeat = setInterval(() => store.heartbeatRun(runId, Date.now()), HEARTBEAT_MS);
    heartbeat.unref();
    if (this.#o.signal.aborted) this.#stop.abort();
    const unsubscribe = onAbort(this.#o.signal, () => this.#stop.abort());
    this.#o.emit({
      type: 'run-start',
      runId,
      stages: this.#nodes.size,
      executor: this.#o.executor.name,
      jobs: this.#o.jobs,
      accel: this.#o.accel,
    });
    try {
      await new Promise<void>((resolve) => {
        this.#finished = resolve;
        // the stages with no upstream stage, listed before any starts: a fresh one releases its dependents at once,
        // whose count then reads 0 too, and they must not be started a second time from here
        const roots = [...this.#nodes.values()].filter((n) => n.remaining === 0);
        this.#starting = true;
        for (const n of roots) this.#activate(n);
        this.#starting = false;
        if (this.#active === 0) resolve();
      });
      // stages never reached because the run stopped
      for (const n of this.#nodes.values()) {
        if (n.outcome === null) this.#skip(n, { type: 'stopped' });
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      leases.releaseAll();
    }
    const status = this.#o.signal.aborted ? 'interrupted' : this.#counts.failed > 0 ? 'failed' : 'succeeded';
    const ended = Date.now();
    // producers: the execution behind each stage this run left done (executed, restored or fresh), so that run
    // comparison (api/run-comparison.ts) knows what a run had, restores included
    const producers = Object.fromEntries([...this.#nodes.values()].filter((n) => n.producer !== null).map((n) => [n.id, n.producer]));
    store.finishRun(runId, status, { ...this.#counts, producers }, ended);
    this.#o.emit({ type: 'run-end', runId, status, durationMs: ended - started, counts: { ...this.#counts } });
    const outcomes = new Map<string, StageOutcome>();
    for (const n of this.#nodes.values()) outcomes.set(n.id, n.outcome ?? 'skipped');
    return { runId, status, counts: { ...this.#counts }, outcomes, failedKeys: this.#failedKeys, freshStatuses: this.#freshStatuses };
  }

  /**
   * A stage whose upstream stages are done. Its first check runs now, synchronously (a fresh stage is done at once,
   * and so may release its dependents in turn); the ready queue keeps that iterative however long the chain.
   */
  #activate(n: ScheduledNode): void {
    this.#active++;
    this.#ready.push(n);
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let i = 0; i < this.#ready.length; i++) this.#start(this.#ready[i] as ScheduledNode);
    } finally {
      this.#ready.length = 0;
      this.#draining = false;
    }
  }

  #start(n: ScheduledNode): void {
    let first: ReturnType<typeof firstCheck>;
    try {
      first = firstCheck(this.#scope, n);
    } catch (err) {
      this.#complete(n, this.#internalFailure(n, err));
      return;
    }
    if ('done' in first) {
      this.#complete(n, first.done);
      return;
    }
    void processStage(this.#scope, n, first.status)
      .catch((err: unknown): NotDone => this.#internalFailure(n, err))
      .then((r) => this.#complete(n, r));
  }

  #internalFailure(n: ScheduledNode, err: unknown): NotDone {
    const fault = describeFault(err);
    const message = fault ?? `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    this.#o.emit({ type: 'warning', stageId: n.id, message });
    this.#counts.failed++;
    return { outcome: 'failed' };
  }

  /** The failure policy: a done stage releases its dependents; a failed one stops new work (unless --keep-going). */
  #complete(n: ScheduledNode, r: Done | NotDone): void {
    n.outcome = r.outcome;
    if (r.outcome === 'fresh' || r.outcome === 'restored' || r.outcome === 'executed') {
      n.outputHash = r.outputHash;
      n.producer = r.executionId;
      if (r.outcome === 'fresh' && r.freshStatus) this.#freshStatuses.set(n.id, r.freshStatus);
      for (const d of n.dependents) {
        const dn = this.#nodes.get(d);
        if (dn && --dn.remaining === 0 && dn.outcome === null) this.#activate(dn);
      }
    } else if (r.outcome === 'failed') {
      if (r.key) this.#failedKeys.push({ stageId: n.id, key: r.key });
      if (!this.#o.keepGoing) this.#stop.abort();
      this.#skipDependents(n, n.id);
    } else {
      this.#skipDependents(n, n.id);
    }
    // while the first stages are being started, a stage done at once must not end the run before the next one starts
    if (--this.#active === 0 && !this.#starting) this.#finished();
  }

  #skipDependents(n: ScheduledNode, failedId: string): void {
    for (const d of n.dependents) {
      const dn = this.#nodes.get(d);
      if (!dn || dn.outcome !== null) continue;
      this.#skip(dn, this.#o.signal.aborted ? { type: 'stopped' } : { type: 'upstream-failed', upstream: failedId });
      this.#skipDependents(dn, failedId);
    }
  }

  /** For a stage that is never processed (upstream failed, run stopped). */
  #skip(n: ScheduledNode, cause: SkipCause): void {
    n.outcome = skipped(this.#scope, n, cause).outcome;
  }
}

/** The selected stages a stage needs, each once, in the order its inputs name them. */
function upstreamIds(needs: Readonly<Record<string, readonly string[]>>, selected: ReadonlyMap<string, unknown>): string[] {
  // for-in and a loop, not Object.values(…).flat() and spreads: this runs once per stage of every run
  const ids = new Set<string>();
  for (const input in needs) for (const id of needs[input] ?? []) if (selected.has(id)) ids.add(id);
  return [...ids];
}
