/**
 * The provenance contract: every stage that produces numbers the report shows writes `provenance.json` into its
 * output directory, next to its data files: which model, dataset and backend the numbers came from.
 *
 * The file holds only facts that follow from the stage's inputs and params (on a given backend), never the run,
 * the key or the time of the execution that wrote it: an output that embeds those is never byte-identical to a
 * rerun's, so the engine's early cutoff could not stop a cascade at it. Those facts belong to the execution; the
 * engine records them and hands them downstream with each input (UpstreamOutput.runId, key, finishedAt, host,
 * annotations), which is where the report reads them.
 *
 * Cheap to import (no ML, no vega): producing stages import `writeStageProvenance` from here.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/contract/stage-kind.js';

export const PROVENANCE_FILE = 'provenance.json';
export const PROVENANCE_SCHEMA = 'wsflow.provenance/2';
/** the schema before run ids, keys and dates moved to the engine; its files are read as /2 (extra keys ignored) */
const PROVENANCE_SCHEMA_V1 = 'wsflow.provenance/1';

export interface Provenance {
  schema: typeof PROVENANCE_SCHEMA;
  /** e.g. "eval@lora" (part of the stage's key, so it cannot differ between two executions of one key) */
  stage_id: string;
  /** the stage kind, e.g. "eval-dilemmas" */
  kind: string;
  /** the kind's semantic version */
  version: string;
  /** model id or path as written in pipeline.yaml (null for stages without a model) */
  model: string | null;
  model_fingerprint: string | null;
  /** true for a randomly initialised model (the smoke profile's tiny Qwen3) */
  model_random: boolean;
  /** dataset id or path (null for stages without a dataset) */
  dataset: string | null;
  dataset_fingerprint: string | null;
  /** true for the shipped synthetic dilemma set */
  dataset_synthetic: boolean;
  /** TensorFlow.js backend the numbers were computed on (null when no tensor math ran) */
  backend: string | null;
}

/** What a stage knows about its own computation; the stage id comes from the context. */
export type StageFacts = Omit<Provenance, 'schema' | 'stage_id'>;

/** Writes `provenance.json` into `outDir`. */
export function writeProvenance(outDir: string, init: Omit<Provenance, 'schema'>): Provenance {
  const record: Provenance = {
    schema: PROVENANCE_SCHEMA,
    stage_id: init.stage_id,
    kind: init.kind,
    version: init.version,
    model: init.model,
    model_fingerprint: init.model_fingerprint,
    model_random: init.model_random,
    dataset: init.dataset,
    dataset_fingerprint: init.dataset_fingerprint,
    dataset_synthetic: init.dataset_synthetic,
    backend: init.backend,
  };
  writeFileSync(join(outDir, PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Writes `provenance.json` for the running stage. */
export function writeStageProvenance(ctx: Pick<StageContext, 'stageId' | 'outDir'>, facts: StageFacts): Provenance {
  return writeProvenance(ctx.outDir, { ...facts, stage_id: ctx.stageId });
}

export type ProvenanceRead =
  | { status: 'ok'; provenance: Provenance }
  | { status: 'missing' }
  | { status: 'invalid'; error: string };

const STRING_FIELDS = ['stage_id', 'kind', 'version'] as const;
const NULLABLE_STRING_FIELDS = ['model', 'model_fingerprint', 'dataset', 'dataset_fingerprint', 'backend'] as const;
const BOOLEAN_FIELDS = ['model_random', 'dataset_synthetic'] as const;

/** Reads and checks `provenance.json` of an upstream output directory. A missing file is not an error. */
export function readProvenance(dir: string): ProvenanceRead {
  const file = join(dir, PROVENANCE_FILE);
  if (!existsSync(file)) return { status: 'missing' };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { status: 'invalid', error: `${file}: not valid JSON (${(err as Error).message})` };
  }
  const error = provenanceShapeError(data);
  if (error !== null) return { status: 'invalid', error: `${file}: ${error}` };
  const o = data as Provenance;
  return {
    status: 'ok',
    provenance: {
      schema: PROVENANCE_SCHEMA,
      stage_id: o.stage_id,
      kind: o.kind,
      version: o.version,
      model: o.model,
      model_fingerprint: o.model_fingerprint,
      model_random: o.model_random,
      dataset: o.dataset,
      dataset_fingerprint: o.dataset_fingerprint,
      dataset_synthetic: o.dataset_synthetic,
      backend: o.backend,
    },
  };
}

function provenanceShapeError(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const o = data as Record<string, unknown>;
  if (o.schema !== PROVENANCE_SCHEMA && o.schema !== PROVENANCE_SCHEMA_V1) {
    return `key "schema" must be "${PROVENANCE_SCHEMA}", got ${JSON.stringify(o.schema)}`;
  }
  for (const key of STRING_FIELDS) {
    if (typeof o[key] !== 'string') return `key "${key}" must be a string, got ${JSON.stringify(o[key])}`;
  }
  for (const key of NULLABLE_STRING_FIELDS) {
    if (o[key] !== null && typeof o[key] !== 'string') {
      return `key "${key}" must be a string or null, got ${JSON.stringify(o[key])}`;
    }
  }
  for (const key of BOOLEAN_FIELDS) {
    if (typeof o[key] !== 'boolean') return `key "${key}" must be true or false, got ${JSON.stringify(o[key])}`;
  }
  return null;
}
