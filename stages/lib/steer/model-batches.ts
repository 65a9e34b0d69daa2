/**
 * Batched forward passes over token sequences of different lengths.
 *
 * Rows are right-padded and scored at each row's last REAL token (positions are derived from the attention mask,
 * so a padded row computes exactly what it would alone, up to float rounding of the batched matmuls). The
 * reference left-pads and reads logits[:, -1]; with positions counted from 0 in each row the two are the same
 * computation. Sequences are sorted by length before batching to keep padding small; results come back in input
 * order.
 */
import type { ForwardOptions, Qwen3Model } from '../../../src/core/qwen3/model.js';
import { padBatch } from '../../../src/core/batch.js';

export interface BatchOptions {
  batchSize: number;
  forward?: ForwardOptions;
  signal?: AbortSignal;
  /** rows done so far, after each batch */
  onProgress?: (done: number, total: number) => void;
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('aborted');
}

/** Indices of `seqs` in batches of at most batchSize, longest first. */
export function lengthSortedBatches(seqs: readonly (readonly number[])[], batchSize: number): number[][] {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`batch_size must be a positive integer, got ${batchSize}`);
  const order = seqs.map((s, i) => i).sort((a, b) => (seqs[b] as readonly number[]).length - (seqs[a] as readonly number[]).length || a - b);
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/**
 * For every sequence, call `consume(index, logits)` with the full-vocabulary logits at its last real token.
 * The logits array is only valid during the call.
 */
export async function forEachLastLogits(model: Qwen3Model, seqs: readonly (readonly number[])[], opts: BatchOptions, consume: (index: number, logits: Float32Array) => void): Promise<void> {
  const V = model.config.vocabSize;
  let done = 0;
  for (const batch of lengthSortedBatches(seqs, opts.batchSize)) {
    checkAborted(opts.signal);
    const { ids, mask } = padBatch(batch.map((i) => seqs[i] as readonly number[]), 0, 'right');
    const logits = model.lastLogits(ids, mask, opts.forward ?? {});
    let data: Float32Array;
    try {
      data = (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
    batch.forEach((index, b) => consume(index, data.subarray(b * V, (b + 1) * V)));
    done += batch.length;
    opts.onProgress?.(done, seqs.length);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * log_softmax at the positions predicting each sequence's last `nTokens` tokens (indices −n−1 … −2 from the end):
 * one Float32Array [nTokens × V] per sequence, in input order.
 */
export async function tailLogprobs(model: Qwen3Model, seqs: readonly (readonly number[])[], nTokens: number, opts: BatchOptions): Promise<Float32Array[]> {
  if (!(Number.isInteger(nTokens) && nTokens >= 1)) throw new Error(`n_tokens must be a positive integer, got ${nTokens}`);
  seqs.forEach((s, i) => {
    if (s.length < nTokens + 1) throw new Error(`input ${i} has ${s.length} tokens; scoring its last ${nTokens} needs at least ${nTokens + 1}`);
  });
  const positions = Array.from({ length: nTokens }, (_, k) => -nTokens - 1 + k);
  const V = model.config.vocabSize;
  const out: Float32Array[] = new Array<Float32Array>(seqs.length);
  let done = 0;
  for (const batch of lengthSortedBatches(seqs, opts.batchSize)) {
    checkAborted(opts.signal);
    const { ids, mask } = padBatch(batch.map((i) => seqs[i] as readonly number[]), 0, 'right');
    // raw logits, normalised here: tfjs's logSoftmax over a 152k vocabulary costs ~3× the forward pass itself
    const logits = model.logits(ids, mask, { ...(opts.forward ?? {}), positions });
    let data: Float32Array;
    try {
      data = (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
    const per = nTokens * V;
    batch.forEach((index, b) => {
      const rows = data.slice(b * per, (b + 1) * per);
      for (let k = 0; k < nTokens; k++) logSoftmaxInPlace(rows.subarray(k * V, (k + 1) * V));
      out[index] = rows;
    });
    done += batch.length;
    opts.onProgress?.(done, seqs.length);
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

/** log_softmax of one row in place (accumulated in float64, stored as float32). */
export function logSoftmaxInPlace(row: Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
  if (!Number.isFinite(max)) throw new Error(`log_softmax: the logits are not finite (max ${max})`);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < row.length; i++) row[i] = (row[i] as number) - lse;
}

/** Residual stream after every decoder block at each sequence's last real token: [L][B] rows of width E, as float64. */
export async function lastTokenResiduals(model: Qwen3Model, seqs: readonly (readonly number[])[], opts: BatchOptions): Promise<Float64Array[][]> {
  const L = model.numLayers;
  const E = model.config.hiddenSize;
  const out: Float64Array[][] = Array.from({ length: L }, () => new Array<Float64Array>(seqs.length));
  let done = 0;
  for (const batch of lengthSortedBatches(seqs, opts.batchSize)) {
    checkAborted(opts.signal);
    const { ids, mask } = padBatch(batch.map((i) => seqs[i] as readonly number[]), 0, 'right');
    const rs = model.residualStream(ids, mask, { ...(opts.forward ?? {}), at: 'last' });
    let data: Float32Array;
    try {
      data = (await rs.data()) as Float32Array;
    } finally {
      rs.dispose();
    }
    const B = batch.length;
    for (let l = 0; l < L; l++) {
      batch.forEach((index, b) => {
        const o = (l * B + b) * E;
        (out[l] as Float64Array[])[index] = Float64Array.from(data.subarray(o, o + E));
      });
    }
    done += batch.length;
    opts.onProgress?.(done, seqs.length);
    await new Promise((r) => setImmediate(r));
  }
  return out;
}
