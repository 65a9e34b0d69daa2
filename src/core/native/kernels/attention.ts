/**
 * The attention kernels that exist only on `native` (native/blas/src/attention.cc): QK-norm + RoPE + head-major
 * layout in one pass, and scores + scale + mask + softmax + context + token-major merge in one pass, each with
 * the bits of the composed ops they replace. The model reaches them through attention-ops.ts.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, requireFloat32, type KernelContext } from '../kernel-context.js';

export const QK_NORM_ROPE_KERNEL = 'WsflowQkNormRope';
export const ATTENTION_KERNEL = 'WsflowAttention';
export const ATTENTION_GRAD_KERNEL = 'WsflowAttentionGrad';

/** inputs x [B·S, heads·D], weight [D], cos/sin [1|B, 1, S, D/2]; attrs batch, seq, eps → [B, heads, S, D]. */
export function qkNormRopeKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { x, weight, cos, sin } = params.inputs as Record<'x' | 'weight' | 'cos' | 'sin', tfc.TensorInfo>;
    for (const [name, t] of Object.entries({ x, weight, cos, sin })) requireFloat32(QK_NORM_ROPE_KERNEL, name, t);
    const { batch, seq, eps } = params.attrs as unknown as { batch: number; seq: number; eps: number };
    const qkNormRope = ctx.addon.qkNormRope;
    if (qkNormRope === undefined) throw new Error(`native ${QK_NORM_ROPE_KERNEL}: the addon build has no qkNormRope`);
    const backend = params.backend as MathBackendCPU;
    const xv = float32Values(backend, x);
    const d = weight.shape[0] ?? 1;
    const heads = (x.shape[1] ?? 0) / d;
    const out = new Float32Array(xv.length);
    qkNormRope(xv, float32Values(backend, weight), float32Values(backend, cos), float32Values(backend, sin), batch, seq, eps, out);
    return backend.makeTensorInfo([batch, heads, seq, d], 'float32', out);
  };
}

/** inputs q [B, H, S, D], k/v [B, KVH, T, D], mask [1|B, 1, S, T]; attr scale → [B·S, H·D]. */
export function attentionKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { q, k, v, mask } = params.inputs as Record<'q' | 'k' | 'v' | 'mask', tfc.TensorInfo>;
    for (const [name, t] of Object.entries({ q, k, v, mask })) requireFloat32(ATTENTION_KERNEL, name, t);
    const { scale } = params.attrs as unknown as { scale: number };
    const attention = ctx.addon.attention;
    if (attention === undefined) throw new Error(`native ${ATTENTION_KERNEL}: the addon build has no attention`);
    const backend = params.backend as MathBackendCPU;
    const [batch = 0, heads = 0, seq = 0, d = 0] = q.shape;
    const qv = float32Values(backend, q);
    const out = new Float32Array(qv.length);
    attention(qv, float32Values(backend, k), float32Values(backend, v), float32Values(backend, mask), batch, heads, k.shape[1] ?? 0, seq, scale, out);
    return backend.makeTensorInfo([batch * seq, heads * d], 'float32', out);
  };
}

/**
 * The gradient of ATTENTION_KERNEL: inputs q [B, H, S, D], k/v [B, KVH, T, D], mask [1|B, 1, S, T], dy [B·S, H·D];
 * attr scale → [dq like q, dk like k, dv like v]. The probabilities are recomputed per KV head inside the
 * kernel, never stored whole.
 */
export function attentionGradKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { q, k, v, mask, dy } = params.inputs as Record<'q' | 'k' | 'v' | 'mask' | 'dy', tfc.TensorInfo>;
    for (const [name, t] of Object.entries({ q, k, v, mask, dy })) requireFloat32(ATTENTION_GRAD_KERNEL, name, t);
    const { scale } = params.attrs as unknown as { scale: number };
    const attentionGrad = ctx.addon.attentionGrad;
    if (attentionGrad === undefined) throw new Error(`native ${ATTENTION_GRAD_KERNEL}: the addon build has no attentionGrad`);
    const backend = params.backend as MathBackendCPU;
    const [batch = 0, heads = 0, seq = 0] = q.shape;
    const qv = float32Values(backend, q);
    const kv = float32Values(backend, k);
    const dq = new Float32Array(qv.length);
    const dk = new Float32Array(kv.length);
    const dv = new Float32Array(kv.length);
    attentionGrad(qv, kv, float32Values(backend, v), float32Values(backend, mask), float32Values(backend, dy), batch, heads, k.shape[1] ?? 0, seq, scale, dq, dk, dv);
    return [backend.makeTensorInfo(q.shape.slice(), 'float32', dq), backend.makeTensorInfo(k.shape.slice(), 'float32', dk), backend.makeTensorInfo(v.shape.slice(), 'float32', dv)];
  };
}
