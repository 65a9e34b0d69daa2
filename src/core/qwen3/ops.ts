/**
 * The tensor operations of the Qwen3 forward pass, written for the wasm backend's matMul.
 *
 * tfjs-backend-wasm runs a matMul through XNNPACK only without transposeA/transposeB and with batch 1; anything
 * else falls back to a scalar loop 10–30x slower (measured: x[64,1024]·W[1024,3072]: 25 ms plain, 330 ms with
 * transposeB). On the XNNPACK path the RIGHT operand is packed into a private copy that stays cached for as
 * long as that tensor lives (batch_mat_mul_impl.cc keys its operator cache on the right operand): a weight used
 * on the right is held twice, which puts Qwen3-0.6B (2.4 GB of float32 weights) past the 4 GB wasm heap.
 * Frozen weights therefore stay in PyTorch layout [out, in] and always go on the LEFT: y = (W·xᵀ)ᵀ, where only
 * the small, short-lived xᵀ gets packed. Every matMul has a custom gradient with explicit transposes, and a
 * frozen weight is closed over rather than an input, so backward costs one matMul instead of two and never
 * computes a weight gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasNativeAttention, nativeAttention, nativeAttentionKnown, nativeQkNormRope } from '../native/attention-ops.js';
import { nativeRmsNorm, nativeSwiglu } from '../native/fused-ops.js';
import { nativePackedLinear } from '../native/linear-ops.js';

type SaveFn = (tensors: tf.Tensor[]) => void;
type GradInput = tf.Tensor | SaveFn;

function swapLast2(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const n = perm.length;
  perm[n - 1] = n - 2;
  perm[n - 2] = n - 1;
  return tf.transpose(t, perm);
}

/**
 * x [N, in] · W [out, in]ᵀ for a frozen weight in PyTorch layout, computed as (W·xᵀ)ᵀ so the weight is never
 * packed (see above). On `native` the opposite: the packed-weight kernel (src/core/native/linear-ops.ts), which
 * packs the weight once and keeps the pack while the weight lives (one extra copy of every linear weight, for a
 * product no longer dominated by packing), else one GEMM x·Wᵀ. Differentiable w.r.t. x only (frozenLinearInputGrad).
 */
export function frozenLinearOutIn(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  const native = tf.getBackend() === 'native';
  const op = tf.customGrad((...inputs: GradInput[]) => ({
    value: native
      ? (nativePackedLinear(inputs[0] as tf.Tensor2D, weight) ?? tf.matMul(inputs[0] as tf.Tensor2D, weight, false, true))
      : tf.transpose(tf.matMul(weight, tf.transpose(inputs[0] as tf.Tensor2D))),
    gradFunc: (dy: tf.Tensor) => frozenLinearInputGrad(dy as tf.Tensor2D, weight),
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * frozenLinearOutIn(x, weight) whose value `y` is already known (the same product computed earlier, e.g. in the
 * forward pass before a block is recomputed for its gradients, src/core/training/layered-backward.ts): no
 * product is computed, and the gradient w.r.t. x is frozenLinearOutIn's, bit for bit.
 */
export function frozenLinearOutInKnown(x: tf.Tensor2D, weight: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor2D {
  if (y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== weight.shape[0]) throw new Error(`internal: known product [${y.shape.join(', ')}] does not match x [${x.shape.join(', ')}]·W[${weight.shape.join(', ')}]ᵀ`);
  const op = tf.customGrad((..._inputs: GradInput[]) => ({
    value: tf.clone(y),
    gradFunc: (dy: tf.Tensor) => frozenLinearInputGrad(dy as tf.Tensor2D, weight),
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * dx = dy·W. On `native` (OpenBLAS, src/core/native) one GEMM: sgemm takes a transposed operand for free and
 * packs nothing persistently. Elsewhere (Wᵀ·dyᵀ)ᵀ with a short-lived transposed copy of W, for wasm (see above).
 */
function frozenLinearInputGrad(dy: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === 'native') return tf.matMul(dy, weight);
  return tf.transpose(tf.matMul(tf.transpose(weight), tf.transpose(dy))) as tf.Tensor2D;
}

/**
 * x [N, in] · kernel [in, out] for a frozen kernel (weight pre-transposed): differentiable w.r.t. x only.
 * On wasm the kernel is the packed right operand (held twice while it lives); prefer frozenLinearOutIn for
 * long-lived weights.
 * dx = dy · kernelᵀ computed as (kernel · dyᵀ)ᵀ, which is fast on wasm (no transposeB).
 */
export function frozenLinear(x: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad((...inputs: GradInput[]) => ({
    value: tf.matMul(inputs[0] as tf.Tensor2D, kernel),
    gradFunc: (dy: tf.Tensor) => tf.transpose(tf.matMul(kernel, tf.transpose(dy as tf.Tensor2D))),
  }));
  return op(x) as tf.Tensor2D;
}

/** Batched a [..., M, K] · b [..., K, N] (same batch dims) with explicit-transpose gradients for both. */
const bmmOp = tf.customGrad((...inputs: GradInput[]) => {
  const [a, b, save] = inputs as [tf.Tensor3D, tf.Tensor3D, SaveFn];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy as tf.Tensor3D, swapLast2(sb) as tf.Tensor3D), tf.matMul(swapLast2(sa) as tf.Tensor3D, dy as tf.Tensor3D)];
    },
  };
});

export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return bmmOp(a, b) as tf.Tensor3D;
}

/** Qwen3RMSNorm over the last axis: weight ⊙ x·rsqrt(mean(x²) + eps). */
export function rmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T {
  const fused = nativeRmsNorm(x, weight, eps);
  if (fused !== null) return fused;
  const variance = tf.mean(tf.square(x), -1, true);
  const normed = tf.mul(x, tf.rsqrt(tf.add(variance, eps)));
  return tf.mul(weight, normed) as T;
}

/** The SwiGLU MLP's inner product silu(gate) ⊙ up (one pass on `native`). */
export function swiglu<T extends tf.Tensor>(gate: T, up: T): T {
  return nativeSwiglu(gate, up) ?? (tf.mul(silu(gate), up) as T);
}

export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x)) as T;
}

