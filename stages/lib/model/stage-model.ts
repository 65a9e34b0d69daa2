/**
 * Loading the model of a data/train stage: through the worker's model cache when it comes from a `model` input
 * (stages/model/load-model.ts), else straight from `with: model`. Records the backend and model.
 */
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { resolveModelDir } from '../../../src/core/model-dir.js';
import type { ModelDir } from '../../../src/core/model-dir.js';
import { ensureBackend } from '../../../src/core/backend.js';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { loadTokenizer } from '../../../src/core/tokenizer.js';
import type { Tokenizer } from '../../../src/core/tokenizer.js';
import { loadModelForStage, markClean, markDirty } from './load-model.js';
import { modelDirOf, type ModelRef } from './model-ref.js';

export interface StageModel {
  model: Qwen3Model;
  tokenizer: Tokenizer;
  modelDir: ModelDir;
  /** what the pipeline named (Hub id or path) */
  label: string;
  /** the model stage's reference (fingerprint, random), when the model comes from a `model` input */
  ref: ModelRef | null;
  backend: string;
  /** weights are about to be edited in place (PiSSA residuals): a crash before `editDone` invalidates the cache */
  editing(): void;
  editDone(): void;
  /** free the model unless the worker cache keeps it */
  release(): void;
}

/** The model directory a stage will load (no loading). */
export function stageModelDir(ctx: StageContext): { modelDir: ModelDir; label: string; ref: ModelRef | null } {
  const upstream = ctx.inputs['model']?.[0];
  if (upstream !== undefined) {
    const resolved = modelDirOf(upstream.dir, ctx.projectDir);
    const r = resolveModelDir(resolved.dir);
    if (!r.ok) throw new Error(`input "model" (${upstream.stageId}): ${r.error}`);
    return { modelDir: r.value, label: resolved.ref.id, ref: resolved.ref };
  }
  const model = ctx.params['model'];
  if (typeof model !== 'string') throw new Error(`${ctx.stageId}: no model: set \`with: model\` (a model directory or Hub id) or connect a \`model\` input (a stage with uses: model)`);
  const r = resolveModelDir(model, { baseDir: ctx.projectDir });
  if (!r.ok) throw new Error(r.error);
  return { modelDir: r.value, label: model, ref: null };
}

export async function loadStageModel(ctx: StageContext): Promise<StageModel> {
  const { modelDir, label, ref } = stageModelDir(ctx);
  if (ctx.inputs['model']?.[0] !== undefined) {
    const loaded = await loadModelForStage(ctx);
    return {
      model: loaded.model,
      tokenizer: loaded.tokenizer,
      modelDir,
      label,
      ref,
      backend: loaded.backend,
      editing: () => markDirty(loaded.model),
      editDone: () => markClean(loaded.model),
      release: () => undefined,
    };
  }
  const info = await ensureBackend();
  const backend = info.name;
  ctx.annotate('backend', backend);
  ctx.annotate('backend_detail', info.detail);
  ctx.annotate('model', label);
  const tokenizer = loadTokenizer(modelDir.dir);
  if (!tokenizer.hasChatTemplate) throw new Error(`${modelDir.dir}: the tokenizer has no chat template; the study's prompts are chat-templated`);
  const { model } = await loadQwen3(modelDir.dir);
  return { model, tokenizer, modelDir, label, ref, backend, editing: () => undefined, editDone: () => undefined, release: () => model.dispose() };
}
