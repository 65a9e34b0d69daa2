/**
 * RoPE tables exactly as transformers computes them in float32: inv_freq[i] = 1 / theta^(2i/D) and the angle
 * p·inv_freq[i] are rounded to float32 before cos/sin (which matters at large positions).
 */
const f32 = Math.fround;

export function inverseFrequencies(headDim: number, theta: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = f32(f32(2 * i) / headDim);
    inv[i] = f32(1 / f32(Math.pow(theta, exponent)));
  }
  return inv;
}

/**
 * cos and sin of p·inv_freq for each position, laid out [rows, S, D/2] row-major (one row per batch row, or a
 * single row shared by all).
 */
export function ropeTables(positions: readonly (readonly number[])[], invFreq: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const rows = positions.length;
  const s = positions[0]?.length ?? 0;
  const cos = new Float32Array(rows * s * half);
  const sin = new Float32Array(rows * s * half);
  let o = 0;
  for (let r = 0; r < rows; r++) {
    const row = positions[r] as readonly number[];
    for (let j = 0; j < s; j++) {
      const p = f32(row[j] as number);
      for (let i = 0; i < half; i++) {
        const angle = f32(p * (invFreq[i] as number));
        cos[o] = Math.cos(angle);
        sin[o] = Math.sin(angle);
        o++;
      }
    }
  }
  return { cos, sin };
}
