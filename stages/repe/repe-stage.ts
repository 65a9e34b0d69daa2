/**
 * The `repe` stage: hidden states after every decoder block at the last real token of each persona prompt,
 * PCA(1) of the differences per layer, sign-fixed and unit-norm.
 *
 * Deviation: the study left-pads and reads position −1; we right-pad and read each row's last real token, which
 * is the same computation (positions count from 0 in each row).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/core/safetensors.js';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { FILES } from '../lib/artifacts.js';
import { layerSlice } from '../lib/layers.js';
import { behaviorFile, loadBehaviorDefinition, personaPrompt, personaSet, topicPrompts } from '../lib/behavior-definition.js';
import { prefixConversation } from '../lib/prompts.js';
import { loadQuestionPool, repeTrainEntries } from '../lib/question-pool.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { encodeContinued, encodeForGeneration } from '../lib/steer/chat-inputs.js';
import { lastTokenResiduals } from '../lib/steer/model-batches.js';
import { stageFacts } from '../lib/steer/stage-outputs.js';
import { REPE_INFO_FILE, type RepeInfo } from '../lib/steer/steering.js';
import { questionsPath } from '../lib/questions-param.js';
import type { RepeParams } from './params.js';
import { pcaDirection } from './pca.js';

export function appliedLayers(params: Pick<RepeParams, 'layers' | 'layer_frac_lo' | 'layer_frac_hi'>, numLayers: number): number[] {
  const explicit = params.layers;
  if (explicit !== null) {
    const bad = explicit.filter((l) => l >= numLayers);
    if (bad.length > 0) throw new Error(`layers: ${bad.join(', ')} out of range (the model has layers 0..${numLayers - 1})`);
    return [...explicit].sort((a, b) => a - b);
  }
  return layerSlice(numLayers, params.layer_frac_lo, params.layer_frac_hi);
}

async function run(ctx: KindContext<RepeParams>): Promise<void> {
  const behavior = ctx.params.behavior;
  const n = ctx.params.n_train_topics;
  const maxLength = ctx.params.max_length;
  const batchSize = ctx.params.batch_size;
  const loaded = await loadModelForStage(ctx);
  const { model, tokenizer: tok } = loaded;
  const layers = appliedLayers(ctx.params, model.numLayers);
  const def = loadBehaviorDefinition(behaviorFile(ctx.projectDir, behavior));
  if (!def.ok) throw new Error(def.error);
  // study-ref §7.1: persona pair 0 of the behaviour
  const pair0 = personaSet(def.value, null).set;
  const sys = { pos: personaPrompt(def.value, pair0.pos[0] as string), neg: personaPrompt(def.value, pair0.neg[0] as string) };
  let pos: number[][];
  let neg: number[][];
  let prompts: string[];
  if (def.value.repePrompts === 'pool') {
    const entries = repeTrainEntries(loadQuestionPool(questionsPath(ctx.params, ctx.projectDir), { thinking: false }), n);
    pos = entries.map((e) => encodeContinued(tok, prefixConversation(sys.pos, e.user_msg, e.suffix), maxLength, { closeThink: false }).ids);
    neg = entries.map((e) => encodeContinued(tok, prefixConversation(sys.neg, e.user_msg, e.suffix), maxLength, { closeThink: false }).ids);
    prompts = entries.map((e) => e.user_msg);
  } else {
    const all = topicPrompts(def.value);
    if (n > all.length) throw new Error(`n_train_topics: ${def.value.file} lists ${all.length} topics, got ${n}`);
    const topics = all.slice(0, n);
    pos = topics.map((t) => encodeForGeneration(tok, [{ role: 'system', content: sys.pos }, { role: 'user', content: t }], maxLength).ids);
    neg = topics.map((t) => encodeForGeneration(tok, [{ role: 'system', content: sys.neg }, { role: 'user', content: t }], maxLength).ids);
    prompts = topics;
  }
  ctx.log(`fitting RepE (${behavior}) on ${n} prompts × 2 personas over ${model.numLayers} layers; applied at layers ${layers[0]}..${layers[layers.length - 1]}`);
  const total = 2 * n;
  const hsPos = await lastTokenResiduals(model, pos, { batchSize, signal: ctx.signal, onProgress: (d) => ctx.progress({ done: d, total, unit: 'prompts' }) });
  const hsNeg = await lastTokenResiduals(model, neg, { batchSize, signal: ctx.signal, onProgress: (d) => ctx.progress({ done: n + d, total, unit: 'prompts' }) });
  const L = model.numLayers;
  const D = model.config.hiddenSize;
  const data = new Float32Array(L * D);
  const explained: number[] = [];
  const flipped: number[] = [];
  for (let l = 0; l < L; l++) {
    const r = pcaDirection(hsPos[l] as Float64Array[], hsNeg[l] as Float64Array[], l);
    data.set(Float32Array.from(r.direction), l * D);
    explained.push(r.explained);
    if (r.flipped) flipped.push(l);
  }
  writeSafetensors(join(ctx.outDir, FILES.repeDirections), [{ name: 'directions', shape: [L, D], data }], { format: 'pt', behavior });
  const info: RepeInfo & Record<string, unknown> = {
    layers,
    num_layers: L,
    hidden_size: D,
    n_train_topics: n,
    behavior,
    system_prompts: sys,
    explained_variance: explained,
    sign_flipped_layers: flipped,
    prompts,
    method: 'PCA(1) of centred last-token hidden-state differences (pos − neg) per layer, unit norm, sign: mean(pos·d) ≥ mean(neg·d)',
    padding_note: 'right padding, last real token (the study left-pads and reads position −1: the same computation)',
  };
  writeFileSync(join(ctx.outDir, REPE_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  const appliedExplained = layers.map((l) => explained[l] as number);
  ctx.metric('explained_variance_mean', appliedExplained.reduce((a, b) => a + b, 0) / appliedExplained.length);
  for (let l = 0; l < L; l++) ctx.metric(`explained_variance/${l}`, explained[l] as number);
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend));
}

export const repeImplementation: KindImplementation<RepeParams> = { run };
