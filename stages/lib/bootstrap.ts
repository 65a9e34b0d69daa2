/**
 * Cluster bootstrap with percentile intervals, for the report's uncertainty (issue 16): the reference reports one
 * number per method (N = 1, one seed), so nobody can tell two methods apart. Resampling units are clusters (a
 * dilemma, whose two action rows move together), drawn with replacement; a fixed seed makes every interval the same
 * on every machine and rerun, so the report stays a pure function of its inputs.
 *
 * Every statistic is evaluated on the same draws, so the difference of two statistics has a paired interval.
 */

export interface BootstrapOptions {
  /** number of resamples (default 1000) */
  resamples?: number;
  /** PRNG seed (default 0) */
  seed?: number;
  /** coverage of the percentile interval (default 0.95) */
  level?: number;
}

export const BOOTSTRAP_DEFAULTS = { resamples: 1000, seed: 0, level: 0.95 } as const;

/** mulberry32: a small, well-mixed 32-bit PRNG; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `resamples` draws of `n` cluster indices in [0, n) with replacement, in a fixed order for a given seed. */
export function resampleIndices(n: number, resamples: number, seed: number): Uint32Array[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`bootstrap: need at least one cluster, got ${n}`);
  const rand = mulberry32(seed);
  const draws: Uint32Array[] = [];
  for (let b = 0; b < resamples; b++) {
    const d = new Uint32Array(n);
    for (let i = 0; i < n; i++) d[i] = Math.floor(rand() * n);
    draws.push(d);
  }
  return draws;
}

/**
 * The q-quantile of values with linear interpolation between order statistics (numpy.percentile's default,
 * method "linear"); NaN for an empty list.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

export interface Interval {
  lo: number;
  hi: number;
  /** draws whose statistic was NaN (e.g. a resample with no already-dishonest row has no fix rate); left out */
  undefinedDraws: number;
}

/**
 * The central percentile interval of the finite draws. NaN bounds when more than half the draws are undefined:
 * an interval over the few resamples where the statistic happens to exist would describe a different population.
 */
export function percentileInterval(draws: readonly number[], level: number = BOOTSTRAP_DEFAULTS.level): Interval {
  const finite = draws.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const undefinedDraws = draws.length - finite.length;
  if (finite.length === 0 || undefinedDraws * 2 > draws.length) return { lo: Number.NaN, hi: Number.NaN, undefinedDraws };
  const tail = (1 - level) / 2;
  return { lo: quantile(finite, tail), hi: quantile(finite, 1 - tail), undefinedDraws };
}

/** Statistics of one resample: the multiset of cluster indices drawn. */
export type ResampleStatistic = (clusters: Uint32Array) => readonly number[];

export interface BootstrapDraws {
  /** draws[b][j]: statistic j on resample b */
  draws: number[][];
  level: number;
}

/** Evaluates `statistic` (a vector of statistics) on every resample of `nClusters` clusters. */
export function bootstrap(nClusters: number, statistic: ResampleStatistic, opts: BootstrapOptions = {}): BootstrapDraws {
  const resamples = opts.resamples ?? BOOTSTRAP_DEFAULTS.resamples;
  const seed = opts.seed ?? BOOTSTRAP_DEFAULTS.seed;
  const level = opts.level ?? BOOTSTRAP_DEFAULTS.level;
  return { draws: resampleIndices(nClusters, resamples, seed).map((d) => [...statistic(d)]), level };
}

/** Percentile interval of statistic j. */
export function intervalOf(b: BootstrapDraws, j: number): Interval {
  return percentileInterval(
    b.draws.map((d) => d[j] ?? Number.NaN),
    b.level,
  );
}

/** Percentile interval of statistic i minus statistic j, paired on the same resamples. */
export function pairedDifferenceInterval(b: BootstrapDraws, i: number, j: number): Interval {
  return percentileInterval(
    b.draws.map((d) => (d[i] ?? Number.NaN) - (d[j] ?? Number.NaN)),
    b.level,
  );
}

/** True when a finite interval lies entirely on one side of 0. */
export function excludesZero(iv: Interval): boolean {
  return Number.isFinite(iv.lo) && Number.isFinite(iv.hi) && (iv.lo > 0 || iv.hi < 0);
}
