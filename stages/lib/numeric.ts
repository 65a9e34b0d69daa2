/**
 * Reductions shared by the experiment modules, matching numpy/pandas so that summaries computed here equal the
 * reference study's to the last bit where the inputs are equal.
 */

/**
 * numpy's pairwise summation (`pairwise_sum` in loops_utils.h, as used by `np.add.reduce`/`mean` on a contiguous
 * float64 array): blocks of ≤ 128 summed with 8 accumulators, halves split at a multiple of 8. Reproducing it makes
 * our mean bit-identical to numpy's instead of differing in the last bits.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i] as number;
    return res;
  }
  if (n <= 128) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = a[start + j] as number;
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = (r[j] as number) + (a[start + i + j] as number);
    const [r0, r1, r2, r3, r4, r5, r6, r7] = r as unknown as [number, number, number, number, number, number, number, number];
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i] as number;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** Arithmetic mean by pairwise summation (numpy's `mean`); NaN for no values. */
export function mean(xs: ArrayLike<number>): number {
  return xs.length === 0 ? NaN : pairwiseSum(xs) / xs.length;
}

/** numpy.nanmean: the mean of the non-NaN values, NaN when there are none. */
export function nanmean(xs: ArrayLike<number>): number {
  const kept: number[] = [];
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i] as number)) kept.push(xs[i] as number);
  return mean(kept);
}

/** Sample standard deviation (ddof = 1, the pandas/polars default; numpy's two-pass formula); NaN for < 2 values. */
export function stdDdof1(xs: ArrayLike<number>): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  const sq = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) sq[i] = ((xs[i] as number) - m) * ((xs[i] as number) - m);
  return Math.sqrt(pairwiseSum(sq) / (xs.length - 1));
}
