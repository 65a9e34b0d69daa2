/** Elementwise float32 unary kernels; op codes are those of native/blas/src/unary.cc. */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, type KernelContext } from '../kernel-context.js';

export const UNARY_OPS: Record<string, number> = {
  Exp: 0, Sigmoid: 1, Neg: 2, Square: 3, Rsqrt: 4, Sqrt: 5, Log: 6,
};

export function unaryKernel(kernelName: string): (ctx: KernelContext) => tfc.KernelFunc {
  const op = UNARY_OPS[kernelName];
  if (op === undefined) throw new Error(`native backend: no unary op for ${kernelName}`);
  return (ctx) => {
    const fallback = ctx.cpuKernel(kernelName);
    return (params) => {
      const { x } = params.inputs as { x: tfc.TensorInfo };
      if (x.dtype !== 'float32') return fallback(params);
      const backend = params.backend as MathBackendCPU;
      const values = float32Values(backend, x);
      const out = new Float32Array(values.length);
      ctx.addon.unary(op, values, out);
      return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
    };
  };
}
