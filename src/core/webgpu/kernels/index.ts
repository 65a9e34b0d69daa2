/** wsflow's own WGSL kernels for tfjs-backend-webgpu: what the model, the adapters or their gradients need and tfjs lacks. */
import type * as tfc from '@tensorflow/tfjs-core';
import { registerBatchedInverse } from './batched-inverse.js';

/** Registers every kernel once; returns their names (for the backend's one-line description). */
export function registerWebgpuKernels(tf: typeof tfc): string[] {
  return [registerBatchedInverse(tf, 'webgpu')];
}
