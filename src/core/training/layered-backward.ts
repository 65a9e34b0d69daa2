/**
 * Backpropagation one decoder block at a time (gradient checkpointing at block granularity), so that training
 * Qwen3-0.6B fits the 4 GB wasm heap.
 *
 * Under tf.variableGrads TensorFlow.js records every op of the whole forward pass and keeps each saved input
 * (copied, on wasm) and every intermediate gradient until the backward pass ends: measured 1.4 MB per token and
 * block at 0.6B width, 20 GB for one 512-token sequence through 28 blocks. Here instead:
 *   1. the forward pass runs with no gradient recording, keeping only each trainable-or-later block's input
 *      (ForwardOptions.wrapLayer hands us the block and its per-forward tensors);
 *   2. the loss is differentiated w.r.t. the last block's output through the final RMSNorm;
 *   3. from the last block down to the first block with an adapter, the block is recomputed under
 *      tf.engine().gradients w.r.t. its input and its adapter variables, with the upstream gradient as dy.
 * Blocks below the first adapted one need no backward at all. Gradients equal those of one full tape up to
 * float rounding (tested).
 *
 * The recomputation costs a second forward pass of the trainable blocks, most of it the frozen products x·Wᵀ
 * and the attention (on `native`, 4 × 512 tokens on Qwen3-0.6B: about a third of a block's forward-plus-
 * backward time). With `keepFrozenProducts` the first pass keeps those values (ForwardOptions.keptResults;
 * the attention only where it is the addon's kernel) and the recomputation takes them back instead of
 * computing them again: the same bytes (the recomputed inputs are equal, so the values would be too), at
 * 4·(q + k + v + o + gate + up + down outputs + attention output) bytes per token and trainable block, kept
 * until that block's backward: 57 KB at 0.6B width (2.3 GB at 4 × 512 tokens × 20 blocks), for backends
 * without wasm's 4 GB heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardOptions, KeptResults, WrapLayer } from '../qwen3/model.js';
import { rmsNorm } from '../qwen3/ops.js';
import { maskedCrossEntropy } from './masked-cross-entropy.js';
import type { CrossEntropyRows } from './masked-cross-entropy.js';

export interface LayeredModel {
  readonly config: { readonly numLayers: number; readonly rmsNormEps: number };
  hiddenStates(ids: number[][], mask?: number[][], options?: ForwardOptions): tf.Tensor3D;
  getParameter(name: string): tf.Tensor;
  outputWeight(): tf.Tensor2D;
}

export interface LayeredResult {
  /** the loss value (weighted cross-entropy sum) */
  loss: number;
  /** gradient per variable (owned by the caller); variables of no block are absent */
  grads: Map<tf.Variable, tf.Tensor>;
}

export interface LayeredOptions {
  /** keep the trainable blocks' frozen products from the forward pass for their recomputation (see above) */
  keepFrozenProducts?: boolean;
}

const FINAL_NORM = 'model.norm.weight';

/**
 * The frozen products (and native attention) of the trainable blocks: recorded in call order per key during the
 * forward pass, handed back in the same order when the block is recomputed (the recomputation runs the same ops
 * on equal inputs, so it asks for the same values in the same order; DoRA's base(A) included).
 */
class KeptProducts implements KeptResults {
  mode: 'off' | 'record' | 'replay' = 'off';
  readonly #byKey = new Map<string, tf.Tensor2D[]>();

