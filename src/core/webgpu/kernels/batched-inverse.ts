/**
 * OFT's Cayley transform needs the inverse of each [b, b] block (tensor-ops.ts, batchedInverse). Other backends
 * invert on the host in float64 after a synchronous read, which tfjs-webgpu cannot do in Node; this kernel does
 * the same Gauss–Jordan with partial pivoting on the GPU, in float32, one invocation per block.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import { BATCHED_INVERSE_KERNEL } from '../../adapters/tensor-ops.js';

/** The subset of tfjs-webgpu's program interface this kernel fills in. */
interface WebgpuProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  getUserCode(): string;
}

interface WebgpuKernelBackend {
  runWebGPUProgram(program: WebgpuProgram, inputs: tfc.TensorInfo[], outputDtype: tfc.DataType): tfc.TensorInfo;
}

const WORKGROUP = 64;

function program(n: number, b: number): WebgpuProgram {
  return {
    outputShape: [n, b, b],
    shaderKey: `wsflow_batched_inverse_${b}`,
    dispatchLayout: { x: [0] },
    dispatch: [Math.ceil(n / WORKGROUP), 1, 1],
    variableNames: ['x'],
    workgroupSize: [WORKGROUP, 1, 1],
    getUserCode: () => `
      const B : i32 = ${b};
      fn main(index : i32) {
        if (index >= uniforms.outShape.x) { return; }
        let base = index * B * B;
        var m : array<f32, ${b * b}>;
        for (var i = 0; i < B * B; i++) { m[i] = x[base + i]; }
        for (var i = 0; i < B; i++) {
          for (var j = 0; j < B; j++) { result[base + i * B + j] = select(0.0, 1.0, i == j); }
        }
        for (var col = 0; col < B; col++) {
          var piv = col;
          var best = abs(m[col * B + col]);
          for (var r = col + 1; r < B; r++) {
            let v = abs(m[r * B + col]);
            if (v > best) { best = v; piv = r; }
          }
          if (piv != col) {
            for (var j = 0; j < B; j++) {
              let t = m[col * B + j]; m[col * B + j] = m[piv * B + j]; m[piv * B + j] = t;
              let u = result[base + col * B + j]; result[base + col * B + j] = result[base + piv * B + j]; result[base + piv * B + j] = u;
            }
          }
          let p = m[col * B + col];
          for (var j = 0; j < B; j++) {
            m[col * B + j] = m[col * B + j] / p;
            result[base + col * B + j] = result[base + col * B + j] / p;
          }
          for (var r = 0; r < B; r++) {
            if (r == col) { continue; }
            let f = m[r * B + col];
            if (f == 0.0) { continue; }
            for (var j = 0; j < B; j++) {
              m[r * B + j] = m[r * B + j] - f * m[col * B + j];
              result[base + r * B + j] = result[base + r * B + j] - f * result[base + col * B + j];
            }
          }
        }
      }
    `,
  };
}

export function registerBatchedInverse(tf: typeof tfc, backendName: string): string {
  tf.registerKernel({
    kernelName: BATCHED_INVERSE_KERNEL,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x'];
      if (x === undefined || x.shape.length !== 3 || x.shape[1] !== x.shape[2]) throw new Error(`${BATCHED_INVERSE_KERNEL}: expected x of shape [n, b, b]`);
      const [n, b] = [x.shape[0] as number, x.shape[1] as number];
      return (backend as unknown as WebgpuKernelBackend).runWebGPUProgram(program(n, b), [x], 'float32');
    },
  });
  return BATCHED_INVERSE_KERNEL;
}
