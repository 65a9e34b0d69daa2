/**
 * Weighted causal-LM cross-entropy over selected rows of the hidden states, chunked over the vocabulary so that
 * no [rows, vocab] tensor is ever formed (Qwen3's vocabulary is 151,936: one 512-row logits matrix is 311 MB).
 *
 * loss = Σ_i w_i · (logsumexp(W·h_i) − W[y_i]·h_i) for the selected rows i of hidden [R, E], the frozen output
 * weight W [V, E], targets y_i and weights w_i (1/N for a token mean). A custom gradient gives d loss / d hidden:
 * (softmax(W·h_i) − onehot(y_i))ᵀ·W·w_i on the selected rows, zero elsewhere — recomputed chunk by chunk from
 * the saved per-row logsumexp. Rows are picked and scattered back on the host: the gradient of tf.gather
 * needs UnsortedSegmentSum, which the wasm backend lacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customOp } from '../adapters/tensor-ops.js';
import { backendReadsSync } from '../host-read.js';
import { CROSS_ENTROPY_KERNEL } from '../native/kernels/cross-entropy.js';

export interface CrossEntropyRows {
  /** row indices into hidden [R, E] */
  rows: Int32Array;
  /** target token id per selected row */
  targets: Int32Array;
  /** weight per selected row */
  weights: Float32Array;
}

/**
 * Vocabulary columns per chunk so that neither the [rows, chunk] logits block nor the [hidden, chunk] slice of
 * the output kernel exceeds `budgetBytes`.
 */
export function vocabChunk(rows: number, hidden: number, vocab: number, budgetBytes = 32 * 1024 * 1024): number {
  return Math.max(256, Math.min(vocab, Math.floor(budgetBytes / (4 * Math.max(1, rows, hidden)))));
}

/** Rows [v0, v0 + width) of the output weight [V, E]: a contiguous block (column slices of [E, V] are ~10x slower on wasm). */
function sliceRows(weight: tf.Tensor2D, v0: number, width: number): tf.Tensor2D {
  return tf.slice(weight, [v0, 0], [width, weight.shape[1]]);
}

/** Scalar weighted cross-entropy; differentiable w.r.t. `hidden` only. `weight` is the output projection [V, E]. */
export function maskedCrossEntropy(hidden: tf.Tensor2D, weight: tf.Tensor2D, sel: CrossEntropyRows, chunk?: number): tf.Scalar {
  const n = sel.rows.length;
  if (sel.targets.length !== n || sel.weights.length !== n) throw new Error('maskedCrossEntropy: rows, targets and weights differ in length');
  const [R, E] = hidden.shape;
  const V = weight.shape[0];
  if (weight.shape[1] !== E) throw new Error(`maskedCrossEntropy: hidden has ${E} features but the output weight is [${weight.shape.join(', ')}]`);
  for (const y of sel.targets) if (y < 0 || y >= V) throw new Error(`maskedCrossEntropy: target id ${y} is outside the vocabulary (0..${V - 1})`);
  if (n === 0) return tf.mul(tf.sum(hidden), 0) as tf.Scalar;
  const width = chunk ?? vocabChunk(n, E, V);
  if (tf.getBackend() === 'native' && tf.getKernel(CROSS_ENTROPY_KERNEL, 'native') !== undefined && hidden.dtype === 'float32' && weight.dtype === 'float32') {
    return fusedCrossEntropy(hidden, weight, sel, width);
  }
  const op = customOp((inputs, save) => {
    const h = inputs[0] as tf.Tensor2D;
    const hSel = tf.gather(h, tf.tensor1d(sel.rows, 'int32')) as tf.Tensor2D;
    // weight-first products, logits transposed [chunk, n]: the weight block is the left operand (wasm packs and
    // caches the right one), and hSelᵀ, the right operand, is the same tensor for every chunk
    const hT = tf.transpose(hSel);
    let runMax: tf.Tensor1D = tf.fill([n], -Infinity) as tf.Tensor1D;
    let runSum: tf.Tensor1D = tf.zeros([n]) as tf.Tensor1D;
    for (let v0 = 0; v0 < V; v0 += width) {
      const w = Math.min(width, V - v0);
      const [m2, s2] = tf.tidy(() => {
        const logitsT = tf.matMul(sliceRows(weight, v0, w), hT);
        const m = tf.maximum(runMax, tf.max(logitsT, 0));
        const s = tf.add(tf.mul(runSum, tf.exp(tf.sub(runMax, m))), tf.sum(tf.exp(tf.sub(logitsT, tf.reshape(m, [1, n]))), 0));
        return [m, s];
      });
      runMax.dispose();
      runSum.dispose();
      runMax = m2 as tf.Tensor1D;
      runSum = s2 as tf.Tensor1D;
    }
    const lse = tf.add(runMax, tf.log(runSum));
    const targetRows = tf.gather(weight, tf.tensor1d(sel.targets, 'int32'), 0); // [n, E]
    const targetLogit = tf.sum(tf.mul(hSel, targetRows), 1);
    const weights = tf.tensor1d(sel.weights);
    const loss = tf.sum(tf.mul(tf.sub(lse, targetLogit), weights));
    save([hT, lse, weights, targetRows]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [shT, slse, sw, str] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D];
        const scale = tf.mul(sw, dy); // [n]
        // d/dh_i = w_i·dy·(Σ_v p_iv W[v] − W[y_i])
        let dSel: tf.Tensor2D = tf.neg(tf.mul(str, tf.reshape(scale, [n, 1]))) as tf.Tensor2D;
        for (let v0 = 0; v0 < V; v0 += width) {
          const w = Math.min(width, V - v0);
          const next = tf.tidy(() => {
            const wc = sliceRows(weight, v0, w);
            const pT = tf.exp(tf.sub(tf.matMul(wc, shT), tf.reshape(slse, [1, n]))); // [w, n]
            const gT = tf.mul(pT, tf.reshape(scale, [1, n]));
            return tf.add(dSel, tf.matMul(tf.transpose(gT), wc));
          });
          dSel.dispose();
          dSel = next as tf.Tensor2D;
        }
        return [scatterRows(dSel, sel.rows, R)];
      },
    };
  });
  return op(hidden) as tf.Scalar;
}

