/**
 * The steered weight as the reference holds it (study-ref §5, spec §5 and §15.3): the model's weights are bf16, dW is
 * cast to the parameter's dtype, and `p += α·w` runs as two bf16 ops, each computed in float32 and rounded once
 * to bf16 (round-to-nearest-even), as torch's CPU/CUDA kernels do for bf16 tensors (their opmath type is float):
 *
 *   steered = bf16( f32( bf16(θ) + bf16( f32( f32(α) · bf16(dW) ) ) ) )
 *
 * so an update smaller than half a bf16 ulp of θ rounds away (what made IA3 "near no-op" in the study).
 */
import { bf16ToFloat32, float32ToBf16 } from '../../../src/core/safetensors.js';

function roundToBf16(x: Float32Array): Float32Array {
  return bf16ToFloat32(float32ToBf16(x));
}

export type SteerPrecision = 'f32' | 'bf16';

export function steeredWeightBf16(theta: Float32Array, dw: Float32Array, alpha: number): Float32Array {
  if (theta.length !== dw.length) throw new Error(`bf16 steering: θ has ${theta.length} values but dW ${dw.length}`);
  const a = Math.fround(alpha);
  const w = roundToBf16(dw);
  const scaled = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) scaled[i] = a * (w[i] as number);
  const step = roundToBf16(scaled);
  const t = roundToBf16(theta);
  const sum = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) sum[i] = (t[i] as number) + (step[i] as number);
  return roundToBf16(sum);
}
