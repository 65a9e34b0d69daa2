/**
 * The model's entry to the native packed-weight linear kernel (kernels/packed-linear.ts): the value of x·Wᵀ for a
 * frozen weight, or null when the current backend has no such kernel (not `native`, or an addon built without
 * AVX2/FMA or before the kernel existed), and the caller then uses matMul. Not differentiable by itself: the
 * caller (src/core/qwen3/ops.ts, frozenLinearOutIn) wraps it with the frozen weight's input gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { PACKED_LINEAR_KERNEL } from './kernels/packed-linear.js';

export function nativePackedLinear(x: tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D | null {
  if (tf.getBackend() !== 'native' || tf.getKernel(PACKED_LINEAR_KERNEL, 'native') === undefined) return null;
  if (x.dtype !== 'float32' || weight.dtype !== 'float32') return null;
  return tf.engine().runKernel(PACKED_LINEAR_KERNEL, { x, weight }, {}) as tf.Tensor2D;
}
