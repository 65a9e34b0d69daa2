/**
 * Adapter training as the reference study runs the HF Trainer (docs/study-ref.md §3.2), on TensorFlow.js:
 *
 * - loss: causal-LM cross-entropy on the assistant tokens only (examples.ts), summed over the tokens of one
 *   optimizer step and divided by their count (transformers ≥ 4.46 normalises gradient accumulation by
 *   num_items_in_batch, so each token weighs the same whatever micro-batch it falls in);
 * - AdamW exactly as torch (adamw.ts; eps 1e-8, weight decay 0.01 on every adapter parameter);
 * - HF's linear schedule with warmup (first update at lr 0); gradient clipping to max_grad_norm (1.0);
 * - batches of `batchSize` examples from a seeded shuffle per epoch (the last one may be short), `gradAccum`
 *   batches per optimizer step; the scheduler spans floor(batches / gradAccum) steps per epoch, and a trailing
 *   partial accumulation is an update at lr 0 — skipped here, since it cannot change the parameters;
 * - each batch is run in micro-batches of `microBatch` sequences (right-padded) to bound activation memory;
 *   the gradients are identical to a full batch because the loss is a token sum.
 *
 * Deterministic from the seed on a given backend (the ops are deterministic; nothing depends on timing).
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerAllGradients } from '../native/register-gradients.js';
import { Rng } from '../random.js';
import { AdamW } from './adamw.js';
import type { TrainingExample } from './examples.js';
import { targetPositions } from './examples.js';
import { clipByGlobalNorm } from './grad-clip.js';
import { linearWarmupMultiplier } from './lr-schedule.js';
import { maskedCrossEntropy } from './masked-cross-entropy.js';
import { layeredLossAndGradsAsync } from './layered-backward.js';
import type { LayeredModel } from './layered-backward.js';

/** What training needs from a model (Qwen3Model provides it). */
export interface TrainableModel {
  hiddenStates(ids: number[][], mask?: number[][]): tf.Tensor3D;
  /** the frozen output projection [vocab, hidden] (PyTorch layout), owned by the model */
  outputWeight(): tf.Tensor2D;
}

export interface TrainConfig {
  learningRate: number;
  weightDecay: number;
  adamEpsilon: number;
  adamBeta1: number;
  adamBeta2: number;
  warmupSteps: number;
  /** whole epochs; ignored when maxSteps > 0 */
  epochs: number;
  /** > 0: train exactly this many optimizer steps (HF max_steps) */
  maxSteps: number;
  batchSize: number;
  gradAccum: number;
  /** sequences per forward/backward pass (≤ batchSize) */
  microBatch: number;
  maxGradNorm: number;
  seed: number;
  /** evaluate the validation loss every this many optimizer steps (0: only at the end) */
  evalSteps: number;
  /** token id used to right-pad micro-batches (masked out; any valid id) */
  padTokenId: number;
}

export interface StepRecord {
  step: number;
  /** token-mean cross-entropy of the step's batches (before the update) */
  loss: number;
  learningRate: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  tokens: number;
  seconds: number;
}

