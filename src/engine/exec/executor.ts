/**
 * Executors run one stage somewhere and report its events; the scheduler decides what runs when and commits
 * results. `local` forks worker processes; a cluster executor submits `wsflow _run-stage SPEC.json` per stage
 * with the same spec, and relays the events that command writes. Everything particular to one executor (its
 * default slots, its settings in pipeline.yaml, what status shows about its jobs) sits behind ExecutorKind, in
 * the executor's own folder; the CLI names the kinds it offers (ExecutorCatalog).
 */
import type { Pipeline, PlannedStage } from '../../pipeline/types.js';
import type { StageRunEvent, StageRunOutcome, StageRunSpec } from './stage-spec.js';

export interface ExecuteRequest {
  spec: StageRunSpec;
  /** resource class and hints (cpus, memMB, timeMin, gpus) from pipeline.yaml */
  resources: PlannedStage['resources'];
  /** events as they happen (progress, log lines, stdout/stderr text, metrics, annotations) */
  onEvent(event: StageRunEvent): void;
  /** aborted on Ctrl-C / run cancellation: stop the stage, resolve with `interrupted` */
  signal: AbortSignal;
}

export interface StageExecutor {
  /** recorded with each execution: its kind's name */
  readonly name: string;
  /** Runs the stage to completion (the output is in spec.outDir or the cmd's outs), never throws. */
  execute(request: ExecuteRequest): Promise<StageRunOutcome>;
  /** Stops idle workers / cancels anything left; called once at the end of a run. */
  close(): Promise<void>;
}

/** What `wsflow status` shows about the job an executor runs for an execution (a cluster's job id and state…). */
export interface JobDescription {
  /** what --json reports under the executor's name (in `running` and in the `running` reason) */
  data: Readonly<Record<string, unknown>>;
  /** the text output's phrase, after "running now in … (run #n): " */
  text: string;
}

/** One way of running stages, as the CLI selects it with --executor. */
export interface ExecutorKind {
  /** the name --executor takes and each execution records */
  readonly name: string;
  /** stages of each class kept going at once when -j / --accel are not given */
  slots(given: { jobs?: number; accel?: number }): { jobs: number; accel: number };
  /** the executor for one run (its settings from pipeline.yaml's `executors.<name>`) */
  create(pipeline: Pipeline, env: { workerEntry: string }): Promise<StageExecutor>;
  /** For status: the jobs of the given running executions (those it still knows), by execution id. */
  describeJobs?(cacheDir: string, executionIds: readonly number[]): Promise<ReadonlyMap<number, JobDescription>>;
}

/** The executor kinds by name, each loaded when first needed (a no-op run loads none but the default's). */
export type ExecutorCatalog = ReadonlyMap<string, () => Promise<ExecutorKind>>;
