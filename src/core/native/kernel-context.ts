/**
 * What every native kernel needs: the addon, the tfjs-core instance the backend lives in, and typed
 * access to the cpu backend's storage (native tensors are plain cpu-backend Float32Arrays, so native
 * and JS kernels share data with no copies).
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './load-addon.js';

export type Tfc = typeof tfc;

export interface KernelContext {
  addon: NativeAddon;
  tf: Tfc;
  /** The pure-JS cpu kernel registered under the same name: the fallback for dtypes/layouts we skip. */
  cpuKernel(name: string): tfc.KernelFunc;
}

export function float32Values(backend: MathBackendCPU, t: tfc.TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  if (!(values instanceof Float32Array)) {
    throw new Error(`native backend: tensor ${String(t.dataId)} of dtype ${t.dtype} has no Float32Array storage`);
  }
  return values;
}

/** The one dtype check of the native-only kernels: "native KERNEL: NAME of dtype D, expected float32". */
export function requireFloat32(kernel: string, name: string, t: tfc.TensorInfo): void {
  if (t.dtype !== 'float32') throw new Error(`native ${kernel}: ${name} of dtype ${t.dtype}, expected float32`);
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Output index → input element offset under numpy broadcasting for `outShape` ← `inShape`
 * (right-aligned; a dimension of 1 repeats). Returns one offset per output position of the leading
 * `outShape` dims, in row-major order.
 */
export function broadcastOffsets(outShape: readonly number[], inShape: readonly number[], innerSize: number): Float64Array {
  const count = sizeOf(outShape);
  const offsets = new Float64Array(count);
  const rank = outShape.length;
  const pad = rank - inShape.length;
  const inStrides = new Array<number>(rank).fill(0);
  let stride = innerSize;
  for (let d = rank - 1; d >= pad; d--) {
    const dim = inShape[d - pad] ?? 1;
    inStrides[d] = dim === 1 ? 0 : stride;
    stride *= dim;
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      const next = (idx[d] ?? 0) + 1;
      if (next < (outShape[d] ?? 1)) {
        idx[d] = next;
        off += inStrides[d] ?? 0;
        break;
      }
      off -= (inStrides[d] ?? 0) * (next - 1);
      idx[d] = 0;
    }
  }
  return offsets;
}

/** Row-major element strides of a contiguous tensor. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return strides;
}

/** Strides for reading `inShape` as if broadcast to `outShape` (right-aligned; 0 where repeated). */
export function broadcastStrides(outShape: readonly number[], inShape: readonly number[]): number[] {
  const inStrides = contiguousStrides(inShape);
  const pad = outShape.length - inShape.length;
  return outShape.map((_, d) => {
    if (d < pad) return 0;
    const dim = inShape[d - pad] ?? 1;
    return dim === 1 ? 0 : inStrides[d - pad] ?? 0;
  });
}

export function f64(values: readonly number[]): Float64Array {
  return Float64Array.from(values);
}