export interface EvalRecord {
  step: number;
  loss: number;
  tokens: number;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface TrainOptions {
  /**
   * Backpropagate one decoder block at a time (layered-backward.ts): block index -> the adapter variables used
   * in that block. Needed to fit Qwen3-0.6B in the wasm heap; the model must support ForwardOptions.wrapLayer.
   */
  byLayer?: ReadonlyMap<number, readonly tf.Variable[]>;
  /**
   * With byLayer: keep the trainable blocks' frozen products from the forward pass instead of computing them
   * again in the recomputation (layered-backward.ts; same bytes, more memory). Default: on `native`, whose
   * memory is the machine's (wasm's is a 4 GB heap the memory estimate plans for without them).
   */
  keepFrozenProducts?: boolean;
}

export interface TrainCallbacks {
  onStep?: (record: StepRecord, progress: TrainProgress) => void;
  onEval?: (record: EvalRecord) => void;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  steps: StepRecord[];
  evals: EvalRecord[];
  totalSteps: number;
  schedulerSteps: number;
  seconds: number;
}

interface PlannedStep {
  batches: number[][];
  /** the optimizer step index the scheduler sees (0-based) */
  index: number;
}

/** The optimizer steps of a run: which example indices each step's batches hold. */
export function planSteps(nTrain: number, cfg: Pick<TrainConfig, 'batchSize' | 'gradAccum' | 'epochs' | 'maxSteps' | 'seed'>): { steps: PlannedStep[]; schedulerSteps: number } {
  if (nTrain <= 0) throw new Error('no training examples');
  for (const [k, v] of Object.entries({ batchSize: cfg.batchSize, gradAccum: cfg.gradAccum })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  if (cfg.maxSteps <= 0 && !(Number.isInteger(cfg.epochs) && cfg.epochs >= 1)) throw new Error(`epochs must be a positive integer (or set max_steps), got ${cfg.epochs}`);
  const nBatches = Math.ceil(nTrain / cfg.batchSize);
  const fullUpdates = Math.max(1, Math.floor(nBatches / cfg.gradAccum));
  const updatesPerEpoch = Math.ceil(nBatches / cfg.gradAccum);
  const schedulerSteps = cfg.maxSteps > 0 ? cfg.maxSteps : cfg.epochs * fullUpdates;
  const rng = new Rng(cfg.seed);
  const steps: PlannedStep[] = [];
  const wanted = cfg.maxSteps > 0 ? cfg.maxSteps : cfg.epochs * updatesPerEpoch;
  while (steps.length < wanted) {
    const perm = rng.permutation(nTrain);
    const batches: number[][] = [];
    for (let i = 0; i < nTrain; i += cfg.batchSize) batches.push(perm.slice(i, i + cfg.batchSize));
    for (let i = 0; i < batches.length && steps.length < wanted; i += cfg.gradAccum) {
      steps.push({ batches: batches.slice(i, i + cfg.gradAccum), index: steps.length });
    }
  }
  return { steps, schedulerSteps };
}

interface MicroBatch {
  ids: number[][];
  mask: number[][];
  rows: Int32Array;
  targets: Int32Array;
  tokens: number;
}

/** Right-padded micro-batch with the flat [B·S] rows of its predictor positions and their targets. */
export function microBatch(examples: readonly TrainingExample[], padId: number): MicroBatch {
  const S = Math.max(...examples.map((e) => e.inputIds.length));
  const ids: number[][] = [];
  const mask: number[][] = [];
  const rows: number[] = [];
  const targets: number[] = [];
  examples.forEach((ex, b) => {
    const L = ex.inputIds.length;
    ids.push([...ex.inputIds, ...new Array<number>(S - L).fill(padId)]);
    mask.push([...new Array<number>(L).fill(1), ...new Array<number>(S - L).fill(0)]);
    for (const t of targetPositions(ex)) {
      rows.push(b * S + t - 1);
      targets.push(ex.inputIds[t] as number);
    }
  });
  return { ids, mask, rows: Int32Array.from(rows), targets: Int32Array.from(targets), tokens: rows.length };
}

function lossOf(model: TrainableModel, mb: MicroBatch, weight: number): tf.Scalar {
  const h = model.hiddenStates(mb.ids, mb.mask);
  const [B, S, E] = h.shape;
  const flat = tf.reshape(h, [B * S, E]) as tf.Tensor2D;
  return maskedCrossEntropy(flat, model.outputWeight(), { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(weight) });
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Token-mean cross-entropy over `examples` (no gradient). */
export async function evaluateLoss(model: TrainableModel, examples: readonly TrainingExample[], microBatchSize: number, padId: number, signal?: AbortSignal): Promise<{ loss: number; tokens: number }> {
  let sum = 0;
  let tokens = 0;
  for (const group of chunks(examples, microBatchSize)) {
    signal?.throwIfAborted();
    const mb = microBatch(group, padId);
    if (mb.tokens === 0) continue;
    const l = tf.tidy(() => lossOf(model, mb, 1));
    sum += (await l.data())[0] as number;
    l.dispose();
    tokens += mb.tokens;
    await yieldToEventLoop();
  }
  return { loss: tokens === 0 ? NaN : sum / tokens, tokens };
}

/**
 * Train `variables` (the adapter's; nothing else is trainable) on `train`, evaluating on `val`.
 * The caller owns the variables; only optimizer state is created and freed here.
 */
export async function trainAdapter(model: TrainableModel & Partial<LayeredModel>, variables: readonly tf.Variable[], train: readonly TrainingExample[], val: readonly TrainingExample[], cfg: TrainConfig, cb: TrainCallbacks = {}, opts: TrainOptions = {}): Promise<TrainResult> {
  const byLayer = opts.byLayer;
  const keepFrozenProducts = opts.keepFrozenProducts ?? tf.getBackend() === 'native';
  if (byLayer !== undefined) {
    const covered = new Set([...byLayer.values()].flat());
    const missing = variables.filter((v) => !covered.has(v));
    if (missing.length > 0) throw new Error(`layered backward: ${missing.length} variable(s) belong to no decoder block`);
    if (model.getParameter === undefined || model.config === undefined) throw new Error('layered backward needs a model with getParameter and config (Qwen3Model)');
  }
  if (variables.length === 0) throw new Error('nothing to train: the adapter has no variables');
  if (!(cfg.microBatch >= 1 && Number.isInteger(cfg.microBatch))) throw new Error(`microBatch must be a positive integer, got ${cfg.microBatch}`);
  const { steps: plan, schedulerSteps } = planSteps(train.length, cfg);
  // tfjs-core's Node bundle registers no gradient functions (Reshape, Mul, … ); the union package would
  await registerAllGradients();
  const optimizer = new AdamW(variables, { beta1: cfg.adamBeta1, beta2: cfg.adamBeta2, eps: cfg.adamEpsilon, weightDecay: cfg.weightDecay });
  const byName = new Map(variables.map((v, i) => [v.name, i]));
  const records: StepRecord[] = [];
  const evals: EvalRecord[] = [];
  const t0 = performance.now();
  const runEval = async (step: number): Promise<void> => {
    if (val.length === 0) return;
    const e = await evaluateLoss(model, val, cfg.microBatch, cfg.padTokenId, cb.signal);
    const rec = { step, loss: e.loss, tokens: e.tokens };
    evals.push(rec);
    cb.onEval?.(rec);
  };
  try {
    for (const planned of plan) {
      cb.signal?.throwIfAborted();
      const lr = cfg.learningRate * linearWarmupMultiplier(planned.index, cfg.warmupSteps, schedulerSteps);
      if (lr === 0 && planned.index >= schedulerSteps) {
        cb.log?.(`step ${planned.index + 1}: past the end of the schedule (lr 0), no parameter can change; skipped`);
        continue;
      }
      const stepStart = performance.now();
      const examples = planned.batches.flat().map((i) => train[i] as TrainingExample);
      const micro = planned.batches.flatMap((b) => chunks(b.map((i) => train[i] as TrainingExample), cfg.microBatch)).map((g) => microBatch(g, cfg.padTokenId));
      const tokens = micro.reduce((a, m) => a + m.tokens, 0);
      if (tokens === 0) throw new Error(`optimizer step ${planned.index + 1}: its ${examples.length} examples have no supervised token`);
      const acc: tf.Tensor[] = variables.map((v) => tf.keep(tf.zerosLike(v)));
      let lossSum = 0;
      for (const mb of micro) {
        if (mb.tokens === 0) continue;
        const named = new Map<number, tf.Tensor>();
        if (byLayer !== undefined) {
          const r = await layeredLossAndGradsAsync(model as LayeredModel, mb.ids, mb.mask, { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(1 / tokens) }, byLayer, { keepFrozenProducts });
          lossSum += r.loss;
          for (const [v, g] of r.grads) named.set(byName.get(v.name) as number, g);
        } else {
          const { value, grads } = tf.variableGrads(() => lossOf(model, mb, 1 / tokens), [...variables]);
          lossSum += (await value.data())[0] as number;
          value.dispose();
          for (const [name, g] of Object.entries(grads)) {
            const i = byName.get(name);
            if (i === undefined) g.dispose();
            else named.set(i, g);
          }
        }
        for (const [i, g] of named) {
          const next = tf.add(acc[i] as tf.Tensor, g);
          (acc[i] as tf.Tensor).dispose();
          acc[i] = tf.keep(next);
          g.dispose();
        }
        await yieldToEventLoop();
        cb.signal?.throwIfAborted();
      }
      const clipped = await clipByGlobalNorm(acc, cfg.maxGradNorm);
      tf.dispose(acc);
      for (const g of clipped.grads) {
        const finite = tf.tidy(() => tf.all(tf.isFinite(g)));
        const ok = (await finite.data())[0] === 1;
        finite.dispose();
        if (!ok) {
          tf.dispose(clipped.grads);
          throw new Error(`optimizer step ${planned.index + 1}: non-finite gradient (loss ${lossSum})`);
        }
      }
      optimizer.apply(clipped.grads, lr);
      tf.dispose(clipped.grads);
      const rec: StepRecord = { step: planned.index + 1, loss: lossSum, learningRate: lr, gradNorm: clipped.norm, tokens, seconds: (performance.now() - stepStart) / 1000 };
      records.push(rec);
      const elapsed = (performance.now() - t0) / 1000;
      const done = records.length;
      const remaining = plan.length - (planned.index + 1);
      cb.onStep?.(rec, { step: rec.step, totalSteps: plan.length, loss: rec.loss, learningRate: lr, elapsedSeconds: elapsed, etaSeconds: (elapsed / done) * remaining });
      if (cfg.evalSteps > 0 && rec.step % cfg.evalSteps === 0) await runEval(rec.step);
    }
    const last = records[records.length - 1]?.step ?? 0;
    if (evals[evals.length - 1]?.step !== last) await runEval(last);
  } finally {
    optimizer.dispose();
  }
  return { steps: records, evals, totalSteps: plan.length, schedulerSteps, seconds: (performance.now() - t0) / 1000 };
}
