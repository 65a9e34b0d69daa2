/**
 * The PiSSA benchmark's matrices, shared with pissa_init_torch.py: the seven linears of a Qwen3-0.6B block
 * ([out, in]) in blocks 8..21 (the study's targets: 98 matrices), filled from an index hash (murmur3's fmix32) that
 * the Python side reproduces exactly, so both time the same values without writing 840 MB anywhere.
 */
export const BLOCK_SHAPES: ReadonlyArray<readonly [string, number, number]> = [
  ['q_proj', 2048, 1024], ['k_proj', 1024, 1024], ['v_proj', 1024, 1024], ['o_proj', 1024, 2048],
  ['gate_proj', 3072, 1024], ['up_proj', 3072, 1024], ['down_proj', 1024, 3072],
];
export const FIRST_BLOCK = 8;

/** Matrix `index` (0-based over blocks × shapes): values uniform in ±0.05, float32. */
export function benchMatrix(index: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const seed = Math.imul(index + 1, 0x9e3779b9) >>> 0;
  for (let i = 0; i < out.length; i++) {
    // >>> 0 after every step: JavaScript's ^ yields a signed int32
    let x = (i ^ seed) >>> 0;
    x = Math.imul((x ^ (x >>> 16)) >>> 0, 0x85ebca6b) >>> 0;
    x = Math.imul((x ^ (x >>> 13)) >>> 0, 0xc2b2ae35) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    out[i] = (x / 4294967296 - 0.5) * 0.1;
  }
  return out;
}
