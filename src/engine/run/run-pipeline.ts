/**
 * Brings the selected stages up to date: the scheduler (our own ready-loop over resource-class slots; see
 * DESIGN.md for why not p-graph), per-stage leases shared with other wsflow processes, cache restore, execution
 * through an executor, and the commit of results.
 *
 * Per stage, once every upstream stage is done (so its key is known):
 *   fresh → done | cached → restore out/ from the cache | else take the lease (or wait for the run holding it and
 *   re-check) → take a slot of its resource class → execute in a worker → move the output into the cache →
 *   mark the execution succeeded (one statement, the commit point) → materialise out/ → record it as the head.
 * A crash anywhere before the commit leaves nothing that counts as a hit; after it, the next run restores.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlannedStage } from '../../pipeline/types.js';
import type { UpstreamOutput } from '../../contract/stage-kind.js';
import type { EngineContext } from '../plan/engine-context.js';
import { layoutPaths } from '../plan/engine-context.js';
import type { StaticIngredients } from '../plan/static-ingredients.js';
import { assessStage, type StageStatus } from '../plan/stage-status.js';
import { listOutputFiles } from '../plan/output-check.js';
import { firstLine } from '../plan/reasons.js';
import type { EngineEvent, EventSink, RunCounts, SkipCause, StageFailure } from '../events.js';
import type { StageExecutor } from '../exec/executor.js';
import type { StageRunEvent } from '../exec/stage-spec.js';
import { Slots } from '../exec/slots.js';
import { onAbort, sleepUnlessAborted } from '../exec/on-abort.js';
import { HEARTBEAT_MS, LeaseManager, recoverCrashedRuns } from '../exec/leases.js';
import { HOST } from '../exec/process-util.js';
import { CorruptObjectError, removeStaleSiblings, removeTree } from '../cas/cache-store.js';
import { evictCorruptObject } from '../cas/evict-corrupt.js';
import { guardedOutPath } from '../cas/out-guard.js';
import { describeFault } from '../faults.js';
import { crashPoint } from '../crash-points.js';
import { fmtMs } from '../loggers/format-time.js';
import type { TreeHash } from '../keys/hashing.js';
import type { ExecutionRow, MetricRow } from '../state/state-store.js';
import type { TreeEntry, TreeManifest } from '../keys/tree-manifest.js';

const LEASE_POLL_MS = 150;
const LOG_TAIL_LINES = 20;

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
}

export type StageOutcome = 'fresh' | 'restored' | 'executed' | 'failed' | 'skipped' | 'interrupted';

export interface RunResult {
  runId: number;
  status: 'succeeded' | 'failed' | 'interrupted';
  counts: RunCounts;
  outcomes: Map<string, StageOutcome>;
  /** stages that failed in this run, with the key they failed on */
  failedKeys: { stageId: string; key: string }[];
}

interface Node {
  id: string;
  stage: PlannedStage;
  st: StaticIngredients;
  index: number;
  upstream: string[];
  dependents: string[];
  remaining: number;
  outputHash: TreeHash | null;
  /** the execution whose result outputHash is (for its dependents' provenance) */
  producer: number | null;
  outcome: StageOutcome | null;
}

type Done = { outcome: 'fresh' | 'restored' | 'executed'; outputHash: TreeHash; executionId: number };
type NotDone = { outcome: 'failed' | 'skipped' | 'interrupted'; key?: string };
/** One attempt that failed, before the scheduler decides whether to retry it. */
type AttemptFailed = StageFailure & { key: string };

export async function runPipeline(opts: RunPipelineOptions): Promise<RunResult> {
  const session = new RunSession(opts);
  return session.run();
}

