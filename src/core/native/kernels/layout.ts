/**
 * Data-movement kernels (Transpose, Slice, SplitV, Concat, PadV2, Tile) on one native strided copy.
 * The cpu kernels walk every element through index arithmetic in JS; here each inner run is a
 * memcpy or a tight loop. Only float32 is handled; other dtypes go to the cpu kernel.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { contiguousStrides, f64, float32Values, sizeOf, type KernelContext } from '../kernel-context.js';

type Params = Parameters<tfc.KernelFunc>[0];

function allFloat32(inputs: readonly tfc.TensorInfo[]): boolean {
  return inputs.every((t) => t.dtype === 'float32');
}

export function transposeKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('Transpose');
  return (params: Params) => {
    const { x } = params.inputs as { x: tfc.TensorInfo };
    if (x.dtype !== 'float32') return fallback(params);
    const { perm } = params.attrs as unknown as tfc.TransposeAttrs;
    const backend = params.backend as MathBackendCPU;
    const xStrides = contiguousStrides(x.shape);
    const outShape = perm.map((p) => x.shape[p] ?? 1);
    const out = new Float32Array(sizeOf(outShape));
    ctx.addon.stridedCopy(float32Values(backend, x), 0, f64(perm.map((p) => xStrides[p] ?? 0)),
      out, 0, f64(contiguousStrides(outShape)), f64(outShape));
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

function sliceFloat32(ctx: KernelContext, backend: MathBackendCPU, x: tfc.TensorInfo, begin: number[], size: number[]): tfc.TensorInfo {
  const xVals = float32Values(backend, x);
  const xStrides = contiguousStrides(x.shape);
  let offset = 0;
  begin.forEach((b, d) => { offset += b * (xStrides[d] ?? 0); });
  if (ctx.tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    // Same as the cpu kernel: a contiguous slice is a view, no copy.
    return backend.makeTensorInfo(size, 'float32', xVals.subarray(offset, offset + sizeOf(size)));
  }
  const out = new Float32Array(sizeOf(size));
  ctx.addon.stridedCopy(xVals, offset, f64(xStrides), out, 0, f64(contiguousStrides(size)), f64(size));
  return backend.makeTensorInfo(size, 'float32', out);
}

export function sliceKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('Slice');
  return (params: Params) => {
    const { x } = params.inputs as { x: tfc.TensorInfo };
    if (x.dtype !== 'float32') return fallback(params);
    const { begin, size } = params.attrs as unknown as tfc.SliceAttrs;
    const [$begin = [], $size = []] = ctx.tf.slice_util.parseSliceParams(x as tfc.Tensor, begin, size);
    ctx.tf.slice_util.assertParamsValid(x as tfc.Tensor, $begin, $size);
    return sliceFloat32(ctx, params.backend as MathBackendCPU, x, $begin, $size);
  };
}

export function splitVKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('SplitV');
  return (params: Params) => {
    const { x } = params.inputs as { x: tfc.TensorInfo };
    if (x.dtype !== 'float32') return fallback(params);
    const { numOrSizeSplits, axis } = params.attrs as unknown as tfc.SplitVAttrs;
    const $axis = ctx.tf.util.parseAxisParam(axis, x.shape)[0] ?? 0;
    const sizes = ctx.tf.backend_util.prepareSplitSize(x as tfc.Tensor, numOrSizeSplits, $axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = x.shape.slice();
    return sizes.map((s) => {
      size[$axis] = s;
      const piece = sliceFloat32(ctx, params.backend as MathBackendCPU, x, begin.slice(), size.slice());
      begin[$axis] = (begin[$axis] ?? 0) + s;
      return piece;
    });
  };
}

export function concatKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('Concat');
  return (params: Params) => {
    const inputs = params.inputs as unknown as tfc.TensorInfo[];
    const first = inputs[0];
    if (first === undefined || !allFloat32(inputs)) return fallback(params);
    const { axis } = params.attrs as unknown as tfc.ConcatAttrs;
    const $axis = ctx.tf.util.parseAxisParam(axis, first.shape)[0] ?? 0;
    const shapes = inputs.map((t) => t.shape);
    ctx.tf.backend_util.assertParamsConsistent(shapes, $axis);
    const outShape = ctx.tf.backend_util.computeOutShape(shapes, $axis);
    const backend = params.backend as MathBackendCPU;
    const out = new Float32Array(sizeOf(outShape));
    const outStrides = contiguousStrides(outShape);
    const axisStride = outStrides[$axis] ?? 1;
    let at = 0;
    for (const t of inputs) {
      if (sizeOf(t.shape) > 0) {
        ctx.addon.stridedCopy(float32Values(backend, t), 0, f64(contiguousStrides(t.shape)),
          out, at * axisStride, f64(outStrides), f64(t.shape));
      }
      at += t.shape[$axis] ?? 0;
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

export function padV2Kernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('PadV2');
  return (params: Params) => {
    const { x } = params.inputs as { x: tfc.TensorInfo };
    if (x.dtype !== 'float32') return fallback(params);
    const { paddings, constantValue } = params.attrs as unknown as tfc.PadV2Attrs;
    const outShape = x.shape.map((d, i) => (paddings[i]?.[0] ?? 0) + d + (paddings[i]?.[1] ?? 0));
    const outStrides = contiguousStrides(outShape);
    let offset = 0;
    x.shape.forEach((_, i) => { offset += (paddings[i]?.[0] ?? 0) * (outStrides[i] ?? 0); });
    const out = new Float32Array(sizeOf(outShape));
    if (constantValue !== 0) ctx.addon.fill(out, constantValue);
    const backend = params.backend as MathBackendCPU;
    if (sizeOf(x.shape) > 0) {
      ctx.addon.stridedCopy(float32Values(backend, x), 0, f64(contiguousStrides(x.shape)), out, offset, f64(outStrides), f64(x.shape));
    }
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

export function tileKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('Tile');
  return (params: Params) => {
    const { x } = params.inputs as { x: tfc.TensorInfo };
    if (x.dtype !== 'float32') return fallback(params);
    const { reps } = params.attrs as unknown as tfc.TileAttrs;
    if (reps.length !== x.shape.length) return fallback(params);
    const outShape = x.shape.map((d, i) => d * (reps[i] ?? 1));
    const outStrides = contiguousStrides(outShape);
    const xStrides = contiguousStrides(x.shape);
    // Iterate [rep_0, d_0, rep_1, d_1, …]: the rep dims re-read the input (stride 0).
    const shape: number[] = [];
    const src: number[] = [];
    const dst: number[] = [];
    x.shape.forEach((d, i) => {
      shape.push(reps[i] ?? 1, d);
      src.push(0, xStrides[i] ?? 0);
      dst.push(d * (outStrides[i] ?? 0), outStrides[i] ?? 0);
    });
    const out = new Float32Array(sizeOf(outShape));
    const backend = params.backend as MathBackendCPU;
    if (out.length > 0) ctx.addon.stridedCopy(float32Values(backend, x), 0, f64(src), out, 0, f64(dst), f64(shape));
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}

export function gatherV2Kernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('GatherV2');
  return (params: Params) => {
    const { x, indices } = params.inputs as { x: tfc.TensorInfo; indices: tfc.TensorInfo };
    const { axis, batchDims } = params.attrs as unknown as tfc.GatherV2Attrs;
    if (x.dtype !== 'float32' || (batchDims ?? 0) !== 0) return fallback(params);
    const backend = params.backend as MathBackendCPU;
    const idx = backend.data.get(indices.dataId).values;
    if (!(idx instanceof Int32Array)) return fallback(params);
    const $axis = ctx.tf.util.parseAxisParam(axis, x.shape)[0] ?? 0;
    const dimSize = x.shape[$axis] ?? 1;
    for (const index of idx) {
      // Same check and message as the cpu kernel.
      ctx.tf.util.assert(index <= dimSize - 1 && index >= 0, () => `GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
    }
    const outer = sizeOf(x.shape.slice(0, $axis));
    const slice = sizeOf(x.shape.slice($axis + 1));
    const outShape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
    const out = new Float32Array(sizeOf(outShape));
    if (out.length > 0) ctx.addon.gather(float32Values(backend, x), outer, dimSize, slice, idx, out);
    return backend.makeTensorInfo(outShape, 'float32', out);
  };
}
