/**
 * `wsflow status [TARGET...]`: every selected stage as fresh / stale / cached / failed / running / never-run with
 * the reasons, transitively; `--json` gives the same as data. Exit 0 when everything is fresh, 1 otherwise.
 */
import type { Pipeline } from '../../pipeline/types.js';
import { selectStages } from '../plan/select-stages.js';
import { computeAllStatic } from '../plan/static-ingredients.js';
import { assessAll, type StageStatus } from '../plan/stage-status.js';
import { formatReason, formatReasons, MAX_SHOWN_REASONS, type Reason, type RunningJob } from '../plan/reasons.js';
import { isHolderGone } from '../exec/leases.js';
import type { ExecutorCatalog, JobDescription } from '../exec/executor.js';
import { openProjectForReading } from '../project.js';
import type { EngineContext } from '../plan/engine-context.js';
import type { ExecutionRow } from '../state/state-store.js';
import { printPlanErrors, styleFor, type CommandEnv } from './command-env.js';
import type { Style } from '../loggers/style.js';
import { readLock, stagesOfProfile } from '../lock/lock-file.js';
import { assessAllWithLock } from '../lock/lock-status.js';

export interface StatusCommandOptions {
  targets: readonly string[];
  json: boolean;
  /** called once planning succeeded (the CLI saves its pipeline load cache) */
  onPlanned?: () => void;
}

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

function colorState(state: StageStatus['state'], s: Style): (t: string) => string {
  switch (state) {
    case 'fresh':
      return s.green;
    case 'stale':
      return s.yellow;
    case 'cached':
      return s.cyan;
    case 'failed':
      return s.red;
    case 'running':
      return s.cyan;
    case 'never-run':
      return s.yellow;
    case 'fresh-by-lock':
      return s.cyan;
  }
}

export function renderStatus({ data, jobs }: StatusReport, s: Style): string {
  const idWidth = Math.min(48, Math.max(...data.stages.map((x) => x.id.length), 5));
  // wide enough for 'never-run'; a lock's 'fresh-by-lock' widens it only where it appears
  const stateWidth = Math.max(10, ...data.stages.map((x) => x.state.length + 2));
  const lines: string[] = [];
  for (const st of data.stages) {
    // "never-run ← never run" says nothing twice; other reasons of a never-run stage (upstream pending) stay
    const job = jobs.get(st.id);
    const reasons = job ? st.reasons.map((r) => (r.type === 'running' ? { ...r, job } : r)) : st.reasons;
    const reasonLines = formatReasons(st.state === 'never-run' ? reasons.filter((r) => r.type !== 'never-run') : reasons);
    if (st.state === 'cached' && st.restorableFrom) reasonLines.push(`restorable from run #${st.restorableFrom.runId}`);
    if (st.state === 'fresh-by-lock') reasonLines.push('recorded in wsflow.lock: restorable from a remote (wsflow pull)');
    // a running stage's first reason already says where (its lease would say it twice)
    if (st.running && st.state !== 'running') {
      const where = `running now in pid ${st.running.pid} on ${st.running.host} (run #${st.running.runId})`;
      reasonLines.unshift(job ? `${where}: ${job.text}` : where);
    }
    const head = `${st.id.padEnd(idWidth)}  ${colorState(st.state, s)(st.state.padEnd(stateWidth))}`;
    if (reasonLines.length === 0) lines.push(head.trimEnd());
    reasonLines.forEach((r, i) => {
      lines.push(i === 0 ? `${head}← ${r}` : `${' '.repeat(idWidth + 2 + stateWidth)}← ${r}`);
    });
    for (const w of st.warnings) lines.push(`${' '.repeat(idWidth + 2 + stateWidth)}${s.yellow('⚠')} ${w}`);
  }
  const c = data.counts;
  const parts: string[] = [];
  if (c.stale) parts.push(`${c.stale} stale`);
  if (c['never-run']) parts.push(`${c['never-run']} never run`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.cached) parts.push(`${c.cached} restorable from cache`);
  if (c['fresh-by-lock']) parts.push(`${c['fresh-by-lock']} fresh by wsflow.lock (wsflow pull)`);
  if (c.fresh) parts.push(`${c.fresh} fresh`);
  lines.push(data.upToDate ? s.green(`Everything up to date (${c.fresh} stages)`) : parts.join(', '));
  return `${lines.join('\n')}\n`;
}

export async function statusCommand(pipeline: Pipeline, o: StatusCommandOptions, env: CommandEnv): Promise<number> {
  const selection = selectStages(pipeline, o.targets);
  if (!selection.ok) {
    env.stderr.write(`error: ${selection.error}\n`);
    return 2;
  }
  const project = openProjectForReading(pipeline, env.kindSource);
  try {
    const statics = computeAllStatic(project.ctx, selection.order);
    if (!statics.ok) {
      printPlanErrors(statics.errors, env);
      return 2;
    }
    const lock = readLock(pipeline.projectDir);
    if (!lock.ok) {
      env.stderr.write(`error: ${lock.error}\n`);
      return 2;
    }
    o.onPlanned?.();
    const statuses = lock.value
      ? assessAllWithLock(project.ctx, statics.value, selection.order, stagesOfProfile(lock.value, pipeline.profile))
      : assessAll(project.ctx, statics.value, selection.order);
    const report = await statusData(project.ctx, selection.order, statuses, env.executors);
    env.stdout.write(o.json ? `${JSON.stringify(report.data, null, 2)}\n` : renderStatus(report, styleFor(env.stdout)));
    return report.data.upToDate ? 0 : 1;
  } finally {
    project.close();
  }
}

export { MAX_SHOWN_REASONS };
