/** Numeric comparisons shared by the tests: one definition each. */
import assert from 'node:assert/strict';

/** How a tolerance applies: as is, or scaled by max(1, |expected|) for values far from 1. */
export type TolScale = 'absolute' | 'relative';

export function isNear(actual: number, expected: number, tol: number, scale: TolScale = 'absolute'): boolean {
  const bound = scale === 'relative' ? tol * Math.max(1, Math.abs(expected)) : tol;
  return Math.abs(actual - expected) <= bound;
}

export function assertNear(actual: number, expected: number, tol = 1e-12, msg = '', scale: TolScale = 'absolute'): void {
  assert.ok(isNear(actual, expected, tol, scale), `${msg ? `${msg}: ` : ''}${actual} vs ${expected} (tol ${tol}${scale === 'relative' ? ', relative' : ''})`);
}

/** Largest |a[i] − b[i]|; a NaN anywhere counts as Infinity, so it can never pass a tolerance. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
