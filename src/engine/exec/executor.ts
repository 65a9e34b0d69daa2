/**
 * Executors run one stage somewhere and report its events; the scheduler decides what runs when and commits
 * results. `local` forks worker processes; a `slurm` executor (issue 7) submits `wsflow _run-stage SPEC.json`
 * per stage with the same spec, and relays the events that command writes.
 */
import type { PlannedStage } from '../../pipeline/types.js';
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
  /** recorded with each execution, e.g. "local" or "slurm" */
  readonly name: string;
  /** Runs the stage to completion (the output is in spec.outDir or the cmd's outs), never throws. */
  execute(request: ExecuteRequest): Promise<StageRunOutcome>;
  /** Stops idle workers / cancels anything left; called once at the end of a run. */
  close(): Promise<void>;
}
