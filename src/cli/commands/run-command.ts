/**
 * `wsflow run [TARGET...]`: plan (exit 2 on a planning error, writing nothing), then either print what would
 * happen (`--dry-run`) or bring the targets up to date.
 */
import type { Pipeline } from '../../pipeline/types.js';
import type { EventSink } from '../../engine/events.js';
import { ConsoleLogger, jsonLinesSink, type RunPlan } from '../loggers/console-logger.js';
import { previousDurations } from '../../engine/api/stage-durations.js';
import { REPORT_KIND, REPORT_PAGE } from '../report-page.js';
import path from 'node:path';
import { colorWanted } from '../loggers/style.js';
import type { StageExecutor } from '../../engine/exec/executor.js';
import type { EngineContext } from '../../engine/plan/engine-context.js';
import type { StaticIngredients } from '../../engine/plan/static-ingredients.js';
import type { StageStatus } from '../../engine/plan/stage-status.js';
import { selectStages } from '../../engine/plan/select-stages.js';
import { matchTarget, unknownTarget } from '../../pipeline/select-targets.js';
import { err, ok, type Result } from '../../contract/result.js';
import { computeAllStatic } from '../../engine/plan/static-ingredients.js';
import { openProjectForReading, openProjectForWriting } from '../../engine/project.js';
import type { RunResult } from '../../engine/run/run-pipeline.js';
import { assessAllFresh, recordNoopRun } from '../../engine/run/noop-run.js';
import { printPlanErrors, type CommandEnv } from '../command-env.js';
import { updateLockAfterRun } from '../../engine/lock/update-lock.js';

export interface RunCommandOptions {
  targets: readonly string[];
  /**
   * `-R/--force TARGET` (Snakemake's -R; DVC's repro -f): stages run again although fresh or cached, selected like
   * targets (ids, names, patterns) and added to them; their dependents rerun only if the output changed
   */
  force?: readonly string[];
  /** `-F/--force-all`: every selected stage runs again */
  forceAll?: boolean;
  jobs?: number;
  accel?: number;
  keepGoing: boolean;
  /** times a failed stage is run again before it counts as failed (--retries; default 0) */
  retries?: number;
  dryRun: boolean;
  json: boolean;
  verbose: boolean;
  argv: readonly string[];
  /** watch mode: failed keys not retried */
  skipFailedKeys?: ReadonlySet<string>;
  /** where stages run: a name in env.executors (default: its first) */
  executor?: string;
  /** called once planning succeeded, before anything is written (the CLI saves its pipeline load cache) */
  onPlanned?: () => void;
}

/** The executor, and how many stages of each class it keeps going at once (its kind's defaults for -j/--accel). */
async function executorFor(
  name: string | undefined,
  pipeline: Pipeline,
  o: Pick<RunCommandOptions, 'jobs' | 'accel'>,
  env: CommandEnv,
): Promise<{ executor: StageExecutor; jobs: number; accel: number }> {
  const load = name === undefined ? env.executors.values().next().value : env.executors.get(name);
  if (!load) throw new Error(`unknown executor ${name ?? '(none configured)'}`);
  const kind = await load();
  const slots = kind.slots({ ...(o.jobs !== undefined ? { jobs: o.jobs } : {}), ...(o.accel !== undefined ? { accel: o.accel } : {}) });
  return { executor: await kind.create(pipeline, { workerEntry: env.workerEntry }), ...slots };
}

export function makeSink(env: CommandEnv, json: boolean, verbose: boolean, plan?: () => RunPlan): { sink: EventSink; stop(): void } {
  if (json) return { sink: jsonLinesSink(env.stdout), stop: () => undefined };
  const logger = new ConsoleLogger({ out: env.stdout, color: colorWanted(env.stdout), live: env.stdout.isTTY === true, verbose, ...(plan ? { plan } : {}) });
  return { sink: logger.sink, stop: () => logger.stop() };
}

export interface RunCommandResult {
  exitCode: number;
  result: RunResult | null;
}

