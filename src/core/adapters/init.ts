/**
 * Adapter initialisations drawn from the seeded Rng (torch's bits cannot be reproduced; the distributions are
 * PEFT's). kaiming_uniform_(a=√5) on a [rows, cols] weight is U(−1/√cols, +1/√cols).
 */
import type { Rng } from '../random.js';

export function kaimingUniform(rng: Rng, rows: number, cols: number): Float32Array {
  const bound = 1 / Math.sqrt(cols);
  return rng.uniformArray(rows * cols, -bound, bound);
}

export function normal(rng: Rng, n: number, std: number): Float32Array {
  return rng.normalArray(n, 0, std);
}
