/**
 * torch.nn.utils.clip_grad_norm_ as the HF Trainer calls it (max_grad_norm, default 1.0): the global L2 norm over
 * every gradient; all gradients are multiplied by min(1, max_norm / (norm + 1e-6)).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Returns the clipped gradients (new tensors; the inputs are left alone) and the norm before clipping. The
 * squared norms are read asynchronously (webgpu cannot read synchronously) and summed on the host in order.
 */
export async function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): Promise<{ grads: tf.Tensor[]; norm: number }> {
  let sumSq = 0;
  for (const g of grads) {
    const s = tf.tidy(() => tf.sum(tf.square(g)));
    sumSq += (await s.data())[0] as number;
    s.dispose();
  }
  const norm = Math.sqrt(sumSq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return { grads: grads.map((g) => (coef < 1 ? tf.mul(g, coef) : tf.clone(g))), norm };
}
