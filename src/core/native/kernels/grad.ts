/**
 * Backward kernels that exist only on the `native` backend (native/blas/src/grad.cc): the gradients of RMSNorm,
 * SwiGLU and softmax in one pass each, where tfjs composes six to twelve elementwise ops. The differentiable ops
 * reach them through fused-ops.ts and native-gradients.ts; absent from addon builds before they were added.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, type KernelContext } from '../kernel-context.js';

export const RMS_NORM_GRAD_KERNEL = 'WsflowRmsNormGrad';
export const SWIGLU_GRAD_KERNEL = 'WsflowSwigluGrad';
export const SOFTMAX_GRAD_KERNEL = 'WsflowSoftmaxGrad';

function f32(backend: MathBackendCPU, kernel: string, t: tfc.TensorInfo): Float32Array {
  if (t.dtype !== 'float32') throw new Error(`native ${kernel}: input of dtype ${t.dtype}, expected float32`);
  return float32Values(backend, t);
}

function need<T>(fn: T | undefined, kernel: string): T {
  if (fn === undefined) throw new Error(`native ${kernel}: the addon build lacks it (rebuild with \`npm run build:native\`)`);
  return fn;
}

/** inputs dy, x, weight; attrs eps → [dx, dWeight] */
export function rmsNormGradKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { dy, x, weight } = params.inputs as { dy: tfc.TensorInfo; x: tfc.TensorInfo; weight: tfc.TensorInfo };
    const { eps } = params.attrs as unknown as { eps: number };
    const backend = params.backend as MathBackendCPU;
    const xv = f32(backend, RMS_NORM_GRAD_KERNEL, x);
    const n = weight.shape[0] ?? 1;
    const dx = new Float32Array(xv.length);
    const dw = new Float32Array(n);
    need(ctx.addon.rmsNormGrad, RMS_NORM_GRAD_KERNEL).call(ctx.addon, f32(backend, RMS_NORM_GRAD_KERNEL, dy), xv, f32(backend, RMS_NORM_GRAD_KERNEL, weight), n, eps, dx, dw);
    return [backend.makeTensorInfo(x.shape.slice(), 'float32', dx), backend.makeTensorInfo([n], 'float32', dw)];
  };
}

/** inputs dy, gate, up → [dGate, dUp] */
export function swigluGradKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { dy, gate, up } = params.inputs as { dy: tfc.TensorInfo; gate: tfc.TensorInfo; up: tfc.TensorInfo };
    const backend = params.backend as MathBackendCPU;
    const g = f32(backend, SWIGLU_GRAD_KERNEL, gate);
    const dg = new Float32Array(g.length);
    const du = new Float32Array(g.length);
    need(ctx.addon.swigluGrad, SWIGLU_GRAD_KERNEL).call(ctx.addon, f32(backend, SWIGLU_GRAD_KERNEL, dy), g, f32(backend, SWIGLU_GRAD_KERNEL, up), dg, du);
    return [backend.makeTensorInfo(gate.shape.slice(), 'float32', dg), backend.makeTensorInfo(gate.shape.slice(), 'float32', du)];
  };
}

/** inputs y (the softmax output), dy; softmax over the last axis → dx */
export function softmaxGradKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { y, dy } = params.inputs as { y: tfc.TensorInfo; dy: tfc.TensorInfo };
    const backend = params.backend as MathBackendCPU;
    const yv = f32(backend, SOFTMAX_GRAD_KERNEL, y);
    const dx = new Float32Array(yv.length);
    need(ctx.addon.softmaxGrad, SOFTMAX_GRAD_KERNEL).call(ctx.addon, yv, f32(backend, SOFTMAX_GRAD_KERNEL, dy), y.shape[y.shape.length - 1] ?? 1, dx);
    return backend.makeTensorInfo(y.shape.slice(), 'float32', dx);
  };
}
