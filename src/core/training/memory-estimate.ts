/**
 * How much tensor memory a training run needs, before it starts: the wasm backend has one 4 GB heap that never
 * shrinks, and running out aborts the process, so `train` picks its micro-batch (and, if even one sequence does
 * not fit, the cpu backend) from this estimate.
 *
 * Activation cost per token and decoder layer was measured (bench/training/memory-calibration.ts, wasm,
 * tf.profile peakBytes, LoRA r 32 on all seven linear modules): at Qwen3-0.6B's width (hidden 1024,
 * intermediate 3072, 16 heads) 1.37 MB/token at 64 tokens and 1.40 MB/token at 256 tokens. TensorFlow.js keeps
 * every saved input (copied, on wasm) and every intermediate gradient until the backward pass ends, hence about
 * 85 floats per (hidden + intermediate) feature and 2.5 floats per (head × key) per token. With the layered
 * backward (layered-backward.ts) only the inputs of blocks from the first adapted one up are kept, and one
 * block's working set is live at a time. Check on the full Qwen3-0.6B shape (bench/training/train-step.ts, LoRA
 * r 32 on 7 modules × blocks 8..21, one 512-token sequence, wasm): peak heap 3359 MiB; this estimate: 3523 MiB.
 */
import type { Qwen3Config } from '../qwen3/config.js';
import { qwen3ParameterCount } from '../qwen3/config.js';

/** floats per token per layer per (hidden + intermediate) feature, measured (see above) */
const FLOATS_PER_FEATURE = 85;
/** floats per token per layer per (head × attended key) */
const FLOATS_PER_ATTENTION_KEY = 2.5;
/** heap fragmentation and transient copies */
const HEADROOM = 1.05;
/** bytes of one vocabulary-chunk block in the loss (masked-cross-entropy.ts budget), a few live at once */
const LOSS_BLOCK_BYTES = 32 * 1024 * 1024;

export interface MemoryEstimateInput {
  config: Qwen3Config;
  /** adapter parameters */
  trainableParams: number;
  /** sequences per forward/backward pass */
  microBatch: number;
  /** longest sequence (tokens) */
  seqLen: number;
  /** whether decoder blocks are recomputed one at a time in the backward pass (layered-backward.ts) */
  checkpointing: boolean;
  /** the first block with adapter variables (blocks below it keep nothing with the layered backward) */
  firstTrainableLayer?: number;
  /** with checkpointing: the trainable blocks' frozen products and attention outputs are kept for their
   *  recomputation (layered-backward.ts keepFrozenProducts; the default on `native`) */
  keepsFrozenProducts?: boolean;
}

export interface MemoryEstimate {
  weightsBytes: number;
  optimizerBytes: number;
  activationBytes: number;
  lossBytes: number;
  totalBytes: number;
}

/** Activation bytes of one decoder layer for `tokens` tokens attending over `seqLen` keys. */
export function layerActivationBytes(c: Qwen3Config, tokens: number, seqLen: number): number {
  return 4 * tokens * (FLOATS_PER_FEATURE * (c.hiddenSize + c.intermediateSize) + FLOATS_PER_ATTENTION_KEY * c.numHeads * seqLen);
}

export function estimateTrainingMemory(i: MemoryEstimateInput): MemoryEstimate {
  const c = i.config;
  const tokens = i.microBatch * i.seqLen;
  const weightsBytes = 4 * qwen3ParameterCount(c);
  // variable, Adam m and v, the accumulated gradient and one micro-step's gradient
  const optimizerBytes = 5 * 4 * i.trainableParams;
  const perLayer = layerActivationBytes(c, tokens, i.seqLen);
  const keptBlocks = c.numLayers - (i.firstTrainableLayer ?? 0);
  // kept products per token and block: q, k, v, o, gate, up, down outputs and the attention output
  const productFloats = i.checkpointing && i.keepsFrozenProducts === true ? 2 * c.numHeads * c.headDim + 2 * c.numKvHeads * c.headDim + 2 * c.hiddenSize + 2 * c.intermediateSize : 0;
  const activationBytes = i.checkpointing ? keptBlocks * tokens * (c.hiddenSize + productFloats) * 4 + perLayer : c.numLayers * perLayer;
  const lossBytes = 4 * LOSS_BLOCK_BYTES + tokens * c.hiddenSize * 4 * 3;
  const totalBytes = HEADROOM * (weightsBytes + optimizerBytes + activationBytes + lossBytes);
  return { weightsBytes, optimizerBytes, activationBytes, lossBytes, totalBytes };
}

/** The largest micro-batch (≤ batchSize) whose estimate fits `budgetBytes`, or 0 when not even one sequence fits. */
export function largestFittingMicroBatch(base: Omit<MemoryEstimateInput, 'microBatch'>, batchSize: number, budgetBytes: number): { microBatch: number; estimate: MemoryEstimate } {
  let best = 0;
  let estimate = estimateTrainingMemory({ ...base, microBatch: 1 });
  for (let m = 1; m <= batchSize; m++) {
    const e = estimateTrainingMemory({ ...base, microBatch: m });
    if (e.totalBytes > budgetBytes) break;
    best = m;
    estimate = e;
  }
  return { microBatch: best, estimate };
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
