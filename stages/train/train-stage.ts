/**
 * The `train` stage implementation: pairs → training examples for one sign (study-ref §3.3) → seeded train/val split →
 * memory estimate (micro-batch; cpu fallback on wasm) → adapter (study-ref §3.4) → training (§3.2) → outputs:
 *
 *   adapter/adapter_config.json, adapter/adapter_model.safetensors   PEFT format (PiSSA converted to plain LoRA)
 *   merged.safetensors     merged weights of every adapted module (HF parameter names, float32)
 *   loss_curve.csv         step, epoch, loss, lr, grad_norm (every optimizer step)
 *   val_loss.csv           step, epoch, val_loss
 *   train_summary.json     settings, data statistics, memory estimate, backend, timings, final losses
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { currentBackend, ensureBackend, initBackend } from '../../src/core/backend.js';
import { Checkpoint } from '../../src/core/checkpoint.js';
import { readQwen3Config } from '../../src/core/qwen3/config.js';
import { loadTokenizer } from '../../src/core/tokenizer.js';
import * as tf from '@tensorflow/tfjs-core';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { newAdapterConfig } from '../../src/core/adapters/adapter-config.js';
import type { AdapterType, NewAdapterOptions } from '../../src/core/adapters/adapter-config.js';
import { encodeFloat32, writeSafetensorsStreamAsync } from '../../src/core/adapters/safetensors-stream.js';
import { buildExample, exampleStats, trainValSplit } from '../../src/core/training/examples.js';
import type { TrainingExample } from '../../src/core/training/examples.js';
import { estimateTrainingMemory, formatMiB, largestFittingMicroBatch } from '../../src/core/training/memory-estimate.js';
import { planSteps, trainAdapter } from '../../src/core/training/trainer.js';
import { variablesByBlock } from '../../src/core/training/layered-backward.js';
import type { TrainConfig } from '../../src/core/training/trainer.js';
import { Rng } from '../../src/core/random.js';
import { LOSS_CURVE, VAL_LOSS } from '../lib/artifacts.js';
import { writeTable } from '../lib/csv.js';
import { layerSlice } from '../lib/layers.js';
import { checkPairsDiverged, readPairs } from '../lib/pairs.js';
import { loadStageModel, stageModelDir } from '../lib/model/stage-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { stageFacts } from '../lib/steer/stage-outputs.js';
import type { TrainParams } from './params.js';

export const ADAPTER_SUBDIR = 'adapter';
export const MERGED_FILE = 'merged.safetensors';
export const TRAIN_SUMMARY_FILE = 'train_summary.json';

type P = Readonly<TrainParams>;

export function adapterOptions(type: AdapterType, p: P, numLayers: number, label: string): NewAdapterOptions {
  if (type === 'ia3') {
    return { targetModules: p.ia3_target_modules, feedforwardModules: p.ia3_feedforward_modules, baseModelNameOrPath: label };
  }
  const common = {
    targetModules: p.target_modules,
    layersToTransform: layerSlice(numLayers, p.layer_frac_lo, p.layer_frac_hi),
    baseModelNameOrPath: label,
  };
  if (type === 'delora') return { ...common, r: p.r, deloraLambda: p.delora_lambda };
  if (type === 'oft') return { ...common, oftBlockSize: p.oft_block_size };
  return { ...common, r: p.r, alpha: p.alpha };
}

/** Adapter parameter count without building it (for the memory estimate): an upper bound is enough. */
function adapterParamBound(type: AdapterType, p: P, hidden: number, intermediate: number, layers: number): number {
  const r = p.r;
  const perModule = type === 'oft' ? hidden * p.oft_block_size : type === 'ia3' ? intermediate : r * (hidden + intermediate) + intermediate;
  return 7 * layers * perModule;
}

