/**
 * The seam between the Qwen3 model and the adapters: a model routes each hooked linear layer through a hook.
 * Declared here until the core model exports the same interface; structural typing makes the two interchangeable.
 */
import type * as tf from '@tensorflow/tfjs-core';

export interface LinearHook {
  /** y for x [N, in] of a linear layer whose frozen weight is W [out, in] (PyTorch layout, y = x·Wᵀ).
   *  `base(x)` computes x·Wᵀ efficiently (frozen: no weight gradient). Must be differentiable w.r.t. the
   *  hook's own tf.Variables (training). */
  apply(x: tf.Tensor2D, base: (x: tf.Tensor2D) => tf.Tensor2D, weight: tf.Tensor2D): tf.Tensor2D;
}

/** What the adapters need from a model: named linear modules, hooks on them, and their weights. */
export interface HookableModel {
  /** HF module names of every linear layer, e.g. "model.layers.3.self_attn.q_proj" (lm_head excluded) */
  linearModuleNames(): string[];
  setLinearHook(moduleName: string, hook: LinearHook | null): void;
  /** e.g. "model.layers.3.self_attn.q_proj.weight" */
  getParameter(name: string): tf.Tensor;
  /** swap in a same-shape tensor; returns the previous one (the caller owns it) */
  setParameter(name: string, t: tf.Tensor): tf.Tensor;
}