/**
 * Half-split (NeoX) rotary embedding on x [B, heads, S, D] with cos/sin tables [B|1, 1, S, D/2]:
 * out = [x1·c − x2·s, x2·c + x1·s], identical to transformers' x·cos + rotate_half(x)·sin with duplicated tables.
 */
export function applyRope(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const half = (x.shape[3] as number) / 2;
  const [x1, x2] = tf.split(x, [half, half], 3) as [tf.Tensor4D, tf.Tensor4D];
  const a = tf.sub(tf.mul(x1, cos), tf.mul(x2, sin));
  const b = tf.add(tf.mul(x2, cos), tf.mul(x1, sin));
  return tf.concat([a, b], 3) as tf.Tensor4D;
}

/**
 * Per-head RMSNorm then RoPE of a q or k projection x [B·S, heads·D], returned head-major [B, heads, S, D]
 * (one kernel on `native`, same bits).
 */
export function qkNormRope(x: tf.Tensor2D, weight: tf.Tensor1D, cos: tf.Tensor4D, sin: tf.Tensor4D, batch: number, seq: number, eps: number): tf.Tensor4D {
  return nativeQkNormRope(x, weight, cos, sin, batch, seq, eps) ?? composedQkNormRope(x, weight, cos, sin, batch, seq, eps);
}

/** qkNormRope from separate ops, on any backend (the fallback, and the reference the native kernel's tests use). */
export function composedQkNormRope(x: tf.Tensor2D, weight: tf.Tensor1D, cos: tf.Tensor4D, sin: tf.Tensor4D, batch: number, seq: number, eps: number): tf.Tensor4D {
  const d = weight.shape[0];
  const heads = x.shape[1] / d;
  const normed = rmsNorm(tf.reshape(x, [batch, seq, heads, d]) as tf.Tensor4D, weight, eps);
  return applyRope(tf.transpose(normed, [0, 2, 1, 3]), cos, sin);
}

/**
 * Grouped-query attention softmax(q·kᵀ·scale + mask)·v for q [B, H, S, D], k/v [B, KVH, T, D] (query heads
 * g·nRep..g·nRep+nRep−1 share KV head g, without repeating K/V) and an additive mask [1|B, 1, S, T], merged back to
 * [B·S, H·D] (one kernel on `native`, same bits).
 */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number): tf.Tensor2D {
  return nativeAttention(q, k, v, mask, scale) ?? composedAttention(q, k, v, mask, scale);
}

/**
 * attention(q, k, v, mask, scale) whose value `out` an earlier pass computed from equal inputs, with attention's
 * gradient: only where attention is one kernel (`native`, attentionIsOneKernel); null elsewhere, where the
 * caller computes it again.
 */
export function attentionKnown(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number, out: tf.Tensor2D): tf.Tensor2D | null {
  return nativeAttentionKnown(q, k, v, mask, scale, out);
}

export function attentionIsOneKernel(): boolean {
  return hasNativeAttention();
}

/** attention from separate ops, on any backend (the fallback, and the reference the native kernel's tests use). */
export function composedAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, mask: tf.Tensor4D, scale: number): tf.Tensor2D {
  const [B, H, S, D] = q.shape;
  const [, KVH, T] = k.shape;
  const nRep = H / KVH;
  const qg = tf.reshape(q, [B * KVH, nRep * S, D]) as tf.Tensor3D;
  const kT = tf.reshape(tf.transpose(k, [0, 1, 3, 2]), [B * KVH, D, T]) as tf.Tensor3D;
  const scores = tf.add(tf.reshape(tf.mul(bmm(qg, kT), scale), [B, H, S, T]), mask);
  const probs = tf.reshape(tf.softmax(scores, -1), [B * KVH, nRep * S, T]) as tf.Tensor3D;
  const ctx = bmm(probs, tf.reshape(v, [B * KVH, T, D]) as tf.Tensor3D);
  return tf.reshape(tf.transpose(tf.reshape(ctx, [B, H, S, D]), [0, 2, 1, 3]), [B * S, H * D]) as tf.Tensor2D;
}
