/**
 * The few Python built-ins whose exact behaviour the reference study depends on, so that the TypeScript port
 * selects the same layers, strips the same characters and compares the same way.
 */

/** Code points for which Python's str.isspace() is true (CPython 3.11; differs from JS \s: \x1c-\x1f, \x85 in, \ufeff out). */
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python's str.lstrip() with no argument. */
export function pyLstrip(s: string): string {
  let i = 0;
  while (i < s.length && PY_SPACE.has(s.charCodeAt(i))) i++;
  return s.slice(i);
}

/** Python's str.rstrip() with no argument. */
export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && PY_SPACE.has(s.charCodeAt(j - 1))) j--;
  return s.slice(0, j);
}

/** Python's str.strip() with no argument. */
export function pyStrip(s: string): string {
  return pyRstrip(pyLstrip(s));
}

/**
 * Python 3's round(x) for a float: round half to even on the exact binary value (round(2.5) = 2, round(0.3·15) = 4),
 * where JavaScript's Math.round rounds halves up (3, 5).
 */
export function pyRound(x: number): number {
  if (!Number.isFinite(x)) throw new Error(`cannot round ${x} to an integer`);
  const f = Math.floor(x);
  const d = x - f; // exact for floats
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
