/**
 * Loading the base model inside a stage, with a worker-level cache: workers run many stages in a row, and the
 * next stage usually wants the same weights. At most one model is kept (keyed by directory + fingerprint).
 *
 * Stages that change weights in place (weight steering) mark the entry in use with `markDirty`/`markClean`;
 * if a stage dies between the two, the next stage reloads instead of trusting steered weights.
 */
import { ensureBackend } from '../../../src/core/backend.js';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { loadTokenizer, type Tokenizer } from '../../../src/core/tokenizer.js';
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { modelFromContext, type ResolvedModel } from './model-ref.js';

export interface LoadedModel {
  model: Qwen3Model;
  tokenizer: Tokenizer;
  resolved: ResolvedModel;
  /** the TensorFlow.js backend the model lives on */
  backend: string;
}

interface Entry {
  key: string;
  loaded: LoadedModel;
  dirty: boolean;
}

let cached: Entry | null = null;

function keyOf(r: ResolvedModel): string {
  return `${r.dir}\0${r.ref.fingerprint}`;
}

/** Load (or reuse) a resolved model. */
export async function loadResolvedModel(resolved: ResolvedModel, log?: (m: string) => void): Promise<LoadedModel> {
  const backend = (await ensureBackend()).name;
  const key = keyOf(resolved);
  if (cached !== null && cached.key === key && !cached.dirty && cached.loaded.backend === backend) {
    log?.(`reusing the loaded model ${resolved.ref.id}`);
    return cached.loaded;
  }
  if (cached !== null) {
    if (cached.dirty) log?.('the previous stage left the loaded model mid-edit; reloading it from disk');
    cached.loaded.model.dispose();
    cached = null;
  }
  const t0 = Date.now();
  const { model } = await loadQwen3(resolved.dir);
  const tokenizer = loadTokenizer(resolved.dir);
  if (!tokenizer.hasChatTemplate) throw new Error(`${resolved.dir}: the tokenizer has no chat template; the study's prompts are chat-templated`);
  log?.(`loaded ${resolved.ref.id} (${model.numLayers} layers) on ${backend} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const loaded: LoadedModel = { model, tokenizer, resolved, backend };
  cached = { key, loaded, dirty: false };
  return loaded;
}

/** The stage's `model` input, loaded; records the backend (and what it ran on) and model on the execution. */
export async function loadModelForStage(ctx: StageContext): Promise<LoadedModel> {
  const loaded = await loadResolvedModel(modelFromContext(ctx), (m) => ctx.log(m));
  ctx.annotate('backend', loaded.backend);
  // which adapter or library ran (on webgpu: vendor, architecture, driver), for explain; never in an output file,
  // since it names the machine, not the inputs
  ctx.annotate('backend_detail', (await ensureBackend()).detail);
  ctx.annotate('model', loaded.resolved.ref.id);
  return loaded;
}

/** Weights of the cached model are being edited in place. */
export function markDirty(model: Qwen3Model): void {
  if (cached !== null && cached.loaded.model === model) cached.dirty = true;
}

/** The edit was undone exactly. */
export function markClean(model: Qwen3Model): void {
  if (cached !== null && cached.loaded.model === model) cached.dirty = false;
}

