/**
 * The causal-LM loss over the vocabulary and its gradient in ONE sweep of the output weight, on `native`
 * (src/core/training/masked-cross-entropy.ts reaches it). The composed form computes every logits chunk twice,
 * once for the loss and once more in the backward (3 GEMMs of [rows × E × V]); here each chunk's
 * exp(logit − running max) feeds the gradient GEMM right away, and the partial gradient sum is rescaled when the
 * running max grows (as in online softmax), so the backward has nothing left to compute: 2 GEMMs, as PyTorch.
 *
 * inputs h [n, E] (the selected rows), weight [V, E], targets int32 [n], rowWeights [n]; attrs chunk (vocabulary
 * columns per GEMM), withGrad (false: the loss alone, one GEMM; dh is then [0, E]) → [loss (scalar):
 * Σ w_i·(lse_i − logit_i,y_i), dh [n, E]: d loss / d h].
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, type KernelContext } from '../kernel-context.js';

export const CROSS_ENTROPY_KERNEL = 'WsflowCrossEntropy';

export function crossEntropyKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { h, weight, targets, rowWeights } = params.inputs as Record<'h' | 'weight' | 'targets' | 'rowWeights', tfc.TensorInfo>;
    const { chunk, withGrad } = params.attrs as unknown as { chunk: number; withGrad: boolean };
    const backend = params.backend as MathBackendCPU;
    const { addon } = ctx;
    const { ceChunk, rowScaleAdd } = addon;
    if (ceChunk === undefined || rowScaleAdd === undefined) throw new Error(`native ${CROSS_ENTROPY_KERNEL}: the addon build lacks ceChunk (rebuild with \`npm run build:native\`)`);
    if (targets.dtype !== 'int32') throw new Error(`native ${CROSS_ENTROPY_KERNEL}: targets of dtype ${targets.dtype}, expected int32`);
    const hv = float32Values(backend, h);
    const wv = float32Values(backend, weight);
    const tv = backend.data.get(targets.dataId).values as Int32Array;
    const rw = float32Values(backend, rowWeights);
    const [n, E] = h.shape as [number, number];
    const V = weight.shape[0] as number;
    const width = Math.max(1, Math.min(chunk, V));
    const logits = new Float32Array(n * width);
    const part = new Float32Array(withGrad ? n * E : 0);
    const acc = new Float32Array(withGrad ? n * E : 0);
    const runMax = new Float32Array(n).fill(-Infinity);
    const runSum = new Float64Array(n);
    const rowScale = new Float32Array(n);
    const targetLogit = new Float32Array(n);
    const zero = new Float64Array(1);
    const off = new Float64Array(1);
    for (let v0 = 0; v0 < V; v0 += width) {
      const w = Math.min(width, V - v0);
      off[0] = v0 * E;
      const l = w === width ? logits : logits.subarray(0, n * w);
      addon.gemm(hv, wv, l, 1, n, w, E, false, true, zero, off); // [n, w] = h · W[v0:v0+w]ᵀ
      ceChunk.call(addon, l, n, w, v0, tv, runMax, runSum, rowScale, targetLogit);
      if (!withGrad) continue;
      addon.gemm(l, wv, part, 1, n, E, w, false, false, zero, off); // [n, E] = P · W[v0:v0+w]
      rowScaleAdd.call(addon, acc, rowScale, part);
    }
    // dh_i = w_i·(Σ_v p_iv W[v] − W[y_i]), p_iv = acc_i / runSum_i
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const wi = rw[i] as number;
      const s = runSum[i] as number;
      loss += wi * ((runMax[i] as number) + Math.log(s) - (targetLogit[i] as number));
      if (!withGrad) continue;
      const inv = wi / s;
      const yOff = (tv[i] as number) * E;
      for (let k = i * E, j = 0; j < E; j++, k++) acc[k] = (acc[k] as number) * inv - wi * (wv[yOff + j] as number);
    }
    return [backend.makeTensorInfo([], 'float32', Float32Array.of(loss)), backend.makeTensorInfo([withGrad ? n : 0, E], 'float32', acc)];
  };
}
