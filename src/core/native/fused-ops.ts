/**
 * The model's entry to the native-only fused kernels (kernels/fused.ts), differentiable: each forward is one
 * kernel, each backward the analytic gradient in ordinary tfjs ops. Every function returns null when the
 * current backend has no such kernel (not `native`, or an addon built before the kernel existed), and the caller
 * then composes the op itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import { RMS_NORM_KERNEL, SWIGLU_KERNEL } from './kernels/fused.js';
import { RMS_NORM_GRAD_KERNEL, SWIGLU_GRAD_KERNEL } from './kernels/grad.js';

type SaveFn = (tensors: tf.Tensor[]) => void;

function hasNativeKernel(name: string): boolean {
  return tf.getBackend() === 'native' && tf.getKernel(name, 'native') !== undefined;
}

/**
 * d/dx and d/dw of y = w ⊙ x·r, r = rsqrt(mean(x²) + eps) over the last axis:
 * dx = r·g − x·r³·mean(g ⊙ x) with g = dy ⊙ w; dw = Σ over rows of dy ⊙ x·r.
 */
export function rmsNormGrads(dy: tf.Tensor, x: tf.Tensor, weight: tf.Tensor1D, eps: number): [tf.Tensor, tf.Tensor1D] {
  // one pass in the addon (kernels/grad.ts) where the build has it
  if (hasNativeKernel(RMS_NORM_GRAD_KERNEL)) return tf.engine().runKernel(RMS_NORM_GRAD_KERNEL, { dy, x, weight }, { eps }) as unknown as [tf.Tensor, tf.Tensor1D];
  const n = weight.shape[0];
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps));
  const g = tf.mul(dy, weight);
  const dx = tf.sub(tf.mul(g, r), tf.mul(tf.mul(x, tf.pow(r, 3)), tf.mean(tf.mul(g, x), -1, true)));
  const dw = tf.sum(tf.reshape(tf.mul(dy, tf.mul(x, r)), [-1, n]), 0) as tf.Tensor1D;
  return [dx, dw];
}

/** weight ⊙ x·rsqrt(mean(x²) + eps) over the last axis in one kernel, or null off `native`. */
export function nativeRmsNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, eps: number): T | null {
  if (!hasNativeKernel(RMS_NORM_KERNEL) || x.dtype !== 'float32' || weight.dtype !== 'float32') return null;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | SaveFn>) => {
    const [xi, wi, save] = inputs as [tf.Tensor, tf.Tensor1D, SaveFn];
    save([xi, wi]);
    const value = tf.engine().runKernel(RMS_NORM_KERNEL, { x: xi, weight: wi }, { eps }) as tf.Tensor;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => rmsNormGrads(dy, saved[0] as tf.Tensor, saved[1] as tf.Tensor1D, eps),
    };
  });
  return op(x, weight) as T;
}

/** silu(gate) ⊙ up in one kernel, or null off `native` (or when the shapes differ: the kernel does not broadcast). */
export function nativeSwiglu<T extends tf.Tensor>(gate: T, up: T): T | null {
  if (!hasNativeKernel(SWIGLU_KERNEL) || gate.dtype !== 'float32' || up.dtype !== 'float32') return null;
  if (gate.shape.length !== up.shape.length || gate.shape.some((d, i) => d !== up.shape[i])) return null;
  const op = tf.customGrad((...inputs: Array<tf.Tensor | SaveFn>) => {
    const [g, u, save] = inputs as [tf.Tensor, tf.Tensor, SaveFn];
    save([g, u]);
    const value = tf.engine().runKernel(SWIGLU_KERNEL, { gate: g, up: u }, {}) as tf.Tensor;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sg, su] = saved as [tf.Tensor, tf.Tensor];
        if (hasNativeKernel(SWIGLU_GRAD_KERNEL)) return tf.engine().runKernel(SWIGLU_GRAD_KERNEL, { dy, gate: sg, up: su }, {}) as unknown as tf.Tensor[];
        const s = tf.sigmoid(sg);
        const silu = tf.mul(sg, s);
        // d silu/dg = s·(1 + g·(1 − s))
        const dSilu = tf.mul(s, tf.add(1, tf.mul(sg, tf.sub(1, s))));
        return [tf.mul(tf.mul(dy, su), dSilu), tf.mul(dy, silu)];
      },
    };
  });
  return op(gate, up) as T;
}
