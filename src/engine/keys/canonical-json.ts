/**
 * Canonical JSON for cache keys: object keys sorted, numbers in one spelling, no insignificant whitespace.
 *
 * Numbers are normalised through their float64 value, so `1e-3`, `0.001` and `1.0E-3` in pipeline.yaml give the
 * same key, and `-0` equals `0`. JSON has no NaN/Infinity; they are encoded as tagged objects so that they still
 * differ from strings and from each other.
 */

export type CanonicalJsonString = string & { readonly __brand: 'CanonicalJson' };

export function canonicalJson(value: unknown): CanonicalJsonString {
  return write(value, new Set()) as CanonicalJsonString;
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return writeNumber(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot hash a ${typeof value} value`);
  }
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('cannot hash a cyclic value');
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return `[${obj.map((v: unknown) => write(v, seen)).join(',')}]`;
    if (obj instanceof Date) return JSON.stringify(obj.toISOString());
    const entries = Object.entries(obj as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, seen)}`).join(',')}}`;
  } finally {
    seen.delete(obj);
  }
}

function writeNumber(n: number): string {
  if (Number.isNaN(n)) return '{"$number":"NaN"}';
  if (n === Infinity) return '{"$number":"Infinity"}';
  if (n === -Infinity) return '{"$number":"-Infinity"}';
  if (Object.is(n, -0)) return '0';
  // JS's shortest round-trip spelling is unique per float64, so this is already canonical.
  return JSON.stringify(n);
}
