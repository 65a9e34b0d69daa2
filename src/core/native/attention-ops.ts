/**
 * The model's entry to the native attention kernels (kernels/attention.ts), differentiable: each forward is one
 * kernel, each backward the analytic gradient in ordinary tfjs ops (the attention recomputes its probabilities
 * from the saved q and k rather than keeping them; one kernel, ATTENTION_GRAD_KERNEL, where the addon has it). Each function returns null when the current backend has no
 * such kernel (not `native`, or an addon built before it existed), and the caller composes the ops itself.
 * cos/sin and the mask carry no gradient: they are saved with the inputs rather than closed over, because a
 * full tape (tf.variableGrads over the whole model) runs the backward after the forward has disposed them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, QK_NORM_ROPE_KERNEL } from './kernels/attention.js';
import { rmsNormGrads } from './fused-ops.js';
import { SOFTMAX_GRAD_KERNEL } from './kernels/grad.js';

type SaveFn = (tensors: tf.Tensor[]) => void;

function hasNativeKernel(name: string): boolean {
  return tf.getBackend() === 'native' && tf.getKernel(name, 'native') !== undefined;
}

/**
 * Half-split RoPE of rmsNorm over each head of x [B·S, heads·D], moved to head-major [B, heads, S, D]; cos/sin
 * [1|B, 1, S, D/2]. One kernel on `native`, null elsewhere.
 */
export function nativeQkNormRope(
  x: tf.Tensor2D, weight: tf.Tensor1D, cos: tf.Tensor4D, sin: tf.Tensor4D, batch: number, seq: number, eps: number,
): tf.Tensor4D | null {
  if (!hasNativeKernel(QK_NORM_ROPE_KERNEL) || x.dtype !== 'float32' || weight.dtype !== 'float32') return null;
  const d = weight.shape[0];
  const heads = x.shape[1] / d;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | SaveFn>) => {
    const [xi, wi, save] = inputs as [tf.Tensor2D, tf.Tensor1D, SaveFn];
    save([xi, wi, cos, sin]);
    const value = tf.engine().runKernel(QK_NORM_ROPE_KERNEL, { x: xi, weight: wi, cos, sin }, { batch, seq, eps }) as tf.Tensor4D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sCos, sSin] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor4D, tf.Tensor4D];
        // rope is a rotation per pair (x1, x2): its transpose rotates back
        const [dy1, dy2] = tf.split(dy, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
        const dx1 = tf.add(tf.mul(dy1, sCos), tf.mul(dy2, sSin));
        const dx2 = tf.sub(tf.mul(dy2, sCos), tf.mul(dy1, sSin));
        const dNormed = tf.transpose(tf.concat([dx1, dx2], 3), [0, 2, 1, 3]);
        const [dx, dw] = rmsNormGrads(dNormed, tf.reshape(sx, [batch, seq, heads, d]), sw, eps);
        return [tf.reshape(dx, sx.shape), dw];
      },
    };
  });
  return op(x, weight) as tf.Tensor4D;
}

/**
 * softmax(q·kᵀ·scale + mask)·v merged to [B·S, H·D], for q [B, H, S, D], k/v [B, KVH, T, D] (grouped-query) and
 * an additive mask [1|B, 1, S, T]. One kernel on `native`, null elsewhere.
 */
export function nativeAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number): tf.Tensor2D | null {
  if (!hasNativeKernel(ATTENTION_KERNEL) || [q, k, v, mask].some((t) => t.dtype !== 'float32')) return null;
  return attentionOp(q, k, v, mask, scale, (qi, ki, vi) => tf.engine().runKernel(ATTENTION_KERNEL, { q: qi, k: ki, v: vi, mask }, { scale }) as tf.Tensor2D);
}

/** Whether nativeAttention runs the addon's kernel (else it returns null). */
export function hasNativeAttention(): boolean {
  return hasNativeKernel(ATTENTION_KERNEL);
}

/**
 * nativeAttention whose value `out` is already known (computed by nativeAttention on equal inputs, e.g. in the
 * forward pass before a block is recomputed for its gradients, src/core/training/layered-backward.ts): no
 * attention is computed, and the gradient is nativeAttention's. Null where nativeAttention is.
 */
export function nativeAttentionKnown(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number, out: tf.Tensor2D): tf.Tensor2D | null {
  if (!hasNativeKernel(ATTENTION_KERNEL) || [q, k, v, mask].some((t) => t.dtype !== 'float32')) return null;
  return attentionOp(q, k, v, mask, scale, () => tf.clone(out));
}

function attentionOp(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number, forward: (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D {
  const [B, H, S, D] = q.shape;
  const [, KVH, T] = k.shape;
  const M = (H / KVH) * S;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | SaveFn>) => {
    const [qi, ki, vi, save] = inputs as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, SaveFn];
    save([qi, ki, vi, mask]);
    const value = forward(qi, ki, vi);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sMask] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        // one kernel where the addon has it: the same arithmetic per KV head, no [B·KVH, M, T] tensor
        if (hasNativeKernel(ATTENTION_GRAD_KERNEL)) return tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { q: sq, k: sk, v: sv, mask: sMask, dy }, { scale }) as unknown as tf.Tensor[];
        const qg = tf.reshape(sq, [B * KVH, M, D]) as tf.Tensor3D;
        const k3 = tf.reshape(sk, [B * KVH, T, D]) as tf.Tensor3D;
        const v3 = tf.reshape(sv, [B * KVH, T, D]) as tf.Tensor3D;
        const scores = tf.add(tf.reshape(tf.mul(tf.matMul(qg, k3, false, true), scale), [B, H, S, T]), sMask);
        const p = tf.reshape(tf.softmax(scores, -1), [B * KVH, M, T]) as tf.Tensor3D;
        const dO = tf.reshape(tf.transpose(tf.reshape(dy, [B, S, H, D]), [0, 2, 1, 3]), [B * KVH, M, D]) as tf.Tensor3D;
        const dV = tf.matMul(p, dO, true, false);
        const dP = tf.matMul(dO, v3, false, true);
        // softmax's backward p ⊙ (dP − Σ dP ⊙ p): one pass over the [B·KVH, M, T] probabilities where the addon has it
        const dS = (hasNativeKernel(SOFTMAX_GRAD_KERNEL) ? tf.engine().runKernel(SOFTMAX_GRAD_KERNEL, { y: p, dy: dP }, {}) : tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true)))) as tf.Tensor3D;
        const dQ = tf.mul(tf.matMul(dS, k3), scale);
        const dK = tf.mul(tf.matMul(dS, qg, true, false), scale);
        return [tf.reshape(dQ, sq.shape), tf.reshape(dK, sk.shape), tf.reshape(dV, sv.shape)];
      },
    };
  });
  return op(q, k, v) as tf.Tensor2D;
}