class RunSession {
  readonly #o: RunPipelineOptions;
  readonly #ctx: EngineContext;
  readonly #nodes = new Map<string, Node>();
  readonly #slots: Record<'accel' | 'cpu', Slots>;
  /** aborted when no new work may start: a failure without --keep-going, or Ctrl-C */
  readonly #stop = new AbortController();
  readonly #counts: RunCounts = { fresh: 0, restored: 0, executed: 0, failed: 0, skipped: 0, interrupted: 0, waited: 0, retries: 0 };
  readonly #failedKeys: { stageId: string; key: string }[] = [];
  #runId = 0;
  #leases!: LeaseManager;
  #active = 0;
  #finished!: () => void;

  constructor(o: RunPipelineOptions) {
    this.#o = o;
    this.#ctx = o.ctx;
    this.#slots = { accel: new Slots(o.accel), cpu: new Slots(o.jobs) };
    o.order.forEach((id, index) => {
      const st = o.statics.get(id);
      if (!st) throw new Error(`no static ingredients for ${id}`);
      const upstream = [...new Set(Object.values(st.stage.needs).flat())].filter((u) => o.statics.has(u));
      this.#nodes.set(id, { id, stage: st.stage, st, index, upstream, dependents: [], remaining: upstream.length, outputHash: null, producer: null, outcome: null });
    });
    for (const n of this.#nodes.values()) for (const u of n.upstream) this.#nodes.get(u)?.dependents.push(n.id);
  }

  #emit(e: EngineEvent): void {
    this.#o.emit(e);
  }

