/**
 * What the adapters need from a model (Qwen3Model satisfies it structurally): named linear modules, hooks on
 * them, and their weights. The hook contract itself is the core's LinearHook.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LinearHook } from '../qwen3/linear-hook.js';

export type { LinearHook };

export interface HookableModel {
  /** HF module names of every decoder linear layer, e.g. "model.layers.3.self_attn.q_proj" (lm_head excluded) */
  linearModuleNames(): string[];
  setLinearHook(moduleName: string, hook: LinearHook | null): void;
  /** PyTorch shape of a parameter, e.g. [out, in] for "model.layers.3.self_attn.q_proj.weight" */
  parameterShape(name: string): number[];
  /** a parameter in PyTorch layout; the caller owns (and disposes) the result */
  getParameter(name: string): tf.Tensor;
  /** swap in a same-shape float32 tensor (the model copies it; the caller keeps `t`); returns the previous value, owned by the caller */
  setParameter(name: string, t: tf.Tensor): tf.Tensor;
}
