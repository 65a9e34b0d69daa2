/**
 * JSON text as Python's json.dumps(obj, indent=2, sort_keys=True) writes it (what PEFT's save_pretrained
 * produces), so that an adapter_config.json we write is byte-identical to PEFT's: floats in Python's repr
 * (0.0, 6e-05), non-ASCII escaped as \uXXXX, keys sorted.
 */

/** Python's repr of a float: shortest round-trip digits, exponent form when the exponent is < -4 or >= 16. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = parseInt(expStr, 10);
  if (exp < -4 || exp >= 16) {
    const sign = exp < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const plain = String(x);
  return /[.e]/.test(plain) ? plain : `${plain}.0`;
}

function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Serialise like json.dumps(indent=2, sort_keys=True). Numbers under a key listed in `floatKeys` (at any depth)
 * are Python floats; other integral numbers are ints.
 */
export function pythonJson(value: unknown, floatKeys: ReadonlySet<string> = new Set(), indent = ''): string {
  const num = (n: number, isFloat: boolean): string => (isFloat || !Number.isInteger(n) ? pythonFloatRepr(n) : String(n));
  const render = (v: unknown, key: string | undefined, ind: string): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') return num(v, key !== undefined && floatKeys.has(key));
    if (typeof v === 'string') return pyString(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => `${ind}  ${render(x, key, `${ind}  `)}`).join(',\n')}\n${ind}]`;
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v as object).sort();
      if (keys.length === 0) return '{}';
      return `{\n${keys.map((k) => `${ind}  ${pyString(k)}: ${render((v as Record<string, unknown>)[k], k, `${ind}  `)}`).join(',\n')}\n${ind}}`;
    }
    throw new Error(`cannot serialise ${typeof v} as JSON`);
  };
  return render(value, undefined, indent);
}
