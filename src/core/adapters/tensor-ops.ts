/**
 * Differentiable tensor operations the adapters need that tfjs either lacks or does slowly.
 *
 * - tfjs' MatMul gradient uses transposeA/transposeB, which the wasm backend runs 10–30x slower than an
 *   explicit transpose followed by a plain matMul (measured here); `matmul` transposes explicitly (except on
 *   `native`, where sgemm reads a transposed operand in place).
 * - tfjs has no stopGradient; `stopGradient` is a custom gradient returning zeros.
 * - tf.norm's gradient is NaN at a zero vector even when clamped afterwards; `clampedNorm` is NaN-safe.
 * - tfjs has no matrix inverse; `batchedInverse` inverts small blocks in float64 on the host.
 *
 * Inside a customGrad forward the engine does not record ops on the tape, so anything the backward pass needs
 * must be passed through `save` (closures over intermediate tensors would see them disposed).
 */
import * as tf from '@tensorflow/tfjs-core';

type SaveFn = (tensors: tf.Tensor[]) => void;

interface GradResult {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/** tf.customGrad with the inputs as an array (tfjs' own signature is variadic and hard to type strictly). */
export function customOp(f: (inputs: tf.Tensor[], save: SaveFn) => GradResult): (...inputs: tf.Tensor[]) => tf.Tensor {
  const wrapped = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  };
  return tf.customGrad(wrapped as unknown as Parameters<typeof tf.customGrad>[0]);
}

function one(inputs: tf.Tensor[]): tf.Tensor {
  const [x] = inputs;
  if (x === undefined) throw new Error('internal: custom op called without input');
  return x;
}

function firstTwo(saved: tf.Tensor[]): [tf.Tensor, tf.Tensor] {
  const [a, b] = saved;
  if (a === undefined || b === undefined) throw new Error('internal: expected two tensors');
  return [a, b];
}

/** Swap the last two axes. */
function transposeLast2(t: tf.Tensor): tf.Tensor {
  if (t.rank === 2) return tf.transpose(t);
  if (t.rank === 3) return tf.transpose(t, [0, 2, 1]);
  throw new Error(`internal: transposeLast2 supports rank 2 or 3, got ${t.rank}`);
}

/** Sum a gradient down to `shape` where `shape` was broadcast along leading batch axes of size 1. */
function reduceToShape(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  if (g.shape.length !== shape.length) throw new Error(`internal: cannot reduce gradient of shape [${g.shape.join(', ')}] to [${shape.join(', ')}]`);
  const axes: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] === 1 && g.shape[i] !== 1) axes.push(i);
  return axes.length === 0 ? g : tf.sum(g, axes, true);
}

const matmulOp = customOp((inputs, save) => {
  const [a, b] = firstTwo(inputs);
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = firstTwo(saved);
      // on `native` (OpenBLAS sgemm) a transposed operand costs nothing, while an explicit transpose of the
      // activations (a: [tokens, in]) is a full copy per backward
      const native = tf.getBackend() === 'native';
      const da = native ? tf.matMul(dy as tf.Tensor3D, sb as tf.Tensor3D, false, true) : tf.matMul(dy as tf.Tensor3D, transposeLast2(sb) as tf.Tensor3D);
      const db = native ? tf.matMul(sa as tf.Tensor3D, dy as tf.Tensor3D, true, false) : tf.matMul(transposeLast2(sa) as tf.Tensor3D, dy as tf.Tensor3D);
      return [reduceToShape(da, sa.shape), reduceToShape(db, sb.shape)];
    },
  };
});

/**
 * a·b for rank-2 [m,k]·[k,n] or batched rank-3 [B,m,k]·[B|1,k,n], with a gradient that never uses
 * transposed-operand matMul.
 */
export function matmul<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: tf.Tensor2D | tf.Tensor3D): T {
  return matmulOp(a, b) as T;
}

/** x·Aᵀ for x [N, in], A [r, in] (a PyTorch-layout nn.Linear weight), differentiable in both. */
export function linearT(x: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
  return matmul(x, tf.transpose(a));
}

const stopGradientOp = customOp((inputs) => ({
  value: tf.clone(one(inputs)),
  gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)],
}));

/** The value of x with no gradient flowing back into it (torch's .detach()). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stopGradientOp(x) as T;
}

/**
 * max(‖v‖₂ along `axis`, minNorm) as torch.clamp(v.norm(dim=axis), min=minNorm), with torch's gradient:
 * v/‖v‖ where the norm is at least minNorm, exactly 0 elsewhere (never NaN, even for a zero vector).
 */
