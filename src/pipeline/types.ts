import type { BigIntStats } from 'node:fs';

/**
 * The expanded pipeline: what the loader (src/pipeline) hands to the engine (src/engine).
 * Every stage here is concrete: matrices expanded, `${...}` interpolated, profile and -S overrides applied,
 * `needs:`/`deps:` resolved to stage ids, `with:` validated against the kind's schema.
 */
import type { ResourceClass, RunFacts, StageKind } from '../contract/stage-kind.js';

/** A position in a source file, 1-based line and column; offset/length in UTF-16 code units. */
export interface SourceSpan {
  /** the pipeline file as the caller named it in loadPipeline's `file` option (the CLI passes a cwd-relative path) */
  file: string;
  line: number;
  col: number;
  offset: number;
  length: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  /** one-line cause */
  message: string;
  /** the offending text (absent only when no source position exists, e.g. a missing file) */
  span?: SourceSpan;
  /** further locations, e.g. each edge of a cycle */
  notes?: { message: string; span?: SourceSpan }[];
}

export type MatrixValue = string | number | boolean;

/** Where a stage comes from: a built-in or project-local kind (`uses:`), or a shell command (`cmd:`). */
export type StageSource =
  | {
      type: 'kind';
      /** as written in `uses:` (a built-in name, or a project-relative module path such as ./kinds/x.js) */
      uses: string;
      /** absolute path of the module file when `uses:` names a project-local module (its content is fingerprinted) */
      modulePath?: string;
    }
  | {
      type: 'cmd';
      /** the command after interpolation */
      cmd: string;
    };

/** One parameter that went into a stage's key, with where its value came from (for explanations). */
export interface ParamBinding {
  /** the key under which the stage sees it: a `with:` path for kinds (e.g. "anchor"), the declared key for cmd */
  key: string;
  value: unknown;
  /**
   * the global param it was interpolated from, e.g. "prompt.anchor" (absent for literals and matrix values);
   * when one value interpolates several params they are listed, separated by ", "
   */
  from?: string;
}

export interface PlannedStage {
  /** unique id: name, or name@matrix-values for foreach stages, e.g. "train_pos@lora" */
  id: string;
  /** the stage's name in pipeline.yaml, e.g. "train_pos" */
  name: string;
  /** matrix values of this instance ({} when not a foreach stage) */
  matrix: Readonly<Record<string, MatrixValue>>;
  source: StageSource;
  /** resolved parameters: for kinds the validated `with:` object (defaults applied); for cmd the declared params */
  params: Readonly<Record<string, unknown>>;
  /** provenance of each param for status/explain ("param prompt.anchor ...") */
  paramBindings: readonly ParamBinding[];
  /**
   * upstream stage ids by input name (kinds: names from `needs:`; cmd: `needs:` plus upstreams found through `deps:`,
   * the input name of a deps-found upstream being the upstream stage's name, as for list-form needs)
   */
  needs: Readonly<Record<string, readonly string[]>>;
  /** project-relative files/dirs a cmd stage reads that no stage produces (content-hashed) */
  deps: readonly string[];
  /** project-relative paths a cmd stage writes (cached and restored); for kinds: [outDir] */
  outs: readonly string[];
  /** project-relative directory where a kind stage's output is materialised (e.g. out/honesty/lora/train_pos); '' for cmd stages */
  outDir: string;
  resources: {
    class: ResourceClass;
    /** optional hints for cluster executors */
    cpus?: number;
    memMB?: number;
    timeMin?: number;
    gpus?: number;
  };
  /** `description:` from pipeline.yaml */
  description?: string;
  /** where the stage is declared (its key in `stages:`) */
  span?: SourceSpan;
  /** where each of `outs` is written (a kind's default out: the stage's key), for checks made after loading */
  outSpans?: readonly SourceSpan[];
}

export interface Pipeline {
  /** absolute path of pipeline.yaml */
  file: string;
  /** the project root (directory of pipeline.yaml) */
  projectDir: string;
  profile: string | null;
  /** global params after profile and -S overrides */
  params: Readonly<Record<string, unknown>>;
  /** how this load came about (file hash, overrides, params changed from `params:`), for the report's header */
  origin?: RunFacts;
  stages: ReadonlyMap<string, PlannedStage>;
  /** stage ids in a topological order (upstream first), ties broken by declaration order */
  order: readonly string[];
  /** the stage kinds the stages use, keyed by `uses:` as written (the very objects their `with:` was validated against) */
  kinds: ReadonlyMap<string, StageKind>;
  /** non-fatal findings (e.g. unused params) */
  warnings: readonly Diagnostic[];
  /** `executors:` settings for executors other than local (absent when pipeline.yaml has none) */
  executors?: ExecutorSettings;
  /**
   * What each out that was a plain file looked like when the load checked the outs on disk (its lstat, by absolute
   * path): the assessment that follows at once takes these instead of a second stat per out, and empties the map
   * (FileHasher.primeStats), so a pipeline object kept for later never hands on old stats. Never part of the load
   * cache.
   */
  outStats?: Map<string, BigIntStats>;
}

/**
 * `executors:` in pipeline.yaml, as the schema validates it: each executor's settings as written, keyed by the
 * executor's name; the executor reads its own (the loader knows no executor).
 */
export type ExecutorSettings = Readonly<Record<string, Readonly<Record<string, unknown>>>>;
