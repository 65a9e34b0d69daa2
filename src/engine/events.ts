/**
 * What happens during a run, as a discriminated union. The scheduler only emits these; loggers (TTY with
 * progress bars, plain, JSON lines) turn them into output. Nothing in the engine prints.
 */
import type { Failure } from '../contract/failure.js';
import type { ProgressUpdate } from '../contract/stage-kind.js';
import type { Reason } from './plan/reasons.js';
import type { StageState } from './plan/stage-status.js';

export type SkipCause =
  | { type: 'upstream-failed'; upstream: string }
  | { type: 'stopped' }
  | { type: 'failed-unchanged'; error: string };

export type EngineEvent =
  | { type: 'run-start'; runId: number; stages: number; executor: string; jobs: number; accel: number }
  | { type: 'warning'; message: string; stageId?: string }
  | { type: 'stage-fresh'; stageId: string }
  | {
      type: 'stage-restored';
      stageId: string;
      fromRunId: number;
      fromExecutionId: number;
      /** when the restored result was produced (epoch ms) */
      producedAt: number;
      /** how long producing it took */
      savedMs: number;
      reasons: Reason[];
    }
  | { type: 'stage-waiting'; stageId: string; holderPid: number; holderHost: string; holderRunId: number }
  | {
      type: 'stage-start';
      stageId: string;
      executionId: number;
      resource: string;
      reasons: Reason[];
      /** set when this execution retries a failed one (--retries): retry n of `of` */
      retry?: RetryCount;
    }
  | { type: 'stage-progress'; stageId: string; update: ProgressUpdate }
  | { type: 'stage-log'; stageId: string; message: string }
  | { type: 'stage-annotate'; stageId: string; key: string; value: string | number | boolean }
  | {
      type: 'stage-succeeded';
      stageId: string;
      executionId: number;
      durationMs: number;
      backend: string | null;
      /** the output is byte-identical to the previous one: dependents will not rerun because of it */
      outputUnchanged: boolean;
    }
  | ({ type: 'stage-failed' } & StageFailure)
  /** an attempt failed and the stage runs again (--retries); the last attempt's failure is a stage-failed */
  | ({ type: 'stage-retry'; /** the retry about to start */ retry: RetryCount } & StageFailure)
  | { type: 'stage-interrupted'; stageId: string; executionId: number }
  | { type: 'stage-skipped'; stageId: string; cause: SkipCause }
  | { type: 'dry-run-stage'; stageId: string; state: StageState | 'pending'; action: DryRunAction; reasons: Reason[] }
  | {
      type: 'dry-run-end';
      toRun: number;
      toRestore: number;
      fresh: number;
      failedUnchanged: number;
      /** stages another run is executing: this one would wait for them and use their results */
      waiting: number;
    }
  /** after a run that left a report stage done (executed, restored or fresh): where its page is */
  | { type: 'report-ready'; stageId: string; path: string }
  | {
      type: 'run-end';
      runId: number | null;
      status: 'succeeded' | 'failed' | 'interrupted';
      durationMs: number;
      counts: RunCounts;
    };

/** What stage-failed and stage-retry say about the execution that failed. */
export interface StageFailure {
  stageId: string;
  executionId: number;
  durationMs: number;
  /** why it failed (describeFailure gives the line) */
  failure: Failure;
  logPath: string | null;
  /** last lines of the stage's output, for the failure report */
  logTail: string[];
}

export interface RetryCount {
  n: number;
  of: number;
}

export type DryRunAction = 'skip' | 'restore' | 'run' | 'run-unless-cut-off' | 'fail' | 'wait';

export interface RunCounts {
  fresh: number;
  restored: number;
  executed: number;
  failed: number;
  skipped: number;
  interrupted: number;
  waited: number;
  /** failed attempts that were run again (--retries) */
  retries: number;
}

export type EventSink = (event: EngineEvent) => void;
