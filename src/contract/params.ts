/**
 * A kind's `with:` params: declared once as a JSON schema, received typed.
 *
 * The schema literal is the single declaration: `ParamsOf<S>` maps it to a TypeScript type at compile time, and
 * `parseParams` checks a value against the same schema at run time (filling defaults), so a stage reads
 * `ctx.params.coeffs` as `number[]` without a cast. Planning already validated `with:` against the full schema
 * with ajv (bounds, patterns, uniqueness); this parse checks what the type promises — JSON types, enums,
 * required and unknown keys — because a worker must not trust a record that crossed a process boundary, and
 * tests build contexts by hand.
 *
 * Only the JSON Schema subset the built-in kinds use is mapped: type (one or a list), enum, const, items,
 * properties, required, additionalProperties, default. Anything else maps to `unknown`.
 */

import type { Result } from './result.js';

type JsonTypeName = 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'array' | 'object';

/** A JSON schema as the built-in kinds write it (draft 2020-12 / ajv); other keywords pass through to ajv. */
export interface ParamSchema {
  readonly type?: JsonTypeName | readonly JsonTypeName[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly items?: ParamSchema;
  readonly properties?: Readonly<Record<string, ParamSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | ParamSchema;
  readonly default?: unknown;
  readonly description?: string;
  readonly [keyword: string]: unknown;
}

/** The schema of a kind's whole `with:` map. */
export interface ObjectParamSchema extends ParamSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, ParamSchema>>;
}

type Mutable<T> = T extends readonly (infer E)[] ? E[] : T;

type TypeOfName<N, S> = N extends 'string'
  ? string
  : N extends 'number' | 'integer'
    ? number
    : N extends 'boolean'
      ? boolean
      : N extends 'null'
        ? null
        : N extends 'array'
          ? S extends { readonly items: infer I }
            ? ValueOf<I>[]
            : unknown[]
          : N extends 'object'
            ? S extends { readonly properties: infer P }
              ? ObjectOf<P, S>
              : Record<string, unknown>
            : unknown;

/** The value a schema admits (with defaults filled in, for objects). */
export type ValueOf<S> = S extends { readonly enum: readonly (infer E)[] }
  ? Mutable<E>
  : S extends { readonly const: infer C }
    ? C
    : S extends { readonly type: readonly (infer N)[] }
      ? TypeOfName<N, S>
      : S extends { readonly type: infer N }
        ? TypeOfName<N, S>
        : unknown;

type RequiredKeys<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;
/** Keys a parsed object always has: required ones and those with a default. */
type PresentKeys<P, S> = { [K in keyof P]: K extends RequiredKeys<S> ? K : P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type Flatten<T> = { [K in keyof T]: T[K] };
type ObjectOf<P, S> = Flatten<
  { [K in keyof P as K extends PresentKeys<P, S> ? K : never]: ValueOf<P[K]> } & {
    [K in keyof P as K extends PresentKeys<P, S> ? never : K]?: ValueOf<P[K]>;
  }
>;

/** The typed params of a kind whose `with:` schema is S. */
export type ParamsOf<S extends ObjectParamSchema> = ValueOf<S>;

/** Why a value does not fit its schema: the `with:` key (dotted path) and one sentence. */
export interface ParamError {
  param: string;
  message: string;
}

/** A parse of a kind's params: its typed value, or the key that does not fit. */
export type ParamsResult<T> = Result<T, ParamError>;

function jsonTypeOf(v: unknown): JsonTypeName {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as JsonTypeName;
}

function fits(actual: JsonTypeName, wanted: JsonTypeName): boolean {
  return actual === wanted || (wanted === 'number' && actual === 'integer');
}

function clone(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function check(schema: ParamSchema, value: unknown, path: string): Result<unknown, ParamError> {
  const fail = (message: string): { ok: false; error: ParamError } => ({ ok: false, error: { param: path, message } });
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    return fail(`${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  }
  if ('const' in schema && schema.const !== value) return fail(`must be ${JSON.stringify(schema.const)}`);
  if (schema.type !== undefined) {
    const wanted: readonly JsonTypeName[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    const actual = jsonTypeOf(value);
    if (!wanted.some((w) => fits(actual, w))) return fail(`expected ${wanted.join(' or ')}, got ${actual === 'integer' ? 'number' : actual}`);
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    const out: unknown[] = [];
    for (const [i, item] of value.entries()) {
      const r = check(schema.items, item, `${path}[${i}]`);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (isRecord(value) && schema.properties !== undefined) return checkObject(schema, value, path);
  return { ok: true, value };
}

function checkObject(schema: ParamSchema, value: Readonly<Record<string, unknown>>, path: string): Result<unknown, ParamError> {
  const props = schema.properties ?? {};
  const at = (k: string): string => (path === '' ? k : `${path}.${k}`);
  if (schema.additionalProperties === false) {
    const unknown = Object.keys(value).find((k) => !(k in props));
    if (unknown !== undefined) return { ok: false, error: { param: at(unknown), message: `unknown param (known: ${Object.keys(props).join(', ')})` } };
  }
  const out: Record<string, unknown> = { ...value };
  for (const [k, sub] of Object.entries(props)) {
    const given = value[k] === undefined ? clone(sub.default) : value[k];
    if (given === undefined) {
      if (schema.required?.includes(k) === true) return { ok: false, error: { param: at(k), message: 'is required' } };
      continue;
    }
    const r = check(sub, given, at(k));
    if (!r.ok) return r;
    out[k] = r.value;
  }
  return { ok: true, value: out };
}

/** Check `raw` against the kind's schema and fill its defaults: the one parse between a record and typed params. */
export function parseParams<const S extends ObjectParamSchema>(schema: S, raw: Readonly<Record<string, unknown>>): ParamsResult<ParamsOf<S>> {
  const r = checkObject(schema, raw, '');
  return r.ok ? { ok: true, value: r.value as ParamsOf<S> } : r;
}
