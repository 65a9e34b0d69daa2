/**
 * The `model` stage: writes model-ref.json for a resolved model, or generates the tiny random Qwen3 into the
 * output directory (then model-ref.json beside it).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeModelDir, resolveModelDir } from '../../src/core/model-dir.js';
import { writeTinyQwen3 } from '../../src/core/tiny-qwen3.js';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { readJsonFile } from '../lib/json-file.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { checkModelParams, type ModelParamValues, type TinyParams } from './params.js';
import { describeFiles, fingerprintOf, MODEL_REF_FILE, MODEL_REF_SCHEMA, type ModelRef, type ModelRefFile } from '../lib/model/model-ref.js';

export function tinyModelId(t: TinyParams): string {
  return `tiny-random-qwen3(seed=${t.seed}, layers=${t.layers}, hidden=${t.hidden_size}, intermediate=${t.intermediate_size}, heads=${t.heads}/${t.kv_heads}, head_dim=${t.head_dim}, ${t.dtype}${t.planted ? ', planted honesty' : ''})`;
}

function configDims(dir: string): { num_layers: number; hidden_size: number } {
  const cfg = readJsonFile<Record<string, unknown>>(join(dir, 'config.json'));
  return { num_layers: Number(cfg['num_hidden_layers']), hidden_size: Number(cfg['hidden_size']) };
}

/** sha256 of each file, with progress: 1 GB of weights takes a few seconds. */
function fingerprintFiles(ctx: KindContext<ModelParamValues>, paths: readonly string[]): ModelRefFile[] {
  return paths.map((p, i) => {
    if (ctx.signal.aborted) throw new Error('aborted');
    const [d] = describeFiles([p]);
    ctx.progress({ done: i + 1, total: paths.length, unit: 'files' });
    return d as ModelRefFile;
  });
}

async function run(ctx: KindContext<ModelParamValues>): Promise<void> {
  const checked = checkModelParams(ctx.params);
  if (!checked.ok) throw new Error(checked.error.message);
  let ref: ModelRef;
  if (checked.value.tiny !== undefined) {
    const t = checked.value.tiny;
    ctx.log(`generating ${tinyModelId(t)}`);
    writeTinyQwen3(ctx.outDir, {
      seed: t.seed,
      numLayers: t.layers,
      hiddenSize: t.hidden_size,
      intermediateSize: t.intermediate_size,
      numHeads: t.heads,
      numKvHeads: t.kv_heads,
      headDim: t.head_dim,
      dtype: t.dtype,
      planted: t.planted,
    });
    const md = describeModelDir(ctx.outDir);
    if (!md.ok) throw new Error(`internal: the generated tiny model is not loadable: ${md.error}`);
    const files = fingerprintFiles(ctx, md.value.files);
    ref = { schema: MODEL_REF_SCHEMA, source: 'tiny', id: tinyModelId(t), revision: null, random: true, fingerprint: fingerprintOf(files), files, ...configDims(ctx.outDir) };
  } else {
    const id = checked.value.id;
    const resolved = resolveModelDir(id, { baseDir: ctx.projectDir });
    if (!resolved.ok) throw new Error(resolved.error);
    const md = resolved.value;
    ctx.log(`model ${id} → ${md.dir}${md.revision === undefined ? '' : ` (snapshot ${md.revision})`}; fingerprinting ${md.files.length} files`);
    const files = fingerprintFiles(ctx, md.files);
    ref = { schema: MODEL_REF_SCHEMA, source: md.source, id, revision: md.revision ?? null, random: false, fingerprint: fingerprintOf(files), files, ...configDims(md.dir) };
  }
  writeFileSync(join(ctx.outDir, MODEL_REF_FILE), `${JSON.stringify(ref, null, 2)}\n`);
  ctx.annotate('model', ref.id);
  ctx.annotate('model_fingerprint', ref.fingerprint);
  writeStageProvenance(ctx, {
    kind: ctx.kind.name,
    version: ctx.kind.version,
    model: ref.id,
    model_fingerprint: ref.fingerprint,
    model_random: ref.random,
    dataset: null,
    dataset_fingerprint: null,
    dataset_synthetic: false,
    backend: null,
  });
}

export const modelImplementation: KindImplementation<ModelParamValues> = { run };