  async run(): Promise<RunResult> {
    const { store, cache, pipeline } = this.#ctx;
    const started = Date.now();
    const crashed = recoverCrashedRuns(store, started);
    cache.removeStaleStaging();
    if (crashed.length > 0) {
      // a killed run may have left a half-swapped copy next to an out path that no longer needs restoring
      for (const n of this.#nodes.values()) {
        for (const p of layoutPaths(n.st.layout)) {
          try {
            removeStaleSiblings(guardedOutPath(pipeline.projectDir, p));
          } catch {
            // an out whose parent now leads out of the project: its stage reports it when it gets there
          }
        }
      }
    }
    this.#runId = store.insertRun({ argv: JSON.stringify(this.#o.argv), profile: pipeline.profile, host: HOST, pid: process.pid, now: started });
    this.#leases = new LeaseManager(store, this.#runId);
    const heartbeat = setInterval(() => store.heartbeatRun(this.#runId, Date.now()), HEARTBEAT_MS);
    heartbeat.unref();
    if (this.#o.signal.aborted) this.#stop.abort();
    const unsubscribe = onAbort(this.#o.signal, () => this.#stop.abort());
    this.#emit({
      type: 'run-start',
      runId: this.#runId,
      stages: this.#nodes.size,
      executor: this.#o.executor.name,
      jobs: this.#o.jobs,
      accel: this.#o.accel,
    });
    try {
      await new Promise<void>((resolve) => {
        this.#finished = resolve;
        for (const n of this.#nodes.values()) if (n.remaining === 0) this.#activate(n);
        if (this.#active === 0) resolve();
      });
      // stages never reached because the run stopped
      for (const n of this.#nodes.values()) {
        if (n.outcome === null) this.#skip(n, { type: 'stopped' });
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      this.#leases.releaseAll();
    }
    const status = this.#o.signal.aborted ? 'interrupted' : this.#counts.failed > 0 ? 'failed' : 'succeeded';
    const ended = Date.now();
    store.finishRun(this.#runId, status, this.#counts, ended);
    this.#emit({ type: 'run-end', runId: this.#runId, status, durationMs: ended - started, counts: { ...this.#counts } });
    const outcomes = new Map<string, StageOutcome>();
    for (const n of this.#nodes.values()) outcomes.set(n.id, n.outcome ?? 'skipped');
    return { runId: this.#runId, status, counts: { ...this.#counts }, outcomes, failedKeys: this.#failedKeys };
  }

  #activate(n: Node): void {
    this.#active++;
    void this.#process(n)
      .catch((err: unknown): NotDone => {
        const fault = describeFault(err);
        const message = fault ?? `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
        this.#emit({ type: 'warning', stageId: n.id, message });
        this.#counts.failed++;
        return { outcome: 'failed' };
      })
      .then((r) => this.#complete(n, r));
  }

  #complete(n: Node, r: Done | NotDone): void {
    n.outcome = r.outcome;
    if (r.outcome === 'fresh' || r.outcome === 'restored' || r.outcome === 'executed') {
      n.outputHash = r.outputHash;
      n.producer = r.executionId;
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
    if (--this.#active === 0) this.#finished();
  }

  #skipDependents(n: Node, failedId: string): void {
    for (const d of n.dependents) {
      const dn = this.#nodes.get(d);
      if (!dn || dn.outcome !== null) continue;
      this.#skip(dn, this.#o.signal.aborted ? { type: 'stopped' } : { type: 'upstream-failed', upstream: failedId });
      this.#skipDependents(dn, failedId);
    }
  }

  /** For a stage that is never processed (upstream failed, run stopped); #skipped is the same from inside #process. */
  #skip(n: Node, cause: SkipCause): void {
    n.outcome = this.#skipped(n, cause).outcome;
  }

  #upstreamHash = (id: string): TreeHash | null => this.#nodes.get(id)?.outputHash ?? null;

  #assess(n: Node, underLease = false): StageStatus {
    return assessStage(this.#ctx, n.st, this.#upstreamHash, underLease);
  }

  async #process(n: Node): Promise<Done | NotDone> {
    let waitingSince: number | null = null;
    let warned = false;
    for (;;) {
      if (this.#o.signal.aborted) return this.#skipped(n, { type: 'stopped' });
      const status = this.#assess(n);
      if (!warned) {
        for (const w of status.warnings) this.#emit({ type: 'warning', stageId: n.id, message: w });
        warned = true;
      }
      const fresh = this.#fresh(n, status, waitingSince !== null);
      if (fresh) return fresh;
      if (status.key === null) throw new Error(`key of ${n.id} unknown although its upstream stages are done`);
      if (this.#o.skipFailedKeys?.has(status.key)) {
        const error = status.reasons.find((r) => r.type === 'failed');
        this.#counts.failed++;
        this.#emit({
          type: 'stage-skipped',
          stageId: n.id,
          cause: { type: 'failed-unchanged', error: error?.type === 'failed' ? firstLine(error.error) : 'failed earlier' },
        });
        return { outcome: 'failed', key: status.key };
      }
      if (waitingSince !== null && status.state === 'failed') {
        // the run we waited for failed on this very key: report it rather than run it a second time
        const latest = this.#ctx.store.latestExecutionOfStage(n.id);
        if (latest && latest.key === status.key && (latest.ended_at ?? 0) >= waitingSince) {
          this.#counts.failed++;
          this.#emit({
            type: 'stage-failed',
            stageId: n.id,
            executionId: latest.id,
            durationMs: latest.duration_ms ?? 0,
            error: `failed in run #${latest.run_id}: ${firstLine(latest.error ?? 'failed')}`,
            logPath: latest.log_path,
            logTail: [],
          });
          return { outcome: 'failed', key: status.key };
        }
      }
      if (this.#stop.signal.aborted) return this.#skipped(n, { type: 'stopped' });
      const lease = this.#leases.tryAcquire(n.id, status.key);
      if (!lease.acquired) {
        if (waitingSince === null) {
          waitingSince = Date.now();
          this.#emit({
            type: 'stage-waiting',
            stageId: n.id,
            holderPid: lease.holder.pid,
            holderHost: lease.holder.host,
            holderRunId: lease.holder.run_id,
          });
        }
        await sleepUnlessAborted(LEASE_POLL_MS, this.#stop.signal);
        continue;
      }
      try {
        // re-check under the lease: the run we waited for (or one that just finished) may have produced it
        const current = this.#assess(n, true);
        if (current.key !== status.key) continue;
        const freshNow = this.#fresh(n, current, waitingSince !== null);
        if (freshNow) return freshNow;
        if (current.state === 'cached' && current.hit) {
          const restored = this.#restore(n, current);
          if (restored) {
            if (waitingSince !== null) this.#counts.waited++;
            return restored;
          }
          continue;
        }
        const cls = n.stage.resources.class;
        if (!(await this.#slots[cls].acquire(n.index, this.#stop.signal))) return this.#skipped(n, { type: 'stopped' });
        if (this.#stop.signal.aborted) {
          // a failure elsewhere stopped the run while this slot was being handed over
          this.#slots[cls].release();
          return this.#skipped(n, { type: 'stopped' });
        }
        try {
          return await this.#executeWithRetries(n, current);
        } finally {
          this.#slots[cls].release();
        }
      } finally {
        this.#leases.release(n.id);
      }
    }
  }

  /** Done if out/ already holds this key's result (`waited`: another run produced it while this one waited). */
  #fresh(n: Node, status: StageStatus, waited: boolean): Done | null {
    if (status.state !== 'fresh' || !status.outputHash || !status.head) return null;
    this.#counts.fresh++;
    if (waited) this.#counts.waited++;
    this.#emit({ type: 'stage-fresh', stageId: n.id });
    return { outcome: 'fresh', outputHash: status.outputHash, executionId: status.head.id };
  }

  #skipped(n: Node, cause: SkipCause): NotDone {
    this.#counts.skipped++;
    this.#emit({ type: 'stage-skipped', stageId: n.id, cause });
    return { outcome: 'skipped' };
  }

  /** Copies a cached result into out/ and records it as what out/ holds. null when the cache entry is unusable. */
  #restore(n: Node, status: StageStatus): Done | null {
    const { cache, store } = this.#ctx;
    const hit = status.hit;
    if (!hit?.output_hash) return null;
    const v = cache.verifyTree(hit.output_hash);
    if (!v.ok) return null;
    try {
      this.#materialize(n, v.manifest);
    } catch (err) {
      if (!(err instanceof CorruptObjectError)) throw err;
      const evicted = evictCorruptObject(store, cache, err.hash);
      this.#emit({
        type: 'warning',
        stageId: n.id,
        message:
          `${err.message}: evicted it (and ${evicted.trees} cached tree${evicted.trees === 1 ? '' : 's'} sharing it; ` +
          `${evicted.executions} execution${evicted.executions === 1 ? '' : 's'} no longer restorable); running the stage again`,
      });
      return null;
    }
    crashPoint('out-written');
    store.setHead(n.id, hit.id, layoutPaths(n.st.layout), Date.now());
    this.#counts.restored++;
    this.#emit({
      type: 'stage-restored',
      stageId: n.id,
      fromRunId: hit.run_id,
      fromExecutionId: hit.id,
      producedAt: hit.ended_at ?? hit.started_at,
      savedMs: hit.duration_ms ?? 0,
      reasons: status.reasons,
    });
    return { outcome: 'restored', outputHash: hit.output_hash, executionId: hit.id };
  }

  #materialize(n: Node, manifest: TreeManifest): void {
    const { cache, pipeline } = this.#ctx;
    const layout = n.st.layout;
    if (layout.type === 'dir') cache.materializeCopy(manifest, guardedOutPath(pipeline.projectDir, layout.path));
    else for (const p of layout.paths) cache.materializeCopy(manifest, guardedOutPath(pipeline.projectDir, p), p);
  }

  /** The upstream outputs a stage reads, as immutable trees inside the cache, with the executions that made them. */
  #inputsOf(n: Node): Record<string, UpstreamOutput[]> {
    const { cache, store } = this.#ctx;
    const inputs: Record<string, UpstreamOutput[]> = {};
    for (const [name, ids] of Object.entries(n.stage.needs)) {
      inputs[name] = ids.map((id) => {
        const up = this.#nodes.get(id);
        const hash = up?.outputHash;
        if (!up || !hash) throw new Error(`upstream ${id} of ${n.id} has no output`);
        const manifest = cache.readManifest(hash);
        if (!manifest) throw new Error(`output of ${id} vanished from the cache`);
        const producer = up.producer === null ? undefined : store.getExecution(up.producer);
        // a damaged object is stored again from the upstream's copy in the project, if that copy has its bytes
        const projectCopy = (f: TreeEntry): string =>
          up.st.layout.type === 'dir' ? join(this.#ctx.pipeline.projectDir, up.st.layout.path, f.path) : join(this.#ctx.pipeline.projectDir, f.path);
        return { stageId: id, matrix: up.stage.matrix, dir: cache.materializeTree(hash, manifest, projectCopy), ...(producer ? provenanceOf(producer) : {}) };
      });
    }
    return inputs;
  }

  /**
   * Runs the stage, and again after a failure up to --retries times, each attempt its own execution with its own
   * error and log. No retry once the run is interrupted or stopped by another stage's failure.
   */
  async #executeWithRetries(n: Node, status: StageStatus): Promise<Done | NotDone> {
    const retries = this.#o.retries ?? 0;
    for (let retry = 0; ; retry++) {
      const r = await this.#execute(n, status, retry === 0 ? undefined : { n: retry, of: retries });
      if (r.outcome !== 'failed') return r;
      const { key, ...failed } = r.failure;
      if (retry < retries && !this.#o.signal.aborted && !this.#stop.signal.aborted) {
        this.#counts.retries++;
        this.#emit({ type: 'stage-retry', ...failed, retry: { n: retry + 1, of: retries } });
        continue;
      }
      this.#counts.failed++;
      // stop before this stage's slot is handed to a waiting stage
      if (!this.#o.keepGoing) this.#stop.abort();
      this.#emit({ type: 'stage-failed', ...failed });
      return { outcome: 'failed', key };
    }
  }

  async #execute(
    n: Node,
    status: StageStatus,
    retry?: { n: number; of: number },
  ): Promise<Done | { outcome: 'interrupted' } | { outcome: 'failed'; failure: AttemptFailed }> {
    const { store, cache, pipeline } = this.#ctx;
    const key = status.key;
    if (!key) throw new Error(`no key for ${n.id}`);
    const st = n.st;
    const started = Date.now();
    const executionId = store.insertExecution({
      runId: this.#runId,
      stageId: n.id,
      key,
      kind: st.source.type === 'kind' ? st.source.name : 'cmd',
      kindVersion: st.source.type === 'kind' ? st.source.version : null,
      kindFingerprint: st.kindFingerprint,
      ingredients: status.ingredients,
      host: HOST,
      pid: process.pid,
      executor: this.#o.executor.name,
      now: started,
      logPath: null,
    });
    const logPath = join(cache.logsDir, `${executionId}.log`);
    store.setLogPath(executionId, logPath);
    const log = new StageLog(logPath);
    log.line(`# wsflow: stage ${n.id}, execution #${executionId}, run #${this.#runId}, key ${key}`);
    log.line(`# started ${new Date(started).toISOString()} on ${HOST}`);
    this.#emit({
      type: 'stage-start',
      stageId: n.id,
      executionId,
      resource: n.stage.resources.class,
      reasons: status.reasons,
      ...(retry ? { retry } : {}),
    });

    const staging = cache.newStagingDir(n.id);
    const outDir = join(staging, 'out');
    mkdirSync(outDir);
    const annotations: Record<string, string | number | boolean> = {};
    const metrics: MetricRow[] = [];
    const flushMetrics = (): void => {
      if (metrics.length) store.insertMetrics(metrics.splice(0));
    };
    const metricTimer = setInterval(flushMetrics, 1_000);
    metricTimer.unref();
    const onEvent = (e: StageRunEvent): void => {
      switch (e.type) {
        case 'progress':
          this.#emit({ type: 'stage-progress', stageId: n.id, update: e.update });
          break;
        case 'log':
          log.line(e.message);
          this.#emit({ type: 'stage-log', stageId: n.id, message: e.message });
          break;
        case 'output':
          log.text(e.text);
          break;
        case 'metric':
          metrics.push({
            execution_id: executionId,
            stage_id: n.id,
            name: e.name,
            step: e.step ?? null,
            value: e.value,
            recorded_at: Date.now(),
          });
          break;
        case 'annotate':
          annotations[e.key] = e.value;
          this.#emit({ type: 'stage-annotate', stageId: n.id, key: e.key, value: e.value });
          break;
      }
    };

    let outcome;
    try {
      const inputs = this.#inputsOf(n);
      if (st.source.type === 'cmd') prepareCmdOuts(pipeline.projectDir, n.stage.outs);
      outcome = await this.#o.executor.execute({
        spec: {
          stageId: n.id,
          runId: this.#runId,
          executionId,
          key,
          matrix: n.stage.matrix,
          source:
            st.source.type === 'cmd'
              ? { type: 'cmd', cmd: st.source.cmd }
              : {
                  type: 'kind',
                  name: st.source.name,
                  ...(st.resolved?.modulePath ? { modulePath: st.resolved.modulePath } : {}),
                  ...(this.#ctx.builtinRegistryModule ? { registryModule: this.#ctx.builtinRegistryModule } : {}),
                },
          params: n.stage.params,
          inputs,
          outDir,
          projectDir: pipeline.projectDir,
        },
        resources: n.stage.resources,
        onEvent,
        signal: this.#o.signal,
      });
    } catch (err) {
      const error =
        err instanceof CorruptObjectError
          ? `input ${err.message}, and the project holds no intact copy: evicted it; run again to rebuild it`
          : (describeFault(err) ?? (err instanceof Error ? err.message : String(err)));
      outcome = { ok: false as const, error };
    } finally {
      clearInterval(metricTimer);
    }
    flushMetrics();
    const backend = annotations.backend === undefined ? null : String(annotations.backend);

    if (outcome.ok) {
      try {
        const committed = this.#commit(n, executionId, outDir, started, backend, annotations);
        log.line(`# succeeded in ${fmtMs(committed.durationMs)}; output ${committed.hash}`);
        log.close();
        removeTree(staging);
        return { outcome: 'executed', outputHash: committed.hash, executionId };
      } catch (err) {
        outcome = { ok: false as const, error: describeFault(err) ?? (err instanceof Error ? err.message : String(err)) };
      }
    }
    removeTree(staging);
    // a failed command's outs are partial (its outs were cleared before it ran): removing them also gives back
    // the space a command that filled the disk took, so that recording the failure and the next run can proceed
    if (st.source.type === 'cmd') removePartialOuts(pipeline.projectDir, n.stage.outs);
    const ended = Date.now();
    const interrupted = 'interrupted' in outcome && outcome.interrupted === true;
    store.endExecution(executionId, interrupted ? 'interrupted' : 'failed', {
      error: outcome.error,
      now: ended,
      durationMs: ended - started,
      backend,
      annotations,
    });
    log.line(`# ${interrupted ? 'interrupted' : 'failed'} after ${fmtMs(ended - started)}: ${outcome.error}`);
    log.close();
    if (interrupted) {
      this.#counts.interrupted++;
      this.#emit({ type: 'stage-interrupted', stageId: n.id, executionId });
      return { outcome: 'interrupted' };
    }
    return {
      outcome: 'failed',
      failure: { stageId: n.id, executionId, durationMs: ended - started, error: outcome.error, logPath, logTail: log.tail(), key },
    };
  }

  /** Output into the cache, then the success mark (the commit point), then out/ and the head record. */
  #commit(
    n: Node,
    executionId: number,
    outDir: string,
    started: number,
    backend: string | null,
    annotations: Record<string, string | number | boolean>,
  ): { hash: TreeHash; durationMs: number } {
    const { store, cache, pipeline } = this.#ctx;
    const layout = n.st.layout;
    let stored;
    if (layout.type === 'dir') {
      stored = cache.ingestDirByRename(outDir);
    } else {
      for (const p of layout.paths) guardedOutPath(pipeline.projectDir, p);
      const listed = listOutputFiles(pipeline.projectDir, layout);
      if (!listed.ok) throw new Error(`the command did not write its declared out ${listed.missing}`);
      stored = cache.ingestFilesByCopy(listed.files);
    }
    crashPoint('ingested');
    const previous = store.headExecution(n.id, true);
    const ended = Date.now();
    let bytes = 0;
    for (const f of stored.manifest.files) bytes += f.size;
    store.succeedExecution(executionId, {
      outputHash: stored.hash,
      bytes,
      files: stored.manifest.files.length,
      now: ended,
      durationMs: ended - started,
      backend,
      annotations,
    });
    crashPoint('committed');
    if (layout.type === 'dir') cache.materializeCopy(stored.manifest, guardedOutPath(pipeline.projectDir, layout.path));
    crashPoint('out-written');
    store.setHead(n.id, executionId, layoutPaths(layout), Date.now());
    this.#counts.executed++;
    this.#emit({
      type: 'stage-succeeded',
      stageId: n.id,
      executionId,
      durationMs: ended - started,
      backend,
      outputUnchanged: previous?.output_hash === stored.hash,
    });
    return { hash: stored.hash, durationMs: ended - started };
  }
}

