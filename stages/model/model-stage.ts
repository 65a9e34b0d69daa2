/**
 * The `model` stage: writes model-ref.json for a resolved model, or generates the tiny random Qwen3 into the
 * output directory (then model-ref.json beside it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveModelDir } from '../../src/core/model-dir.js';
import { writeTinyQwen3 } from '../../src/core/tiny-qwen3.js';
import type { StageContext, StageImplementation } from '../../src/engine/stage-kind.js';
import { writeStageProvenance } from '../report/provenance.js';
import { checkModelParams, MODEL_KIND_NAME, MODEL_KIND_VERSION, type TinyParams } from './index.js';
import { describeFiles, fingerprintOf, MODEL_REF_FILE, MODEL_REF_SCHEMA, type ModelRef } from './model-ref.js';

export function tinyModelId(t: TinyParams): string {
  return `tiny-random-qwen3(seed=${t.seed}, layers=${t.layers}, hidden=${t.hidden_size}, intermediate=${t.intermediate_size}, heads=${t.heads}/${t.kv_heads}, head_dim=${t.head_dim}, ${t.dtype})`;
}

function configDims(dir: string): { num_layers: number; hidden_size: number } {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  return { num_layers: Number(cfg['num_hidden_layers']), hidden_size: Number(cfg['hidden_size']) };
}

async function run(ctx: StageContext): Promise<void> {
  const checked = checkModelParams(ctx.params);
  if (!checked.ok) throw new Error(checked.error);
  let ref: ModelRef;
  if (checked.value.tiny !== null) {
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
    });
    const files = describeFiles(['config.json', 'model.safetensors', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => join(ctx.outDir, f)));
    ref = { schema: MODEL_REF_SCHEMA, source: 'tiny', id: tinyModelId(t), dir: null, revision: null, random: true, fingerprint: fingerprintOf(files), files, ...configDims(ctx.outDir) };
  } else {
    const id = checked.value.id as string;
    const resolved = resolveModelDir(id, { baseDir: ctx.projectDir });
    if (!resolved.ok) throw new Error(resolved.error);
    const md = resolved.value;
    ctx.log(`model ${id} → ${md.dir}; fingerprinting ${md.files.length} files`);
    let done = 0;
    const files = md.files.map((f) => {
      const d = describeFiles([f])[0] as ModelRef['files'][number];
      ctx.progress({ done: ++done, total: md.files.length, unit: 'files' });
      if (ctx.signal.aborted) throw new Error('aborted');
      return d;
    });
    ref = { schema: MODEL_REF_SCHEMA, source: md.source, id, dir: md.dir, revision: md.revision ?? null, random: false, fingerprint: fingerprintOf(files), files, ...configDims(md.dir) };
  }
  writeFileSync(join(ctx.outDir, MODEL_REF_FILE), `${JSON.stringify(ref, null, 2)}\n`);
  ctx.annotate('model', ref.id);
  ctx.annotate('model_fingerprint', ref.fingerprint);
  writeStageProvenance(ctx, {
    kind: MODEL_KIND_NAME,
    version: MODEL_KIND_VERSION,
    model: ref.id,
    model_fingerprint: ref.fingerprint,
    model_random: ref.random,
    dataset: null,
    dataset_fingerprint: null,
    dataset_synthetic: false,
    backend: null,
  });
}

export const modelImplementation: StageImplementation = { run };
