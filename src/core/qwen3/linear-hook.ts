/**
 * The seam between the Qwen3 model and adapters: a hooked linear layer computes its output through the hook
 * instead of x·Wᵀ. Adapters (src/core/adapters) implement it; the model knows nothing about adapter types.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface LinearHook {
  /** y for x [N, in] of a linear layer whose frozen weight is W [out, in] (PyTorch layout, y = x·Wᵀ).
   *  `base(x)` computes x·Wᵀ efficiently (frozen: no weight gradient). Must be differentiable w.r.t. the
   *  hook's own tf.Variables (training). */
  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D;
  /** false when apply() never reads `weight`: the model then passes an empty [0, 0] placeholder instead of
   *  keeping an [out, in] copy of the frozen weight (a second copy of every hooked weight during training). */
  readonly usesWeight?: boolean;
}
