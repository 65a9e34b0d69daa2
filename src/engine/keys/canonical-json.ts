/**
 * Canonical JSON for cache keys: object keys sorted, numbers in one spelling, no insignificant whitespace.
 *
 * Numbers are normalised through their float64 value, so `1e-3`, `0.001` and `1.0E-3` in pipeline.yaml give the
 * same key, and `-0` equals `0`. JSON has no NaN/Infinity; they are encoded as tagged objects so that they still
 * differ from strings and from each other.
 */

export type CanonicalJsonString = string & { readonly __brand: 'CanonicalJson' };

export function canonicalJson(value: unknown): CanonicalJsonString {
  // V8's JSON.stringify is several times faster than the writer below, and writes the same bytes for a value whose
  // objects list their keys in sorted order and that holds nothing it would spell differently (the engine builds
  // its key material and manifests in sorted order for this; a status of 1000 stages writes 2000 of them)
  return (alreadyCanonical(value, 0) ? JSON.stringify(value) : write(value, 0)) as CanonicalJsonString;
}

/** Params are trees written by people; anything deeper than this is a cycle or a mistake. */
const MAX_DEPTH = 256;

/**
 * True when JSON.stringify(value) is its canonical JSON: plain objects (no class, so no toJSON) whose enumerable
 * keys come in strictly ascending order (for-in order is JSON.stringify's), no undefined anywhere (JSON.stringify
 * would drop it from objects but write null in arrays), and only finite numbers, strings, booleans and null below.
 */
function alreadyCanonical(value: unknown, depth: number): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return false;
  }
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v === undefined || !alreadyCanonical(v, depth + 1)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = value as Record<string, unknown>;
  let previous: string | null = null;
  for (const k in obj) {
    if (previous !== null && !(previous < k)) return false;
    previous = k;
    const v = obj[k];
    if (v === undefined || !alreadyCanonical(v, depth + 1)) return false;
  }
  return true;
}

function write(value: unknown, depth: number): string {
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
  if (depth > MAX_DEPTH) throw new TypeError('cannot hash a cyclic (or absurdly deep) value');
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + write(value[i], depth + 1);
    return `${out}]`;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${write(v, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

function writeNumber(n: number): string {
  if (Number.isNaN(n)) return '{"$number":"NaN"}';
  if (n === Infinity) return '{"$number":"Infinity"}';
  if (n === -Infinity) return '{"$number":"-Infinity"}';
  if (Object.is(n, -0)) return '0';
  // JS's shortest round-trip spelling is unique per float64, so this is already canonical.
  return String(n);
}
