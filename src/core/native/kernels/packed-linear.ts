/**
 * x · Wᵀ for a frozen Linear weight W [out, in] through the addon's packed-weight kernel
 * (native/blas/src/packed-linear.cc): the weight is packed once, on its first product, and the pack is kept for as
 * long as the weight's storage lives, so every later forward skips the packing that dominates a 64-row product.
 * The model reaches it through linear-ops.ts.
 *
 * The pack is keyed by the weight's storage array (the cpu backend's Float32Array behind the tensor), not by the
 * tensor: clones and reshapes share storage and so share the pack, and the pack goes when the storage is
 * collected after the last tensor on it is disposed. This relies on tfjs never writing a tensor's storage in
 * place, which holds for tfjs's kernels and ours (every kernel writes a fresh output) and for wsflow's own code
 * (host reads copy: src/core/host-read.ts). Whether a pack was cached changes only the time, never the bytes.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { float32Values, requireFloat32, type KernelContext } from '../kernel-context.js';

export const PACKED_LINEAR_KERNEL = 'WsflowPackedLinear';

interface Pack {
  out: number;
  in: number;
  data: Float32Array;
}

const packs = new WeakMap<Float32Array, Pack>();

/** inputs x [N, in], weight [out, in] → [N, out]. */
export function packedLinearKernel(ctx: KernelContext): tfc.KernelFunc {
  return (params) => {
    const { x, weight } = params.inputs as Record<'x' | 'weight', tfc.TensorInfo>;
    requireFloat32(PACKED_LINEAR_KERNEL, 'x', x);
    requireFloat32(PACKED_LINEAR_KERNEL, 'weight', weight);
    const { packLinearWeight, packedLinearLength, packedLinear } = ctx.addon;
    if (packLinearWeight === undefined || packedLinearLength === undefined || packedLinear === undefined) {
      throw new Error(`native ${PACKED_LINEAR_KERNEL}: the addon build has no packedLinear`);
    }
    const [rows = 0, inX = 0] = x.shape;
    const [out = 0, inW = 0] = weight.shape;
    if (x.shape.length !== 2 || weight.shape.length !== 2 || inX !== inW) {
      throw new Error(`native ${PACKED_LINEAR_KERNEL}: x [${x.shape.join(', ')}] · weight [${weight.shape.join(', ')}]ᵀ do not match`);
    }
    const backend = params.backend as MathBackendCPU;
    const w = float32Values(backend, weight);
    let pack = packs.get(w);
    if (pack === undefined || pack.out !== out || pack.in !== inW) {
      const data = new Float32Array(packedLinearLength(out, inW));
      packLinearWeight(w, out, inW, data);
      pack = { out, in: inW, data };
      packs.set(w, pack);
    }
    const y = new Float32Array(rows * out);
    packedLinear(float32Values(backend, x), pack.data, y, rows, out, inW);
    return backend.makeTensorInfo([rows, out], 'float32', y);
  };
}
