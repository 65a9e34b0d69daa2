/**
 * What it takes to run one stage, as plain JSON: the message a local worker receives, and the file that
 * `wsflow _run-stage SPEC.json` reads (so a cluster executor submits exactly what the local worker runs).
 */
import type { Result } from '../../contract/result.js';
import type { Failure } from '../../contract/failure.js';
import type { MatrixValue } from '../../pipeline/types.js';
import type { ProgressUpdate, RunFacts, UpstreamOutput } from '../../contract/stage-kind.js';

export type StageRunSource =
  | {
      type: 'kind';
      /** kind name */
      name: string;
      /** absolute path of a project-local kind module (default export or export `kind`) */
      modulePath?: string;
      /** absolute path of the module exporting `builtinKinds` (a Map), for built-in kinds */
      registryModule?: string;
    }
  | { type: 'cmd'; cmd: string };

export interface StageRunSpec {
  stageId: string;
  runId: number;
  executionId: number;
  key: string;
  matrix: Readonly<Record<string, MatrixValue>>;
  source: StageRunSource;
  params: Readonly<Record<string, unknown>>;
  inputs: Readonly<Record<string, readonly UpstreamOutput[]>>;
  /** empty directory the stage fills (kinds); cmd stages write their outs in the project */
  outDir: string;
  projectDir: string;
  /** how the pipeline was loaded for this run (the report's header shows it) */
  run?: RunFacts;
}

/** Events a running stage reports (worker → scheduler, or `_run-stage` → its events file). */
export type StageRunEvent =
  | { type: 'progress'; update: ProgressUpdate }
  | { type: 'log'; message: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'metric'; name: string; value: number; step?: number }
  | { type: 'annotate'; key: string; value: string | number | boolean };

/** How one execution ended: `ok(null)`, or why it failed. */
export type StageRunOutcome = Result<null, Failure>;

/** Parent → worker. */
export type WorkerRequest = { type: 'run'; spec: StageRunSpec; seq: number } | { type: 'abort' };

/** Worker → parent. */
export type WorkerReply = { type: 'ready' } | { type: 'event'; event: StageRunEvent } | { type: 'finished'; outcome: StageRunOutcome };

/**
 * Written by a worker to its stdout and stderr after a stage finishes and before it reports so: output before the
 * marker belongs to that stage (pipes and the IPC channel are not ordered with respect to each other).
 */
export function outputEndMarker(seq: number): string {
  return `\u0000wsflow-end-${seq}\u0000\n`;
}
