/**
 * The `native` tfjs backend: a MathBackendCPU (same storage, same JS kernels) with the hot kernels
 * replaced by OpenBLAS/C++ ones. `cpu` itself is left untouched so tests can compare the two.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { KernelContext, Tfc } from './kernel-context.js';
import type { NativeAddon } from './load-addon.js';
import { batchMatMulKernel, fusedMatMulKernel } from './kernels/batch-mat-mul.js';
import { BINARY_OPS, binaryKernel } from './kernels/binary.js';
import { concatKernel, gatherV2Kernel, padV2Kernel, sliceKernel, splitVKernel, tileKernel, transposeKernel } from './kernels/layout.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, attentionGradKernel, attentionKernel, QK_NORM_ROPE_KERNEL, qkNormRopeKernel } from './kernels/attention.js';
import { RMS_NORM_KERNEL, rmsNormKernel, SWIGLU_KERNEL, swigluKernel } from './kernels/fused.js';
import { PACKED_LINEAR_KERNEL, packedLinearKernel } from './kernels/packed-linear.js';
import { reduceKernel, softmaxKernel } from './kernels/reduce.js';
import { CROSS_ENTROPY_KERNEL, crossEntropyKernel } from './kernels/cross-entropy.js';
import { RMS_NORM_GRAD_KERNEL, rmsNormGradKernel, SOFTMAX_GRAD_KERNEL, softmaxGradKernel, SWIGLU_GRAD_KERNEL, swigluGradKernel } from './kernels/grad.js';
import { UNARY_OPS, unaryKernel } from './kernels/unary.js';

export const NATIVE_BACKEND = 'native';

/** Kernel name → factory of its native implementation. */
const NATIVE_KERNELS: Record<string, (ctx: KernelContext) => tfc.KernelFunc> = {
  BatchMatMul: batchMatMulKernel,
  _FusedMatMul: fusedMatMulKernel,
  Transpose: transposeKernel,
  Slice: sliceKernel,
  SplitV: splitVKernel,
  Concat: concatKernel,
  PadV2: padV2Kernel,
  Tile: tileKernel,
  GatherV2: gatherV2Kernel,
  Sum: reduceKernel('Sum'),
  Mean: reduceKernel('Mean'),
  Max: reduceKernel('Max'),
  Softmax: softmaxKernel,
  ...Object.fromEntries(Object.keys(BINARY_OPS).map((name) => [name, binaryKernel(name)])),
  ...Object.fromEntries(Object.keys(UNARY_OPS).map((name) => [name, unaryKernel(name)])),
};

export async function registerNativeBackend(tf: Tfc, addon: NativeAddon): Promise<string[]> {
  const cpu = await import('@tensorflow/tfjs-backend-cpu');
  const cpuKernels = new Map<string, tfc.KernelConfig>();
  for (const config of tf.getKernelsForBackend('cpu')) cpuKernels.set(config.kernelName, config);
  const ctx: KernelContext = {
    addon,
    tf,
    cpuKernel(name) {
      const config = cpuKernels.get(name);
      if (config === undefined) throw new Error(`native backend: the cpu backend has no '${name}' kernel to fall back on`);
      return config.kernelFunc;
    },
  };
  // Priority 0: never picked implicitly; backend selection sets it by name.
  tf.registerBackend(NATIVE_BACKEND, () => {
    const backend = new cpu.MathBackendCPU();
    // The cpu backend's first-use banner recommends tfjs-node; for this backend it would mislead.
    (backend as unknown as { firstUse: boolean }).firstUse = false;
    return backend;
  }, 0);
  const overridden: string[] = [];
  for (const config of cpuKernels.values()) {
    const native = NATIVE_KERNELS[config.kernelName];
    if (native !== undefined) overridden.push(config.kernelName);
    tf.registerKernel({
      ...config,
      backendName: NATIVE_BACKEND,
      kernelFunc: native !== undefined ? native(ctx) : config.kernelFunc,
    });
  }
  // Kernels tfjs has no name for (src/core/native/fused-ops.ts calls them); older addon builds lack them.
  if (addon.rmsNorm !== undefined) {
    tf.registerKernel({ kernelName: RMS_NORM_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: rmsNormKernel(ctx) });
    overridden.push(RMS_NORM_KERNEL);
  }
  if (addon.swiglu !== undefined) {
    tf.registerKernel({ kernelName: SWIGLU_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: swigluKernel(ctx) });
    overridden.push(SWIGLU_KERNEL);
  }
  if (addon.qkNormRope !== undefined && addon.attention !== undefined) {
    tf.registerKernel({ kernelName: QK_NORM_ROPE_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: qkNormRopeKernel(ctx) });
    tf.registerKernel({ kernelName: ATTENTION_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: attentionKernel(ctx) });
    overridden.push(QK_NORM_ROPE_KERNEL, ATTENTION_KERNEL);
  }
  if (addon.packLinearWeight !== undefined && addon.packedLinearLength !== undefined && addon.packedLinear !== undefined) {
    tf.registerKernel({ kernelName: PACKED_LINEAR_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: packedLinearKernel(ctx) });
    overridden.push(PACKED_LINEAR_KERNEL);
  }
  if (addon.attentionGrad !== undefined) {
    tf.registerKernel({ kernelName: ATTENTION_GRAD_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: attentionGradKernel(ctx) });
    overridden.push(ATTENTION_GRAD_KERNEL);
  }
  // Training's backward kernels (kernels/grad.ts, kernels/cross-entropy.ts), each behind its addon function.
  const training: Array<[string, boolean, (c: KernelContext) => tfc.KernelFunc]> = [
    [RMS_NORM_GRAD_KERNEL, addon.rmsNormGrad !== undefined, rmsNormGradKernel],
    [SWIGLU_GRAD_KERNEL, addon.swigluGrad !== undefined, swigluGradKernel],
    [SOFTMAX_GRAD_KERNEL, addon.softmaxGrad !== undefined, softmaxGradKernel],
    [CROSS_ENTROPY_KERNEL, addon.ceChunk !== undefined && addon.rowScaleAdd !== undefined, crossEntropyKernel],
  ];
  for (const [kernelName, present, make] of training) {
    if (!present) continue;
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: make(ctx) });
    overridden.push(kernelName);
  }
  return overridden.sort();
}