export const trainImplementation: KindImplementation<TrainParams> = {
  async run(ctx: KindContext<TrainParams>): Promise<void> {
    const t0 = performance.now();
    const p = ctx.params;
    const type = p.adapter;
    const sign = p.sign;
    const seed = p.seed;
    const dataDir = ctx.inputs['data']?.[0]?.dir;
    if (dataDir === undefined) throw new Error(`${ctx.stageId}: needs a \`data\` input (the data stage's pairs)`);

    // --- data → examples (cheap, before any model is loaded)
    const pairs = readPairs(dataDir);
    checkPairsDiverged(pairs, `${ctx.stageId}: input pairs`);
    const { modelDir, label } = stageModelDir(ctx);
    const cfg = readQwen3Config(modelDir.dir);
    if (!cfg.ok) throw new Error(cfg.error);
    const config = cfg.value;
    const tok = loadTokenizer(modelDir.dir);
    const maxLen = p.max_len;
    const examples = pairs.map((r) => buildExample(tok, r.prompt, sign === 'pos' ? r.response_pos : r.response_neg, maxLen));
    const stats = exampleStats(examples, tok.thinkStartId, tok.thinkEndId);
    const split = trainValSplit(examples.length, p.val_fraction, new Rng(seed));
    const train: TrainingExample[] = split.train.map((i) => examples[i] as TrainingExample);
    const val: TrainingExample[] = split.val.map((i) => examples[i] as TrainingExample);
    ctx.log(`${examples.length} examples (${train.length} train, ${val.length} val), ${stats.supervisedTokens} supervised tokens, ${stats.supervisedThinkTokens} of them in <think> blocks, ${stats.truncated} truncated at ${maxLen}`);
    ctx.metric('think_token_fraction', stats.supervisedTokens === 0 ? 0 : stats.supervisedThinkTokens / stats.supervisedTokens);

    // --- memory estimate: micro-batch, and the cpu backend when wasm cannot hold one sequence
    const batchSize = p.batch_size;
    const seqLen = Math.max(...examples.map((e) => e.inputIds.length));
    const trainable = adapterParamBound(type, p, config.hiddenSize, config.intermediateSize, config.numLayers);
    const budget = p.memory_budget_mb * 2 ** 20;
    let backend = (await initBackend()).name;
    const layered = p.layered_backward;
    const firstTrainableLayer = type === 'ia3' ? 0 : (layerSlice(config.numLayers, p.layer_frac_lo, p.layer_frac_hi)[0] as number);
    const base = { config, trainableParams: trainable, seqLen, checkpointing: layered, firstTrainableLayer, keepsFrozenProducts: backend === 'native' };
    let microBatch = p.micro_batch !== null ? Math.min(p.micro_batch, batchSize) : batchSize;
    let estimate = estimateTrainingMemory({ ...base, microBatch });
    if (backend === 'wasm') {
      const fit = largestFittingMicroBatch(base, p.micro_batch !== null ? microBatch : batchSize, budget);
      if (fit.microBatch === 0) {
        const forced = process.env['WSFLOW_BACKEND'];
        const why = `training needs about ${formatMiB(fit.estimate.totalBytes)} with one ${seqLen}-token sequence per pass (weights ${formatMiB(fit.estimate.weightsBytes)}, activations ${formatMiB(fit.estimate.activationBytes)}), over the ${formatMiB(budget)} budget of the 4 GB wasm heap`;
        if (forced === 'wasm') throw new Error(`${ctx.stageId}: ${why}; WSFLOW_BACKEND=wasm forbids the cpu fallback (unset it, or lower max_len)`);
        ctx.log(`warning: ${why}; falling back to the cpu backend (no heap limit, slower)`);
        backend = (await initBackend('cpu')).name;
      } else {
        microBatch = fit.microBatch;
        estimate = fit.estimate;
      }
    }
    ctx.log(`backend ${backend}, micro-batch ${microBatch} of ${batchSize}; estimated peak ${formatMiB(estimate.totalBytes)}`);
    ctx.annotate('backend', backend);
    // which adapter/library ran (vendor, architecture, driver on webgpu): explain shows it; outputs stay free of it
    ctx.annotate('backend_detail', (await ensureBackend()).detail);
    ctx.annotate('micro_batch', microBatch);
    ctx.annotate('layered_backward', layered);

    // --- model + adapter
    const sm = await loadStageModel(ctx);
    if ((currentBackend()?.name ?? backend) !== backend) throw new Error(`internal: model loaded on ${currentBackend()?.name}, expected ${backend}`);
    const adapterConfig = newAdapterConfig(type, adapterOptions(type, p, config.numLayers, label));
    sm.editing();
    let ckpt: Checkpoint | null = null;
    const adapter = await AttachedAdapter.createAsync(sm.model, adapterConfig, {
      modelType: 'qwen3',
      seed,
      // PiSSA replaces base weights by residuals: re-read originals from disk on detach instead of holding them
      reloadOriginal: (name) => {
        ckpt ??= Checkpoint.openDir(modelDir.dir, modelDir.weightFiles, modelDir.indexFile);
        return tf.tensor(ckpt.readFloat32(name), sm.model.parameterShape(name));
      },
      onWarning: (m) => ctx.log(`warning: ${m}`),
    });
    try {
      const trainCfg: TrainConfig = {
        learningRate: p.learning_rate,
        weightDecay: p.weight_decay,
        adamEpsilon: p.adam_epsilon,
        adamBeta1: p.adam_beta1,
        adamBeta2: p.adam_beta2,
        warmupSteps: p.warmup_steps,
        epochs: p.epochs,
        maxSteps: p.max_steps,
        batchSize,
        gradAccum: p.grad_accum,
        microBatch,
        maxGradNorm: p.max_grad_norm,
        seed,
        evalSteps: p.eval_steps,
        padTokenId: tok.padTokenId ?? (config.eosTokenIds[0] as number),
      };
      const stepsPerEpoch = planSteps(train.length, { ...trainCfg, maxSteps: -1, epochs: 1 }).steps.length;
      const epochOf = (step: number): number => step / stepsPerEpoch;
      const result = await trainAdapter(sm.model, adapter.trainableVariables(), train, val, trainCfg, {
        signal: ctx.signal,
        log: (m) => ctx.log(m),
        onStep: (rec, prog) => {
          ctx.metric('train_loss', rec.loss, rec.step);
          ctx.progress({ done: prog.step, total: prog.totalSteps, unit: 'steps', message: `loss ${rec.loss.toFixed(4)}, lr ${rec.learningRate.toExponential(2)}` });
        },
        onEval: (rec) => ctx.metric('val_loss', rec.loss, rec.step),
      }, layered ? { byLayer: variablesByBlock(adapter.layers) } : {});

      // --- outputs
      // every read is asynchronous: webgpu cannot read a tensor synchronously in Node
      await adapter.saveAsync(join(ctx.outDir, ADAPTER_SUBDIR), label);
      const mergedLayers = adapter.layers;
      const merged = adapter.mergedWeightsAsync();
      await writeSafetensorsStreamAsync(
        join(ctx.outDir, MERGED_FILE),
        mergedLayers.map((l) => ({
          name: `${l.module}.weight`,
          dtype: 'F32' as const,
          shape: [l.outFeatures, l.inFeatures],
          bytes: async () => {
            const next = await merged.next();
            if (next.done === true || next.value.name !== `${l.module}.weight`) throw new Error(`internal: merged weights out of order at ${l.module}`);
            return encodeFloat32(next.value.data, 'F32');
          },
        })),
        { format: 'pt', adapter: type, sign },
      );
      writeTable(ctx.outDir, LOSS_CURVE, result.steps.map((s) => ({ step: s.step, epoch: epochOf(s.step), loss: s.loss, lr: s.learningRate, grad_norm: s.gradNorm })));
      writeTable(ctx.outDir, VAL_LOSS, result.evals.map((e) => ({ step: e.step, epoch: epochOf(e.step), val_loss: e.loss })));
      const summary = {
        adapter: type,
        sign,
        model: label,
        backend,
        peft_config: adapterConfig,
        train: { ...trainCfg, steps_run: result.steps.length, scheduler_steps: result.schedulerSteps },
        data: { pairs: pairs.length, train: train.length, val: val.length, ...stats },
        memory_estimate: { ...estimate, micro_batch: microBatch, budget_bytes: budget, layered_backward: layered },
        final: { train_loss: result.steps[result.steps.length - 1]?.loss ?? null, val_loss: result.evals[result.evals.length - 1]?.loss ?? null },
        trainable_parameters: adapter.trainableVariables().reduce((a, v) => a + v.size, 0),
        adapted_modules: adapter.layers.length,
      };
      writeFileSync(join(ctx.outDir, TRAIN_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
      // outputs hold no durations (a rerun must give the same bytes, for early cutoff): the times are metrics
      ctx.metric('train_seconds', result.seconds);
      ctx.metric('seconds', (performance.now() - t0) / 1000);
      writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, { ref: sm.ref ?? { id: sm.label, fingerprint: null, random: false } }, backend));
    } finally {
      adapter.detach();
      (ckpt as Checkpoint | null)?.close();
      sm.editDone();
      sm.release();
    }
  },
};
