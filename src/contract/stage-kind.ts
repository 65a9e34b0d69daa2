/**
 * The contract between the engine, the pipeline loader and stage kinds (stages/, or a project's own modules).
 * It imports nothing from src/pipeline, src/engine, src/core or stages/: all of them import it.
 *
 * The engine knows nothing about ML: it plans, fingerprints, schedules and caches stages through this interface.
 * A kind module must be cheap to import (no TensorFlow.js, no model code at top level): `wsflow status` imports
 * every kind to read its schema and version, and must stay fast. Heavy code lives behind `load()`, which runs
 * only inside a worker process.
 */

import { parseParams, type ObjectParamSchema, type ParamsOf } from './params.js';

export type ResourceClass = 'accel' | 'cpu';

/** A JSON schema object (draft 2020-12 / ajv). */
export type JsonSchema = Record<string, unknown>;

export type { ObjectParamSchema, ParamSchema, ParamsOf } from './params.js';

export interface InputSpec {
  description: string;
  /** true when the input accepts several upstream stages (e.g. `eval@*`). */
  multiple?: boolean;
  /** true when the stage can run without it. */
  optional?: boolean;
}

/** A file or directory outside the DAG that a stage reads (model weights, a dataset). Its content is part of the key. */
export interface ExternalInput {
  /** a short label for status/explain, e.g. "model" or "dataset" */
  label: string;
  /** absolute path of a file or directory */
  path: string;
}

export type ExternalInputsResult =
  | { ok: true; inputs: ExternalInput[] }
  | {
      ok: false;
      /** one clear sentence: what is missing, where we looked, how to get it */
      error: string;
      /** the `with:` key that named the missing thing, for the diagnostic's source location */
      param?: string;
    };

export interface UpstreamOutput {
  /** stage id, e.g. "train_pos@lora" */
  stageId: string;
  /** matrix values of that stage, e.g. {adapter: "lora"} */
  matrix: Readonly<Record<string, string | number | boolean>>;
  /** read-only directory holding that stage's output files */
  dir: string;
  /*
   * The execution that produced this output, from the state database (set by the engine; absent when a test builds
   * a context by hand). Provenance belongs here rather than in the upstream's output files: output that embeds its
   * run id or creation time is never byte-identical, so early cutoff could never stop a cascade.
   */
  /** that stage's key (sha256 hex) */
  key?: string;
  runId?: number;
  executionId?: number;
  /** when that execution finished, ISO 8601 (UTC) */
  finishedAt?: string;
  /** the host that ran it (for SLURM, the submitting host; the compute node is annotation `slurm_node`) */
  host?: string;
  /** what that execution recorded with ctx.annotate (e.g. backend); on SLURM also slurm_job and slurm_node */
  annotations?: Readonly<Record<string, string | number | boolean>>;
}

/** One global param whose value in this run differs from pipeline.yaml's `params:` (by a profile or `-S`). */
export interface ParamChange {
  /** dotted path, e.g. "train.lr" */
  path: string;
  value: unknown;
  /** the value `params:` declares (the pipeline's default) */
  default: unknown;
}

/**
 * How the pipeline was loaded for the run that executes a stage (set by the engine; absent when a test builds a
 * context by hand). Like runId these are facts of the execution, not of the stage's key: a stage that writes them
 * into its outputs gives up early cutoff, so only the report, which nothing downstream reads, shows them.
 */
export interface RunFacts {
  profile: string | null;
  /** the raw `-S key=value` strings, in order */
  overrides: readonly string[];
  /** sha256 (hex) of pipeline.yaml's bytes */
  pipelineSha256: string;
  /** global params the profile and overrides changed, by path */
  paramChanges: readonly ParamChange[];
}

export interface ProgressUpdate {
  done: number;
  total?: number;
  /** unit of done/total, e.g. "steps", "rows" */
  unit?: string;
  message?: string;
}

