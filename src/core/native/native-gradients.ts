/**
 * Gradient configs that send a backward through a native one-pass kernel (kernels/grad.ts) when the current
 * backend is `native` with that kernel, and compose exactly tfjs's own gradient otherwise. Registered after
 * tfjs's configs (register-gradients.ts), replacing them for every backend: off `native` nothing changes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SOFTMAX_GRAD_KERNEL } from './kernels/grad.js';

function onNative(kernel: string): boolean {
  return tf.getBackend() === 'native' && tf.getKernel(kernel, 'native') !== undefined;
}

/** Softmax: dx = y ⊙ (dy − Σ dy ⊙ y), one pass over the attention probabilities instead of four. */
const softmaxGrad: tf.GradConfig = {
  kernelName: 'Softmax',
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const y = saved[0] as tf.Tensor;
    const dyT = dy as tf.Tensor;
    const { dim } = attrs as unknown as { dim: number };
    const lastAxis = dim === -1 || dim === y.rank - 1;
    if (lastAxis && y.dtype === 'float32' && onNative(SOFTMAX_GRAD_KERNEL)) {
      return { logits: () => tf.engine().runKernel(SOFTMAX_GRAD_KERNEL, { y, dy: dyT }, {}) as tf.Tensor };
    }
    const dyTimesY = tf.mul(dyT, y);
    return { logits: () => tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y)) };
  },
};

export function registerNativeGradients(): void {
  tf.registerGradient(softmaxGrad);
}