export async function runCommand(pipeline: Pipeline, o: RunCommandOptions, env: CommandEnv, signal: AbortSignal): Promise<RunCommandResult> {
  const forceTargets = o.force ?? [];
  // forced stages are targets too; with only forced stages named, the run is just them and what they need
  const targets = forceTargets.length > 0 && o.targets.length === 0 ? forceTargets : [...o.targets, ...forceTargets];
  const selection = selectStages(pipeline, targets);
  if (!selection.ok) {
    env.stderr.write(`error: ${selection.error}\n`);
    return { exitCode: 2, result: null };
  }
  const force = forcedStages(pipeline, forceTargets, o.forceAll === true ? selection.value.order : null);
  if (!force.ok) {
    env.stderr.write(`error: ${force.error}\n`);
    return { exitCode: 2, result: null };
  }
  const reading = openProjectForReading(pipeline, env.kindSource);
  let project = reading;
  try {
    const statics = computeAllStatic(reading.ctx, selection.value.order);
    if (!statics.ok) {
      printPlanErrors(statics.error, env);
      return { exitCode: 2, result: null };
    }
    o.onPlanned?.();
    const order = selection.value.order;
    // the durations are read when the logger first draws progress, from the database the run is writing to
    const { sink, stop } = makeSink(env, o.json, o.verbose, () => runPlan(pipeline, order, previousDurations(project.ctx.store, order)));
    if (o.dryRun) {
      const { dryRun } = await import('../../engine/run/dry-run.js');
      dryRun(reading.ctx, statics.value, selection.value.order, sink, o.skipFailedKeys, force.value);
      stop();
      return { exitCode: 0, result: null };
    }
    project = openProjectForWriting(reading);
    const { executor, jobs, accel } = await executorFor(o.executor, pipeline, o, env);
    let result: RunResult;
    try {
      // nothing to do: recorded without the scheduler, whose code a no-op run then never loads (noop-run.ts)
      const fresh = force.value.size === 0 && !signal.aborted ? noopCheck(project.ctx, statics.value, order) : null;
      if (fresh) {
        result = recordNoopRun({ ctx: project.ctx, statics: statics.value, order, fresh, argv: o.argv, executor: executor.name, jobs, accel, emit: sink });
      } else {
        const { runPipeline } = await import('../../engine/run/run-pipeline.js');
        result = await runPipeline({
          ctx: project.ctx,
          statics: statics.value,
          order,
          executor,
          jobs,
          accel,
          keepGoing: o.keepGoing,
          retries: o.retries ?? 0,
          argv: o.argv,
          emit: sink,
          signal,
          ...(o.skipFailedKeys ? { skipFailedKeys: o.skipFailedKeys } : {}),
          ...(force.value.size > 0 ? { force: force.value } : {}),
        });
      }
    } finally {
      stop();
      await executor.close();
    }
    announceReports(pipeline, result, sink);
    const exitCode = result.status === 'succeeded' ? 0 : result.status === 'interrupted' ? 130 : 1;
    if (exitCode === 0) {
      const locked = updateLockAfterRun(pipeline, env.kindSource, selection.value.order, { fresh: result.freshStatuses, store: project.ctx.store, hasher: project.ctx.hasher });
      if (!locked.ok) env.stderr.write(`warning: wsflow.lock not updated: ${locked.error}\n`);
    }
    return { exitCode, result };
  } finally {
    project.close();
  }
}

/** What the overall ETA is estimated from: each stage's upstream stages, class and previous duration. */
function runPlan(pipeline: Pipeline, order: readonly string[], durations: ReadonlyMap<string, number>): RunPlan {
  return {
    stages: order.map((id) => {
      const stage = pipeline.stages.get(id);
      return {
        id,
        upstream: [...new Set(Object.values(stage?.needs ?? {}).flat())],
        class: stage?.resources.class ?? 'cpu',
        expectedMs: durations.get(id),
      };
    }),
  };
}

/**
 * Every selected stage's status if all are fresh, else null. Checked right after the load, so it may take the
 * load's stats of the outs; the scheduler may not (its checks follow executions). An assessment that throws is
 * the scheduler's to report, stage by stage, as it does for every other run.
 */
function noopCheck(ctx: EngineContext, statics: ReadonlyMap<string, StaticIngredients>, order: readonly string[]): Map<string, StageStatus> | null {
  ctx.hasher.primeStats(ctx.pipeline.outStats);
  try {
    return assessAllFresh(ctx, statics, order);
  } catch {
    return null;
  } finally {
    ctx.hasher.forgetPrimedStats();
  }
}

/** The stage ids each force target names, without what they need (those are only selected); all: every selected stage. */
function forcedStages(pipeline: Pipeline, targets: readonly string[], all: readonly string[] | null): Result<Set<string>, string> {
  if (all) return ok(new Set(all));
  const ids = new Set<string>();
  for (const t of targets) {
    const named = matchTarget(pipeline, t);
    if (named.length === 0) return err(unknownTarget(pipeline, t));
    for (const id of named) ids.add(id);
  }
  return ok(ids);
}

/** The page of every built-in report stage this run left done, after the run's summary line. */
function announceReports(pipeline: Pipeline, result: RunResult, sink: EventSink): void {
  for (const [stageId, outcome] of result.outcomes) {
    if (outcome !== 'executed' && outcome !== 'restored' && outcome !== 'fresh') continue;
    const stage = pipeline.stages.get(stageId);
    if (stage?.source.type !== 'kind' || stage.source.uses !== REPORT_KIND || stage.source.modulePath !== undefined) continue;
    sink({ type: 'report-ready', stageId, path: path.join(pipeline.projectDir, stage.outDir, REPORT_PAGE) });
  }
}
