/**
 * The provenance contract: every stage that produces numbers the report shows writes `provenance.json` into its
 * output directory, next to its data files. The engine hands the report only directories, so this small file is
 * how a number in the report can name the model, the dataset, the backend and the execution it came from.
 *
 * Cheap to import (no ML, no vega): producing stages import `writeProvenance` from here.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/engine/stage-kind.js';

export const PROVENANCE_FILE = 'provenance.json';
export const PROVENANCE_SCHEMA = 'wsflow.provenance/1';

export interface Provenance {
  schema: typeof PROVENANCE_SCHEMA;
  /** e.g. "eval@lora" */
  stage_id: string;
  /** the stage kind, e.g. "eval-dilemmas" */
  kind: string;
  /** the kind's semantic version */
  version: string;
  /** the run that executed the stage (null when the engine did not say) */
  run_id: string | null;
  /** the stage's content key (null when the engine did not say) */
  stage_key: string | null;
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
  /** ISO 8601 time the stage wrote its outputs */
  created: string;
}

export type ProvenanceInit = Omit<Provenance, 'schema' | 'created' | 'run_id' | 'stage_key'> & {
  run_id?: string | null;
  stage_key?: string | null;
  created?: string;
};

/** Writes `provenance.json` into `outDir`. Call it last, after the data files, so its date is when they exist. */
export function writeProvenance(outDir: string, init: ProvenanceInit): Provenance {
  const record: Provenance = {
    schema: PROVENANCE_SCHEMA,
    stage_id: init.stage_id,
    kind: init.kind,
    version: init.version,
    run_id: init.run_id ?? null,
    stage_key: init.stage_key ?? null,
    model: init.model,
    model_fingerprint: init.model_fingerprint,
    model_random: init.model_random,
    dataset: init.dataset,
    dataset_fingerprint: init.dataset_fingerprint,
    dataset_synthetic: init.dataset_synthetic,
    backend: init.backend,
    created: init.created ?? new Date().toISOString(),
  };
  writeFileSync(join(outDir, PROVENANCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** What a stage knows about its own computation; the engine-given identity comes from the context. */
export type StageFacts = Omit<ProvenanceInit, 'stage_id' | 'run_id' | 'stage_key' | 'created'>;

/**
 * Writes `provenance.json` for the running stage: stage id, run id and key from the engine's context, the rest
 * from the stage. Call it after the data files are written.
 */
export function writeStageProvenance(ctx: Pick<StageContext, 'stageId' | 'outDir' | 'runId' | 'key'>, facts: StageFacts): Provenance {
  return writeProvenance(ctx.outDir, {
    ...facts,
    stage_id: ctx.stageId,
    run_id: ctx.runId === undefined ? null : String(ctx.runId),
    stage_key: ctx.key ?? null,
  });
}

export type ProvenanceRead =
  | { status: 'ok'; provenance: Provenance }
  | { status: 'missing' }
  | { status: 'invalid'; error: string };

const STRING_FIELDS = ['stage_id', 'kind', 'version', 'created'] as const;
const NULLABLE_STRING_FIELDS = [
  'run_id',
  'stage_key',
  'model',
  'model_fingerprint',
  'dataset',
  'dataset_fingerprint',
  'backend',
] as const;
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
  return { status: 'ok', provenance: data as Provenance };
}

function provenanceShapeError(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const o = data as Record<string, unknown>;
  if (o.schema !== PROVENANCE_SCHEMA) {
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
  if (Number.isNaN(Date.parse(o.created as string))) {
    return `key "created" must be an ISO 8601 date, got ${JSON.stringify(o.created)}`;
  }
  return null;
}
