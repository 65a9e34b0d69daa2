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
import { err, ok, type Result } from './result.js';

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

/** Why a stage's external inputs cannot be resolved. */
export interface ExternalInputsProblem {
  /** one clear sentence: what is missing, where we looked, how to get it */
  message: string;
  /** the `with:` key that named the missing thing, for the diagnostic's source location */
  param?: string;
}

/** What a kind's `externalInputs` returns: the repository's one Result. */
export type ExternalInputsResult = Result<ExternalInput[], ExternalInputsProblem>;

/**
 * The shape project-local kinds written before the one Result (before the contract took the one Result) return: `{ok, inputs}` or
 * `{ok: false, error: string, param?}`. Still accepted from a plain `StageKind`, so a user's kind module keeps working;
 * `externalInputsOf` turns either shape into an ExternalInputsResult.
 */
export type LegacyExternalInputsResult =
  | { ok: true; inputs: ExternalInput[] }
  | { ok: false; error: string; param?: string };

/**
 * Calls a kind's externalInputs (if any) and returns one ExternalInputsResult, whatever shape the kind answered in.
 * A kind that throws, or answers something else, is reported as a problem rather than crashing planning.
 */
export function externalInputsOf(
  kind: Pick<StageKind, 'name' | 'externalInputs'>,
  params: Readonly<Record<string, unknown>>,
  env: { projectDir: string },
): ExternalInputsResult {
  if (kind.externalInputs === undefined) return ok([]);
  let res: unknown;
  try {
    res = kind.externalInputs(params, env);
  } catch (e) {
    return err({ message: `kind ${kind.name}: externalInputs threw: ${e instanceof Error ? e.message : String(e)}` });
  }
  return normaliseExternalInputs(kind.name, res);
}

function normaliseExternalInputs(kindName: string, res: unknown): ExternalInputsResult {
  const bad = err({ message: `kind ${kindName}: externalInputs must return {ok: true, value: [{label, path}, …]} or {ok: false, error: {message}}` });
  if (typeof res !== 'object' || res === null || !('ok' in res)) return bad;
  const r = res as Record<string, unknown>;
  if (r['ok'] === true) {
    const list = Array.isArray(r['value']) ? r['value'] : Array.isArray(r['inputs']) ? r['inputs'] : null;
    if (list === null || !list.every(isExternalInput)) return bad;
    return ok(list);
  }
  if (r['ok'] !== false) return bad;
  const param = typeof r['param'] === 'string' ? r['param'] : undefined;
  const e = r['error'];
  if (typeof e === 'string') return err(param === undefined ? { message: e } : { message: e, param });
  if (typeof e === 'object' && e !== null && typeof (e as Record<string, unknown>)['message'] === 'string') {
    const problem = e as ExternalInputsProblem;
    return err(problem.param === undefined ? { message: problem.message } : { message: problem.message, param: problem.param });
  }
  return bad;
}

function isExternalInput(x: unknown): x is ExternalInput {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o['label'] === 'string' && typeof o['path'] === 'string';
}

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
  /**
   * External files the stage reads, resolved from its params; must be cheap and must not load ML libraries.
   * Callers go through `externalInputsOf`, which also accepts the older `{ok, inputs}` shape from project-local kinds.
   */
  externalInputs?(params: Readonly<Record<string, unknown>>, env: { projectDir: string }): ExternalInputsResult | LegacyExternalInputsResult;
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
      if (!parsed.ok) return err({ param: parsed.error.param, message: `${parsed.error.param}: ${parsed.error.message}` });
      return externalInputs(parsed.value, env);
    };
  }
  return kind;
}
