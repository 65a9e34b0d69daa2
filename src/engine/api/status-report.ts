/**
 * What `wsflow status` reports, as data: every selected stage's state, key, reasons (each with its text), the
 * lease of another process running it, and the job its executor describes. Rendering is the CLI's.
 */
import type { StageStatus } from '../plan/stage-status.js';
import { formatReason, type Reason, type RunningJob } from '../plan/reasons.js';
import { isHolderGone } from '../state/leases.js';
import type { ExecutorCatalog, JobDescription } from '../exec/executor.js';
import type { EngineContext } from '../plan/engine-context.js';
import type { ExecutionRow } from '../state/state-store.js';

/** A reason as --json gives it; a running stage's job is under its executor's name. */
export type ReasonJson = Reason & { text: string } & { [executor: string]: unknown };

export interface StageStatusJson {
  id: string;
  state: StageStatus['state'];
  key: string | null;
  reasons: ReasonJson[];
  /** another wsflow process is running this stage right now; its job under its executor's name, if it has one */
  running?: { pid: number; host: string; runId: number } & { [executor: string]: unknown };
  /** the run a cached stage would be restored from */
  restorableFrom?: { runId: number; executionId: number };
  warnings: string[];
}

export interface StatusJson {
  pipeline: string;
  profile: string | null;
  stages: StageStatusJson[];
  /** `fresh-by-lock` only where some stage is (a project with a wsflow.lock) */
  counts: Record<Exclude<StageStatus['state'], 'fresh-by-lock'>, number> & { 'fresh-by-lock'?: number };
  upToDate: boolean;
}

/** What status found, and for the text output each running stage's job as its executor words it. */
export interface StatusReport {
  data: StatusJson;
  /** by stage id: the job behind a running stage, where its executor describes one */
  jobs: ReadonlyMap<string, RunningJob>;
}

export async function statusData(
  ctx: EngineContext,
  order: readonly string[],
  statuses: Map<string, StageStatus>,
  executors: ExecutorCatalog,
): Promise<StatusReport> {
  const now = Date.now();
  const counts: StatusJson['counts'] = { fresh: 0, stale: 0, cached: 0, failed: 0, running: 0, 'never-run': 0 };
  const stages: StageStatusJson[] = [];
  const leases = new Map(ctx.store.allLeases().map((l) => [l.stage_id, l]));
  for (const id of order) {
    const s = statuses.get(id);
    if (!s) continue;
    counts[s.state] = (counts[s.state] ?? 0) + 1;
    const entry: StageStatusJson = {
      id,
      state: s.state,
      key: s.key,
      reasons: s.reasons.map((r) => ({ ...r, text: formatReason(r) })),
      warnings: s.warnings,
    };
    const lease = leases.get(id);
    if (lease && !isHolderGone(lease, now)) entry.running = { pid: lease.pid, host: lease.host, runId: lease.run_id };
    if (s.state === 'cached' && s.hit) entry.restorableFrom = { runId: s.hit.run_id, executionId: s.hit.id };
    stages.push(entry);
  }
  const jobs = await describeRunningJobs(ctx, stages, executors);
  return {
    data: {
      pipeline: ctx.pipeline.file,
      profile: ctx.pipeline.profile,
      stages,
      counts,
      upToDate: counts.fresh === stages.length,
    },
    jobs,
  };
}

/**
 * Stages a run executes through an executor that describes its jobs (a cluster's job id and state): one call per
 * executor, and its code loaded, only when there are any.
 */
async function describeRunningJobs(ctx: EngineContext, stages: StageStatusJson[], executors: ExecutorCatalog): Promise<Map<string, RunningJob>> {
  const found = new Map<string, RunningJob>();
  const byExecutor = new Map<string, { entry: StageStatusJson; executionId: number }[]>();
  for (const entry of stages) {
    if (!entry.running && entry.state !== 'running') continue;
    const e: ExecutionRow | undefined = ctx.store.latestExecutionOfStage(entry.id);
    if (!e || e.status !== 'running' || !executors.has(e.executor)) continue;
    const list = byExecutor.get(e.executor) ?? [];
    list.push({ entry, executionId: e.id });
    byExecutor.set(e.executor, list);
  }
  for (const [name, list] of byExecutor) {
    const kind = await executors.get(name)?.();
    if (!kind?.describeJobs) continue;
    const jobs = await kind.describeJobs(ctx.cache.dir, list.map((x) => x.executionId));
    for (const { entry, executionId } of list) {
      const job = jobs.get(executionId);
      if (!job) continue;
      attachJob(entry, name, job);
      found.set(entry.id, { executor: name, ...job });
    }
  }
  return found;
}

function attachJob(entry: StageStatusJson, executor: string, job: JobDescription): void {
  if (entry.running) entry.running[executor] = job.data;
  for (const r of entry.reasons) {
    if (r.type !== 'running') continue;
    r[executor] = job.data;
    r.text = formatReason({ ...r, job: { executor, ...job } });
  }
}
