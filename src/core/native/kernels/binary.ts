/**
 * Broadcasting float32 binary kernels. The op codes are those of native/blas/src/binary.cc.
 * Values are bit-identical to the cpu kernels (double arithmetic rounded once to float32).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { broadcastStrides, f64, float32Values, sizeOf, type KernelContext } from '../kernel-context.js';

export const BINARY_OPS: Record<string, number> = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6,
};

export function binaryKernel(kernelName: string): (ctx: KernelContext) => tfc.KernelFunc {
  const op = BINARY_OPS[kernelName];
  if (op === undefined) throw new Error(`native backend: no binary op for ${kernelName}`);
  return (ctx) => {
    const fallback = ctx.cpuKernel(kernelName);
    return (params) => {
      const { a, b } = params.inputs as { a: tfc.TensorInfo; b: tfc.TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(params);
      const backend = params.backend as MathBackendCPU;
      const outShape = ctx.tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = new Float32Array(sizeOf(outShape));
      if (out.length > 0) {
        ctx.addon.binary(op, float32Values(backend, a), f64(broadcastStrides(outShape, a.shape)),
          float32Values(backend, b), f64(broadcastStrides(outShape, b.shape)), out, f64(outShape));
      }
      return backend.makeTensorInfo(outShape, 'float32', out);
    };
  };
}