export interface StageContext {
  stageId: string;
  /** matrix values of this stage */
  matrix: Readonly<Record<string, string | number | boolean>>;
  /** the validated `with:` parameters, schema defaults applied */
  params: Readonly<Record<string, unknown>>;
  /** upstream outputs by input name (always an array; single inputs have one element) */
  inputs: Readonly<Record<string, readonly UpstreamOutput[]>>;
  /** an empty directory the stage fills; nothing else may be written */
  outDir: string;
  /** the project root (where pipeline.yaml lives); for resolving relative paths in params */
  projectDir: string;
  /** aborted on Ctrl-C or when the run is cancelled: stop promptly and throw */
  signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  log(message: string): void;
  /** record a metric in the state database (and the run log); `step` for curves such as training loss */
  metric(name: string, value: number, step?: number): void;
  /** record a provenance fact for this execution (e.g. backend: "wasm"), shown by `wsflow explain` */
  annotate(key: string, value: string | number | boolean): void;
  /** provenance (set by the engine; absent when a test builds a context by hand): the run and execution numbers
   *  of `wsflow explain`/the state db, and the stage's key (sha256 hex) */
  runId?: number;
  executionId?: number;
  key?: string;
  /** how the pipeline was loaded for this run (set by the engine; absent when a test builds a context by hand) */
  run?: RunFacts;
}

/**
 * Workers are reused: the engine runs the next stage of the same resource class in the same worker process, so
 * module-level state of the code behind `load()` (e.g. a loaded model, keyed by its directory and fingerprint)
 * survives from one stage to the next within a run. Keep at most what the next stage can use.
 */
export interface StageImplementation {
  run(ctx: StageContext): Promise<void>;
}

export interface StageKind {
  /** the name used in `uses:` */
  name: string;
  /** semantic version: bump when results would change; part of the key */
  version: string;
  /** one line for `wsflow kinds` and editors */
  description: string;
  /** JSON schema for `with:`; validated with ajv, errors reported at the offending YAML key */
  paramsSchema: JsonSchema;
  /** named inputs the kind expects from `needs:` */
  inputs: Readonly<Record<string, InputSpec>>;
  /**
   * The code whose results this kind's `version` vouches for: files or directories, absolute or (for built-ins)
   * relative to the built-in kinds directory. When any of it changes without a version bump, status and explain
   * warn (it never reruns). Default: the kind's own module file or directory. Built-ins list the shared libraries
   * they compute with too (stages/lib, src/core…), so an edited formula there is not silent.
   */
  codePaths?: readonly string[];
  /** resource class when the stage does not override it */
  resources: ResourceClass;
  /** external files the stage reads, resolved from its params; must be cheap and must not load ML libraries */
  externalInputs?(params: Readonly<Record<string, unknown>>, env: { projectDir: string }): ExternalInputsResult;
  /** load the implementation (dynamic import); called only in a worker process */
  load(): Promise<StageImplementation>;
}

/** Who is running: a stage reads its kind's name and version here (for provenance) instead of importing its index. */
export interface KindInfo {
  name: string;
  version: string;
}

/** What a kind defined with `defineKind` receives: the context with its params parsed and typed, and its identity. */
export interface KindContext<P> extends Omit<StageContext, 'params'> {
  params: Readonly<P>;
  kind: KindInfo;
}

export interface KindImplementation<P> {
  run(ctx: KindContext<P>): Promise<void>;
}

/** A stage kind whose params schema is declared once, as S; `externalInputs` and `run` receive `ParamsOf<S>`. */
export interface KindDefinition<S extends ObjectParamSchema> extends Omit<StageKind, 'paramsSchema' | 'externalInputs' | 'load'> {
  paramsSchema: S;
  externalInputs?(params: Readonly<ParamsOf<S>>, env: { projectDir: string }): ExternalInputsResult;
  load(): Promise<KindImplementation<ParamsOf<S>>>;
}

/**
 * The StageKind the engine sees for a typed definition: params are parsed against the schema once, at the boundary
 * (planning's externalInputs, the worker's run); a value that does not fit is a planning error naming the key, or
 * a stage failure naming it.
 */
export function defineKind<const S extends ObjectParamSchema>(def: KindDefinition<S>): StageKind {
  const { paramsSchema, externalInputs, load, ...rest } = def;
  const info: KindInfo = { name: def.name, version: def.version };
  const kind: StageKind = {
    ...rest,
    paramsSchema,
    async load() {
      const impl = await load();
      return {
        async run(ctx) {
          const parsed = parseParams(paramsSchema, ctx.params);
          if (!parsed.ok) throw new Error(`stage ${ctx.stageId}: with.${parsed.error.param}: ${parsed.error.message}`);
          await impl.run({ ...ctx, params: parsed.value, kind: info });
        },
      };
    },
  };
  if (externalInputs !== undefined) {
    kind.externalInputs = (params, env) => {
      const parsed = parseParams(paramsSchema, params);
      if (!parsed.ok) return { ok: false, param: parsed.error.param, error: `${parsed.error.param}: ${parsed.error.message}` };
      return externalInputs(parsed.value, env);
    };
  }
  return kind;
}
