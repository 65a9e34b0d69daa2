/**
 * Per-position KL(steered ‖ base) and the pooled statistics the KL calibration uses (study-ref §10.1):
 * mean, p50, p95, p99 (numpy's default "linear" percentiles), max and n over all prompts × positions.
 *
 * The per-position sum is accumulated in float64 (the reference sums in fp32 on fp32 log-probs; ours is just more
 * exact); the pooled statistics then match numpy on the same float64 values bit for bit. 0·log 0 is taken as 0: a
 * token the steered model gives probability 0 contributes nothing, even where the base also gives it 0 (IEEE would
 * give NaN); a token with p_s > 0 that the base gives log-prob −∞ makes that position's KL +∞, as it should.
 */
import { pairwiseSum } from './numeric.js';

export interface KlStats {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  n: number;
}

/**
 * KL_t = Σ_v p_s(v)·(log p_s(v) − log p_b(v)) for each of `positions` rows of `vocab` log-probs (row-major).
 */
export function klPerPosition(logpSteered: ArrayLike<number>, logpBase: ArrayLike<number>, vocab: number, positions?: number): Float64Array {
  if (!Number.isInteger(vocab) || vocab <= 0) throw new Error(`klPerPosition: vocab must be a positive integer, got ${vocab}`);
  if (logpSteered.length !== logpBase.length) {
    throw new Error(`klPerPosition: steered log-probs have ${logpSteered.length} values, base ${logpBase.length}; the positions must align`);
  }
  if (logpSteered.length % vocab !== 0) throw new Error(`klPerPosition: ${logpSteered.length} values is not a whole number of rows of ${vocab}`);
  const t = logpSteered.length / vocab;
  if (positions !== undefined && positions !== t) throw new Error(`klPerPosition: expected ${positions} positions × ${vocab}, got ${t} positions`);
  const out = new Float64Array(t);
  for (let r = 0; r < t; r++) {
    let kl = 0;
    const o = r * vocab;
    for (let v = 0; v < vocab; v++) {
      const ls = logpSteered[o + v] as number;
      if (ls === -Infinity) continue;
      kl += Math.exp(ls) * (ls - (logpBase[o + v] as number));
    }
    out[r] = kl;
  }
  return out;
}

/**
 * numpy.percentile(a, q) with the default method "linear" on an ascending-sorted array: virtual index
 * (q/100)·(n−1), interpolated with numpy's `_lerp` (which computes from the upper end when the fraction ≥ 0.5,
 * so results match numpy to the last bit).
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('percentile of an empty array');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile q must be in [0, 100], got ${q}`);
  const vi = (q / 100) * (n - 1);
  const lo = Math.floor(vi);
  const hi = Math.min(lo + 1, n - 1);
  const t = vi - lo;
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** numpy.percentile on unsorted data; NaN anywhere gives NaN, like numpy. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values as ArrayLike<number>);
  for (const x of s) if (Number.isNaN(x)) return NaN;
  s.sort();
  return percentileSorted(s, q);
}

/**
 * The pooled statistics (mean by numpy's pairwise summation). An empty pool gives zeros with n = 0, as the reference (v2/v3 skip prompts whose greedy
 * generation was empty, and report zeros when none is left). NaN anywhere makes every statistic NaN.
 */
export function klStats(values: ArrayLike<number>): KlStats {
  const n = values.length;
  if (n === 0) return { mean: 0, p50: 0, p95: 0, p99: 0, max: 0, n: 0 };
  const s = Float64Array.from(values as ArrayLike<number>);
  let nan = false;
  for (const x of s) if (Number.isNaN(x)) nan = true;
  if (nan) return { mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN, n };
  const sum = pairwiseSum(s);
  s.sort();
  return {
    mean: sum / n,
    p50: percentileSorted(s, 50),
    p95: percentileSorted(s, 95),
    p99: percentileSorted(s, 99),
    max: s[n - 1] as number,
    n,
  };
}

/** Concatenate per-prompt KL arrays (prompts × positions) and take the pooled statistics. */
export function pooledKlStats(perPrompt: readonly ArrayLike<number>[]): KlStats {
  const total = perPrompt.reduce((acc, a) => acc + a.length, 0);
  const all = new Float64Array(total);
  let o = 0;
  for (const a of perPrompt) {
    all.set(a as ArrayLike<number>, o);
    o += a.length;
  }
  return klStats(all);
}