  keep(key: string, compute: () => tf.Tensor2D, reuse: (value: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    if (this.mode === 'off') return compute();
    const list = this.#byKey.get(key) ?? [];
    if (this.mode === 'record') {
      const y = tf.keep(compute());
      list.push(y);
      this.#byKey.set(key, list);
      return y;
    }
    const y = list.shift();
    if (y === undefined) throw new Error(`internal: the recomputation of ${key} asked for a value the forward pass did not make`);
    try {
      return reuse(y);
    } finally {
      y.dispose();
    }
  }

  dispose(): void {
    for (const list of this.#byKey.values()) for (const t of list) t.dispose();
    this.#byKey.clear();
  }
}

/**
 * Loss and adapter gradients for one micro-batch, block by block. `byLayer` maps a block index to the adapter
 * variables used inside it (every variable must belong to exactly one block).
 */
export function layeredLossAndGrads(model: LayeredModel, ids: number[][], mask: number[][], sel: CrossEntropyRows, byLayer: ReadonlyMap<number, readonly tf.Variable[]>, opts: LayeredOptions = {}): LayeredResult {
  const r = lossTensorAndGrads(model, ids, mask, sel, byLayer, opts);
  const loss = r.loss.dataSync()[0] as number;
  r.loss.dispose();
  return { loss, grads: r.grads };
}

/** layeredLossAndGrads with the loss read asynchronously (every backend, webgpu included). */
export async function layeredLossAndGradsAsync(model: LayeredModel, ids: number[][], mask: number[][], sel: CrossEntropyRows, byLayer: ReadonlyMap<number, readonly tf.Variable[]>, opts: LayeredOptions = {}): Promise<LayeredResult> {
  const r = lossTensorAndGrads(model, ids, mask, sel, byLayer, opts);
  try {
    return { loss: (await r.loss.data())[0] as number, grads: r.grads };
  } finally {
    r.loss.dispose();
  }
}

function lossTensorAndGrads(model: LayeredModel, ids: number[][], mask: number[][], sel: CrossEntropyRows, byLayer: ReadonlyMap<number, readonly tf.Variable[]>, opts: LayeredOptions): { loss: tf.Scalar; grads: Map<tf.Variable, tf.Tensor> } {
  const L = model.config.numLayers;
  const trainable = [...byLayer.entries()].filter(([, v]) => v.length > 0).map(([l]) => l);
  if (trainable.length === 0) throw new Error('layered backward: no block has adapter variables');
  const first = Math.min(...trainable);
  const inputs = new Map<number, { x: tf.Tensor2D; aux: readonly tf.Tensor[]; run: (x: tf.Tensor2D, aux: readonly tf.Tensor[]) => tf.Tensor2D }>();
  const kept = new Set<tf.Tensor>();
  let top: tf.Tensor2D | undefined;
  const products = opts.keepFrozenProducts === true ? new KeptProducts() : undefined;
  const wrap: WrapLayer = (l, x, aux, run) => {
    if (l >= first) {
      for (const t of [x, ...aux]) {
        tf.keep(t);
        kept.add(t);
      }
      inputs.set(l, { x, aux, run });
    }
    if (products !== undefined) products.mode = l >= first ? 'record' : 'off';
    const out = tf.tidy(() => run(x, aux));
    if (products !== undefined) products.mode = 'off';
    if (l === L - 1) {
      top = tf.keep(out);
      kept.add(top);
    }
    return out;
  };
  const grads = new Map<tf.Variable, tf.Tensor>();
  let loss: tf.Scalar | undefined;
  try {
    model.hiddenStates(ids, mask, { wrapLayer: wrap, keptResults: products }).dispose();
    if (top === undefined) throw new Error('internal: the forward pass did not reach the last block');
    const xTop = top;
    const normW = model.getParameter(FINAL_NORM) as tf.Tensor1D;
    const kernel = model.outputWeight();
    let g: tf.Tensor;
    try {
      const r = tf.engine().gradients(() => maskedCrossEntropy(rmsNorm(xTop, normW, model.config.rmsNormEps), kernel, sel), [xTop]);
      loss = r.value as tf.Scalar;
      g = r.grads[0] as tf.Tensor;
    } finally {
      normW.dispose();
    }
    for (let l = L - 1; l >= first; l--) {
      const rec = inputs.get(l);
      if (rec === undefined) throw new Error(`internal: block ${l} input was not kept`);
      const vars = byLayer.get(l) ?? [];
      if (products !== undefined) products.mode = 'replay';
      const r = tf.engine().gradients(() => rec.run(rec.x, rec.aux), [rec.x, ...vars], g as tf.Tensor2D, true);
      if (products !== undefined) products.mode = 'off';
      r.value.dispose();
      g.dispose();
      g = r.grads[0] ?? tf.zerosLike(rec.x);
      vars.forEach((v, i) => {
        const gv = r.grads[i + 1];
        if (gv !== undefined && gv !== null) grads.set(v, gv);
      });
    }
    g.dispose();
    return { loss: loss as tf.Scalar, grads };
  } catch (e) {
    loss?.dispose();
    for (const t of grads.values()) t.dispose();
    throw e;
  } finally {
    for (const t of kept) t.dispose();
    products?.dispose();
  }
}

/** Block index of a module name such as "model.layers.12.mlp.down_proj". */
export function blockOf(module: string): number {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(module);
  if (m?.[1] === undefined) throw new Error(`module ${module} is not inside a decoder block`);
  return parseInt(m[1], 10);
}

/** The adapter variables of each decoder block, from the adapted modules' names. */
export function variablesByBlock(layers: readonly { module: string; variables: readonly tf.Variable[] }[]): Map<number, tf.Variable[]> {
  const out = new Map<number, tf.Variable[]>();
  for (const l of layers) {
    const b = blockOf(l.module);
    const list = out.get(b) ?? [];
    list.push(...l.variables);
    out.set(b, list);
  }
  return out;
}
