/**
 * Kernels that exist only on the `native` backend: RMSNorm and SwiGLU in one pass each (native/blas/src/fused.cc),
 * bit-identical to the composed ops they replace. The model reaches them through fused-ops.ts.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, requireFloat32, type KernelContext } from '../kernel-context.js';

export const RMS_NORM_KERNEL = 'WsflowRmsNorm';
export const SWIGLU_KERNEL = 'WsflowSwiglu';

export function rmsNormKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { x, weight } = params.inputs as { x: tfc.TensorInfo; weight: tfc.TensorInfo };
    requireFloat32(RMS_NORM_KERNEL, 'input', x);
    requireFloat32(RMS_NORM_KERNEL, 'input', weight);
    const { eps } = params.attrs as unknown as { eps: number };
    const backend = params.backend as MathBackendCPU;
    const values = float32Values(backend, x);
    const out = new Float32Array(values.length);
    const n = x.shape[x.shape.length - 1] ?? 1;
    const rmsNorm = ctx.addon.rmsNorm;
    if (rmsNorm === undefined) throw new Error(`native ${RMS_NORM_KERNEL}: the addon build has no rmsNorm`);
    rmsNorm(values, float32Values(backend, weight), n, eps, out);
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  };
}

export function swigluKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { gate, up } = params.inputs as { gate: tfc.TensorInfo; up: tfc.TensorInfo };
    requireFloat32(SWIGLU_KERNEL, 'input', gate);
    requireFloat32(SWIGLU_KERNEL, 'input', up);
    const backend = params.backend as MathBackendCPU;
    const g = float32Values(backend, gate);
    const out = new Float32Array(g.length);
    const swiglu = ctx.addon.swiglu;
    if (swiglu === undefined) throw new Error(`native ${SWIGLU_KERNEL}: the addon build has no swiglu`);
    swiglu(g, float32Values(backend, up), out);
    return backend.makeTensorInfo(gate.shape.slice(), 'float32', out);
  };
}