/** What a stage learns about the execution that produced one of its inputs (UpstreamOutput's provenance fields). */
export function provenanceOf(e: ExecutionRow): Pick<UpstreamOutput, 'key' | 'runId' | 'executionId' | 'finishedAt' | 'host' | 'annotations'> {
  let annotations: Record<string, string | number | boolean> = {};
  try {
    annotations = JSON.parse(e.annotations) as Record<string, string | number | boolean>;
  } catch {
    // a damaged column costs the annotations, not the run
  }
  return {
    key: e.key,
    runId: e.run_id,
    executionId: e.id,
    finishedAt: new Date(e.ended_at ?? e.started_at).toISOString(),
    host: e.host,
    annotations,
  };
}

/** DVC semantics: declared outs are removed before the command runs (they are in the cache if they mattered). */
function prepareCmdOuts(projectDir: string, outs: readonly string[]): void {
  for (const p of outs) {
    const abs = guardedOutPath(projectDir, p);
    removeTree(abs);
    mkdirSync(dirname(abs), { recursive: true });
  }
}

function removePartialOuts(projectDir: string, outs: readonly string[]): void {
  for (const p of outs) {
    try {
      removeTree(guardedOutPath(projectDir, p));
    } catch {
      // an out that now leads outside the project is not ours to remove; the failure already says why
    }
  }
}

/**
 * A stage's log file, plus the last lines kept in memory for the failure report. Writing it is best effort: a log
 * that cannot be written (disk full, read-only cache/logs) must not turn into a second, different failure.
 */
class StageLog {
  #fd: number | null;
  #tail: string[] = [];
  #partial = '';

  constructor(path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#fd = openSync(path, 'a');
    } catch {
      this.#fd = null;
    }
  }

  #write(t: string): void {
    if (this.#fd === null) return;
    try {
      writeSync(this.#fd, t);
    } catch {
      this.close();
    }
  }

  text(t: string): void {
    this.#write(t);
    const parts = (this.#partial + t).split('\n');
    this.#partial = parts.pop() ?? '';
    this.#tail.push(...parts);
    if (this.#tail.length > LOG_TAIL_LINES) this.#tail = this.#tail.slice(-LOG_TAIL_LINES);
  }

  line(l: string): void {
    this.#write(`${l}\n`);
  }

  tail(): string[] {
    return this.#partial ? [...this.#tail, this.#partial].slice(-LOG_TAIL_LINES) : [...this.#tail];
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }
}