/**
 * The selected rows' gradient [n, E] scattered back into [R, E] (repeated rows summed); disposes `dSel`. On the
 * host when the backend reads synchronously (no differentiable scatter needed), on the device otherwise (webgpu).
 */
function scatterRows(dSel: tf.Tensor2D, rows: Int32Array, R: number): tf.Tensor2D {
  const [n, E] = dSel.shape;
  if (!backendReadsSync()) {
    const full = tf.scatterND(tf.tensor2d(rows, [n, 1], 'int32'), dSel, [R, E]) as tf.Tensor2D;
    dSel.dispose();
    return full;
  }
  const rowsData = dSel.dataSync() as Float32Array;
  const full = new Float32Array(R * E);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as number;
    const src = rowsData.subarray(i * E, (i + 1) * E);
    const dst = full.subarray(r * E, (r + 1) * E);
    for (let k = 0; k < E; k++) dst[k] = (dst[k] as number) + (src[k] as number);
  }
  dSel.dispose();
  return tf.tensor2d(full, [R, E]);
}

/** Whether the engine is recording a tape (inside tf.grad & co.); tfjs-core keeps this on its engine state only. */
function recordingGradients(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: unknown } }).state;
  return typeof state?.gradientDepth !== 'number' || state.gradientDepth > 0;
}

/**
 * `native`: loss and d loss / d hidden in one sweep of the vocabulary (native/kernels/cross-entropy.ts: 2 GEMMs
 * over the output weight instead of 3); the backward only scales the saved gradient by dy and scatters it.
 */
function fusedCrossEntropy(hidden: tf.Tensor2D, weight: tf.Tensor2D, sel: CrossEntropyRows, width: number): tf.Scalar {
  const R = hidden.shape[0];
  const run = (h: tf.Tensor2D, withGrad: boolean): [tf.Scalar, tf.Tensor2D] => {
    const hSel = tf.gather(h, tf.tensor1d(sel.rows, 'int32'));
    return tf.engine().runKernel(CROSS_ENTROPY_KERNEL, { h: hSel, weight, targets: tf.tensor1d(sel.targets, 'int32'), rowWeights: tf.tensor1d(sel.weights) }, { chunk: width, withGrad }) as unknown as [tf.Scalar, tf.Tensor2D];
  };
  // no gradient can be asked for outside tf.grad/variableGrads/engine().gradients (e.g. evaluateLoss): skip its GEMM
  if (!recordingGradients()) {
    const [loss, empty] = run(hidden, false);
    empty.dispose();
    return loss;
  }
  const op = customOp((inputs, save) => {
    const [loss, dSel] = run(inputs[0] as tf.Tensor2D, true);
    save([dSel]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [scatterRows(tf.mul(saved[0] as tf.Tensor2D, dy), sel.rows, R)],
    };
  });
  return op(hidden) as tf.Scalar;
}
