/**
 * The seam between the Qwen3 model and adapters: a hooked linear layer computes its output through the hook
 * instead of x·Wᵀ. Adapters (src/core/adapters) implement it; the model knows nothing about adapter types.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface LinearHook {
  /** y for x [N, in] of a linear layer whose frozen weight is W [out, in] (PyTorch layout, y = x·Wᵀ).
   *  `base(x)` computes x·Wᵀ efficiently (frozen: no weight gradient). Must be differentiable w.r.t. the
   *  hook's own tf.Variables (training). `weight` is the model's own tensor: read it, never dispose it. */
  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D;
  /** Informational: whether apply() reads `weight`. The model passes its stored [out, in] tensor either way
   *  (no copy is made), so this no longer changes anything. */
  readonly usesWeight?: boolean;
}
