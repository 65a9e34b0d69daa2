/**
 * BatchMatMul and _FusedMatMul on OpenBLAS sgemm, with tfjs semantics: rank ≥ 2, transposeA/B on the
 * last two dims, leading (batch) dims broadcast numpy-style. When B has no batch and A is not
 * transposed, A's batch is folded into M so the whole product is one large sgemm (the common
 * activations × weight case), which is where OpenBLAS's threading pays off.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { broadcastOffsets, float32Values, sizeOf, type KernelContext } from '../kernel-context.js';

interface MatMulArgs {
  a: tfc.TensorInfo;
  b: tfc.TensorInfo;
  transposeA: boolean;
  transposeB: boolean;
}

export function nativeMatMul(ctx: KernelContext, backend: MathBackendCPU, args: MatMulArgs): tfc.TensorInfo {
  const { a, b, transposeA, transposeB } = args;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const aRows = a.shape[aRank - 2] ?? 1;
  const aCols = a.shape[aRank - 1] ?? 1;
  const bRows = b.shape[bRank - 2] ?? 1;
  const bCols = b.shape[bRank - 1] ?? 1;
  const m = transposeA ? aCols : aRows;
  const k = transposeA ? aRows : aCols;
  const kB = transposeB ? bCols : bRows;
  const n = transposeB ? bRows : bCols;
  if (k !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ` +
      `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const outOuter = ctx.tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const batch = sizeOf(outOuter);
  const out = new Float32Array(batch * m * n);
  const aVals = float32Values(backend, a);
  const bVals = float32Values(backend, b);
  if (sizeOf(bOuter) === 1 && !transposeA && sizeOf(aOuter) === batch) {
    ctx.addon.gemm(aVals, bVals, out, 1, batch * m, n, k, false, transposeB, new Float64Array(1), new Float64Array(1));
  } else {
    const aOff = broadcastOffsets(outOuter, aOuter, m * k);
    const bOff = broadcastOffsets(outOuter, bOuter, k * n);
    ctx.addon.gemm(aVals, bVals, out, batch, m, n, k, transposeA, transposeB, aOff, bOff);
  }
  return backend.makeTensorInfo([...outOuter, m, n], 'float32', out);
}

export function batchMatMulKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('BatchMatMul');
  return (params) => {
    const { a, b } = params.inputs as { a: tfc.TensorInfo; b: tfc.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(params);
    const attrs = params.attrs as unknown as tfc.BatchMatMulAttrs;
    return nativeMatMul(ctx, params.backend as MathBackendCPU, {
      a, b, transposeA: attrs.transposeA, transposeB: attrs.transposeB,
    });
  };
}

interface FusedMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
  activation?: string;
  leakyreluAlpha?: number;
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', prelu: 'Prelu', leakyrelu: 'LeakyRelu',
};

export function fusedMatMulKernel(ctx: KernelContext): tfc.KernelFunc {
  const fallback = ctx.cpuKernel('_FusedMatMul');
  const add = ctx.cpuKernel('Add');
  return (params) => {
    const inputs = params.inputs as {
      a: tfc.TensorInfo; b: tfc.TensorInfo; bias?: tfc.TensorInfo; preluActivationWeights?: tfc.TensorInfo;
    };
    if (inputs.a.dtype !== 'float32' || inputs.b.dtype !== 'float32') return fallback(params);
    const attrs = params.attrs as unknown as FusedMatMulAttrs;
    const activation = attrs.activation;
    const known = activation === undefined || activation === 'linear' || ACTIVATION_KERNELS[activation] !== undefined;
    if (!known) return fallback(params);
    const backend = params.backend as MathBackendCPU;
    let current = nativeMatMul(ctx, backend, {
      a: inputs.a, b: inputs.b, transposeA: attrs.transposeA, transposeB: attrs.transposeB,
    });
    if (inputs.bias !== undefined) {
      const next = add({ inputs: { a: current, b: inputs.bias }, backend, attrs: {} }) as tfc.TensorInfo;
      backend.disposeIntermediateTensorInfo(current);
      current = next;
    }
    if (activation !== undefined && activation !== 'linear') {
      const kernelName = ACTIVATION_KERNELS[activation] ?? 'Identity';
      const actInputs: tfc.NamedTensorInfoMap = { x: current };
      if (activation === 'prelu') {
        if (inputs.preluActivationWeights === undefined) throw new Error('native _FusedMatMul: prelu needs weights');
        actInputs['alpha'] = inputs.preluActivationWeights;
      }
      const actAttrs: tfc.NamedAttrMap = activation === 'leakyrelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {};
      const next = ctx.cpuKernel(kernelName)({ inputs: actInputs, backend, attrs: actAttrs }) as tfc.TensorInfo;
      backend.disposeIntermediateTensorInfo(current);
      current = next;
    }
    return current;
  };
}
