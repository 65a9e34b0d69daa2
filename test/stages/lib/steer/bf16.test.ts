/**
 * bf16 rounding and bf16 steering (issue 16, spec §4.1, §5, §15.3).
 *
 * The expected bf16 patterns come from an independent exact computation: each float32 is decoded to an exact
 * rational (BigInt significand × 2^e), the two neighbouring bf16 values are decoded the same way, and the nearer
 * one is chosen by exact BigInt comparison (ties to the even significand; past the largest finite bf16 the
 * neighbour is +inf at the next binade, IEEE's overflow rule) — no bit tricks shared with the implementation.
 * Hand-computed constants pin the cases that matter most.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float32ToBf16, bf16ToFloat32 } from '../../../../src/core/safetensors.js';
import { roundToBf16, tauTensor, keepTouched } from '../../../../stages/lib/dw-ops.js';
import { steeredWeightBf16 } from '../../../../stages/lib/steer/bf16-steer.js';
import { Rng } from '../../../../src/core/random.js';

/** exact value of a float32 bit pattern as sign, BigInt significand and binary exponent (finite only) */
function decode32(bits: number): { neg: boolean; m: bigint; e: number } {
  const neg = bits >>> 31 === 1;
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (exp === 0) return { neg, m: BigInt(frac), e: -149 };
  return { neg, m: BigInt(frac | 0x800000), e: exp - 150 };
}

function decode16(b: number): { m: bigint; e: number } {
  const exp = (b >>> 7) & 0xff;
  const frac = b & 0x7f;
  if (exp === 0) return { m: BigInt(frac), e: -133 };
  if (exp === 0xff) return { m: 1n, e: 128 }; // +inf stands at 2^128 for the overflow comparison
  return { m: BigInt(frac | 0x80), e: exp - 134 };
}

/** |a| − |b| compared exactly: sign of m1·2^e1 − m2·2^e2 */
function cmpScaled(m1: bigint, e1: number, m2: bigint, e2: number): number {
  const e = Math.min(e1, e2);
  const a = m1 << BigInt(e1 - e);
  const b = m2 << BigInt(e2 - e);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reference round-to-nearest-even float32 → bf16 by exact arithmetic (torch's rule; NaN → 0x7FC0). */
function referenceBf16(bits: number): number {
  const exp = (bits >>> 23) & 0xff;
  const sign = (bits >>> 31) << 15;
  if (exp === 0xff) return (bits & 0x7fffff) !== 0 ? 0x7fc0 : sign | 0x7f80;
  const x = decode32(bits);
  // the largest bf16 magnitude ≤ |x|: scan candidates by value (15 bits of magnitude, binary search)
  let lo = 0;
  let hi = 0x7f80; // +inf
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const d = decode16(mid);
    if (cmpScaled(d.m, d.e, x.m, x.e) <= 0) lo = mid;
    else hi = mid;
  }
  const dl = decode16(lo);
  if (cmpScaled(dl.m, dl.e, x.m, x.e) === 0) return sign | lo;
  const dh = decode16(hi);
  // distances: x − lo vs hi − x, compared as (2x) vs (lo + hi)
  const e = Math.min(dl.e, dh.e, x.e) - 1;
  const twoX = x.m << BigInt(x.e + 1 - e);
  const sum = (dl.m << BigInt(dl.e - e)) + (dh.m << BigInt(dh.e - e));
  const pick = twoX < sum ? lo : twoX > sum ? hi : (lo & 1) === 0 ? lo : hi;
  return sign | pick;
}

function bitsOf(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0] as number;
}

function ours(bits: number): number {
  const f = new Float32Array(new Uint32Array([bits]).buffer);
  return float32ToBf16(f)[0] as number;
}

void test('bf16 rounding: hand-computed edge cases (ties to even, subnormals, max values, inf, NaN)', () => {
  const cases: [number, number, string][] = [
    [0x3f800000, 0x3f80, '1'],
    [0x3f808000, 0x3f80, '1 + 2^-8 is a tie: down to the even 1.0'],
    [0x3f818000, 0x3f82, '1 + 3·2^-8 is a tie: up to the even 0x3f82'],
    [0x3f808001, 0x3f81, 'just above the tie rounds up'],
    [0x3f807fff, 0x3f80, 'just below the tie rounds down'],
    [0xbf818000, 0xbf82, 'negative tie, to even'],
    [0x00000001, 0x0000, 'smallest float32 subnormal → +0'],
    [0x00008000, 0x0000, 'subnormal tie: to even 0'],
    [0x00018000, 0x0002, 'subnormal tie: to even 2'],
    [0x00008001, 0x0001, 'above a subnormal tie'],
    [0x007fffff, 0x0080, 'largest float32 subnormal rounds up to the smallest normal bf16'],
    [0x80000000, 0x8000, '−0'],
    [0x7f7f7fff, 0x7f7f, 'below the overflow tie: the largest finite bf16'],
    [0x7f7f8000, 0x7f80, 'overflow tie: to even, which is +inf'],
    [0x7f7fffff, 0x7f80, 'float32 max → +inf'],
    [0xff7fffff, 0xff80, '−float32 max → −inf'],
    [0x7f800000, 0x7f80, '+inf'],
    [0xff800000, 0xff80, '−inf'],
    [0x7fc00000, 0x7fc0, 'quiet NaN'],
    [0x7f800001, 0x7fc0, 'signalling NaN → canonical quiet NaN'],
    [0xffffffff, 0x7fc0, 'negative NaN with payload → canonical 0x7fc0 (c10 round_to_nearest_even)'],
  ];
  for (const [x, want, why] of cases) {
    assert.equal(ours(x), want, `${why}: 0x${x.toString(16)} → 0x${ours(x).toString(16)}, expected 0x${want.toString(16)}`);
    assert.equal(referenceBf16(x), want, `the exact reference agrees on ${why}`);
  }
});