export function clampedNorm(v: tf.Tensor2D, axis: 0 | 1, minNorm: number): tf.Tensor1D {
  const op = customOp((inputs, save) => {
    const x = one(inputs);
    const norm = tf.sqrt(tf.sum(tf.square(x), axis));
    save([x, norm]);
    return {
      value: tf.maximum(norm, minNorm),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sn] = firstTwo(saved);
        const active = tf.greaterEqual(sn, minNorm);
        const safeNorm = tf.where(active, sn, tf.onesLike(sn));
        const coeff = tf.where(active, tf.div(dy, safeNorm), tf.zerosLike(sn));
        return [tf.mul(sx, tf.expandDims(coeff, axis))];
      },
    };
  });
  return op(v) as tf.Tensor1D;
}

/** Inverse of each [b, b] block of a [n, b, b] float32 array, computed in float64 (Gauss–Jordan, partial pivoting). */
export function invertBlocks(data: Float32Array | Float64Array, n: number, b: number): Float64Array {
  const out = new Float64Array(n * b * b);
  const m = new Float64Array(b * 2 * b);
  for (let k = 0; k < n; k++) {
    const base = k * b * b;
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < b; j++) {
        m[i * 2 * b + j] = data[base + i * b + j] as number;
        m[i * 2 * b + b + j] = i === j ? 1 : 0;
      }
    }
    for (let col = 0; col < b; col++) {
      let piv = col;
      let best = Math.abs(m[col * 2 * b + col] as number);
      for (let r = col + 1; r < b; r++) {
        const v = Math.abs(m[r * 2 * b + col] as number);
        if (v > best) {
          best = v;
          piv = r;
        }
      }
      if (best === 0) throw new Error(`block ${k} is singular (no pivot in column ${col})`);
      if (piv !== col) {
        for (let j = 0; j < 2 * b; j++) {
          const t = m[col * 2 * b + j] as number;
          m[col * 2 * b + j] = m[piv * 2 * b + j] as number;
          m[piv * 2 * b + j] = t;
        }
      }
      const p = m[col * 2 * b + col] as number;
      for (let j = 0; j < 2 * b; j++) m[col * 2 * b + j] = (m[col * 2 * b + j] as number) / p;
      for (let r = 0; r < b; r++) {
        if (r === col) continue;
        const f = m[r * 2 * b + col] as number;
        if (f === 0) continue;
        for (let j = 0; j < 2 * b; j++) m[r * 2 * b + j] = (m[r * 2 * b + j] as number) - f * (m[col * 2 * b + j] as number);
      }
    }
    for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) out[base + i * b + j] = m[i * 2 * b + b + j] as number;
  }
  return out;
}

/** A backend that cannot read synchronously registers a device kernel of this name (src/core/webgpu). */
export const BATCHED_INVERSE_KERNEL = 'WsflowBatchedInverse';

/**
 * M⁻¹ for a batch of small square matrices M [n, b, b], differentiable: d(M⁻¹) = −M⁻¹·dM·M⁻¹, so the
 * gradient w.r.t. M is −M⁻ᵀ·G·M⁻ᵀ. The inverse itself is computed on the host in float64 (tfjs has no
 * linalg.inv); this reads the blocks back synchronously, which is fine for OFT-sized blocks. Where the backend
 * has its own BATCHED_INVERSE_KERNEL (webgpu: no synchronous reads), that kernel computes it instead.
 */
export function batchedInverse(m: tf.Tensor3D): tf.Tensor3D {
  const op = customOp((inputs, save) => {
    const x = one(inputs);
    const [n, b] = [x.shape[0] as number, x.shape[1] as number];
    const inv =
      tf.getKernel(BATCHED_INVERSE_KERNEL, tf.getBackend()) !== undefined
        ? (tf.engine().runKernel(BATCHED_INVERSE_KERNEL, { x }) as tf.Tensor3D)
        : tf.tensor3d(Float32Array.from(invertBlocks(x.dataSync() as Float32Array, n, b)), [n, b, b]);
    save([inv]);
    return {
      value: inv,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sInv = saved[0];
        if (sInv === undefined) throw new Error('internal: batchedInverse backward is missing its saved inverse');
        const invT = tf.transpose(sInv, [0, 2, 1]) as tf.Tensor3D;
        return [tf.neg(tf.matMul(tf.matMul(invT, dy as tf.Tensor3D), invT))];
      },
    };
  });
  return op(m) as tf.Tensor3D;
}
