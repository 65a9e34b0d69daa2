/**
 * Sum, Mean and Max over any axes, and last-axis Softmax. Summation order and precision match the
 * cpu kernels (see native/blas/src/reduce.cc), so results agree bit for bit.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { contiguousStrides, f64, float32Values, sizeOf, type KernelContext } from '../kernel-context.js';

const REDUCE_OPS = { Sum: 0, Mean: 1, Max: 2 } as const;
type ReduceName = keyof typeof REDUCE_OPS;

export function reduceKernel(kernelName: ReduceName): (ctx: KernelContext) => tfc.KernelFunc {
  const op = REDUCE_OPS[kernelName];
  return (ctx) => {
    const fallback = ctx.cpuKernel(kernelName);
    return (params) => {
      const { x } = params.inputs as { x: tfc.TensorInfo };
      if (x.dtype !== 'float32') return fallback(params);
      const attrs = params.attrs as unknown as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims: boolean };
      const axisParam = kernelName === 'Max' ? attrs.reductionIndices : attrs.axis;
      if (axisParam === undefined) return fallback(params);
      // The cpu kernels reduce in the order the axes are given (after normalising negatives).
      const axes = ctx.tf.util.parseAxisParam(axisParam, x.shape);
      const strides = contiguousStrides(x.shape);
      const keptShape: number[] = [];
      const keptStrides: number[] = [];
      x.shape.forEach((d, i) => {
        if (!axes.includes(i)) { keptShape.push(d); keptStrides.push(strides[i] ?? 0); }
      });
      const reducedShape = axes.map((a) => x.shape[a] ?? 1);
      const reducedStrides = axes.map((a) => strides[a] ?? 0);
      const out = new Float32Array(sizeOf(keptShape));
      const backend = params.backend as MathBackendCPU;
      if (out.length > 0) {
        if (kernelName === 'Max' && sizeOf(reducedShape) === 0) return fallback(params);
        ctx.addon.reduce(op, float32Values(backend, x), f64(keptShape), f64(keptStrides), f64(reducedShape), f64(reducedStrides), out);
      }
      const outShape = attrs.keepDims ? ctx.tf.backend_util.expandShapeToKeepDim(keptShape, axes) : keptShape;
      return backend.makeTensorInfo(outShape, 'float32', out);
    };
  };
}

export function softmaxKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('Softmax');
  return (params) => {
    const { logits } = params.inputs as { logits: tfc.TensorInfo };
    const { dim } = params.attrs as unknown as tfc.SoftmaxAttrs;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback(params);
    const backend = params.backend as MathBackendCPU;
    const out = new Float32Array(sizeOf(logits.shape));
    const n = logits.shape[rank - 1] ?? 1;
    if (out.length > 0) ctx.addon.softmax(float32Values(backend, logits), n, out);
    return backend.makeTensorInfo(logits.shape.slice(), 'float32', out);
  };
}