void test('bf16 rounding: random and boundary bit patterns agree with the exact BigInt reference', () => {
  const rng = new Rng(11);
  const patterns: number[] = [];
  for (let i = 0; i < 20000; i++) patterns.push(Math.floor(rng.uniform() * 2 ** 32) >>> 0);
  // every exponent with the tie, tie ± 1 and the all-ones tail, both signs
  for (let e = 0; e < 256; e++) {
    for (const tail of [0x0000, 0x7fff, 0x8000, 0x8001, 0xffff]) {
      for (const m of [0x00, 0x01, 0x7e, 0x7f]) patterns.push(((e << 23) | (m << 16) | tail) >>> 0, ((1 << 31) | (e << 23) | (m << 16) | tail) >>> 0);
    }
  }
  let bad = 0;
  let first = '';
  for (const p of patterns) {
    if (ours(p) !== referenceBf16(p)) {
      bad++;
      first ||= `0x${p.toString(16)}: ours 0x${ours(p).toString(16)}, reference 0x${referenceBf16(p).toString(16)}`;
    }
  }
  assert.equal(bad, 0, `${bad}/${patterns.length} patterns differ, e.g. ${first}`);
  // widening back is exact: bf16 bits are the high half of the float32
  assert.deepEqual([...bf16ToFloat32(Uint16Array.of(0x3f82, 0x0001, 0xff80))], [1 + 2 ** -6, 2 ** -133, -Infinity]);
});

void test('bf16: an IA3-like update (θ·1e-4) vanishes in τ and in the steered weight; f32 keeps it', () => {
  const rng = new Rng(3);
  const theta = roundToBf16(Float32Array.from(rng.normalArray(4096), (v) => 0.05 * v));
  // IA3 merges as θ·l with l = 1 + 1e-4: far below half a bf16 ulp (2^-9 relative)
  const merged = Float32Array.from(theta, (v) => v * (1 + 1e-4));
  const tauBf = tauTensor('k_proj', merged, theta, 'bf16');
  assert.ok(tauBf.every((v) => v === 0), 'every element of τ rounds away in bf16');
  assert.equal(keepTouched(new Map([['k_proj', tauBf]])).size, 0, 'so the key is dropped (Σ|d| = 0)');
  const tauF = tauTensor('k_proj', merged, theta, 'f32');
  assert.ok(tauF.some((v) => v !== 0), 'in float32 it survives');
  const dw = Float32Array.from(theta, (v) => v * 1e-4);
  const steered = steeredWeightBf16(theta, dw, 1);
  assert.deepEqual(new Uint32Array(steered.buffer), new Uint32Array(theta.buffer), 'θ + 1·dW in bf16 is θ, bit for bit');
  // at the study's α* for IA3 (34.94) part of it gets through
  const big = steeredWeightBf16(theta, dw, 34.94);
  assert.ok(big.some((v, i) => v !== theta[i]));
});

void test('bf16 steering: each op rounds once, as torch does for p += α·w on bf16 tensors', () => {
  // θ = 1, dW = 2^-8 + 2^-16 (bf16: 2^-8), α = 1.5 → α·dW = 1.5·2^-8 exactly (bf16-representable);
  // θ + that = 1 + 1.5·2^-8 lies between 1 + 2^-7 (0x3f81) and 1 (0x3f80): nearer 0x3f81 (1.5 > 1 half-ulp)
  const out = steeredWeightBf16(Float32Array.of(1), Float32Array.of(2 ** -8 + 2 ** -16), 1.5);
  assert.equal(bitsOf(out[0] as number), 0x3f810000);
  // α·dW rounds before the add: dW = 2^-8, α = 1 + 2^-9 → α·dW = 2^-8 + 2^-17 rounds to 2^-8 in bf16, and
  // 1 + 2^-8 is a tie that goes to the even 1.0; a single fused rounding would have given 0x3f81
  const two = steeredWeightBf16(Float32Array.of(1), Float32Array.of(2 ** -8), 1 + 2 ** -9);
  assert.equal(bitsOf(two[0] as number), 0x3f800000);
});
