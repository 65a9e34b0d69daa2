/**
 * `${params.a.b}` and `${matrix.axis}` in stage strings.
 *
 * A string that is exactly one `${...}` takes the referenced value with its type (a number stays a number, a list a
 * list); references inside longer strings are stringified, which only makes sense for strings, numbers and
 * booleans. `$${` writes a literal `${`. Errors point at the exact `${...}` in the file.
 *
 * In `cmd:` (shell mode) every value is one shell word: it is quoted (shell-quote.ts), and `${raw:params.x}` splices
 * the text unquoted, for a value that is meant to be shell syntax. A plain reference written inside quotes in the
 * command is an error, since the value would carry its quotes into the text.
 */
import type { DiagnosticSink } from './diagnostics.js';
import { QuoteTracker, shellQuote } from './shell-quote.js';
import type { QuoteContext } from './shell-quote.js';
import { closestMatch, didYouMean } from './suggest.js';
import type { PathSegment, PlainValue, Range, ScalarNode, SourceNode } from './source-tree.js';
import type { MatrixValue } from './types.js';
import type { Result } from '../contract/result.js';

export interface InterpolationScope {
  /** global params after profile and -S overrides */
  readonly params: PlainValue;
  /** this cell's matrix values */
  readonly matrix: Readonly<Record<string, MatrixValue>>;
  /** every axis the pipeline's matrix declares (to tell "not an axis" from "not an axis of this stage") */
  readonly allAxes: ReadonlySet<string>;
  /** the stage, for messages */
  readonly stageName: string;
  /** collects every param key referenced, for the unused-param warning */
  readonly usedParams: Set<string>;
}

/** A `${params.*}` reference found at `path` within the interpolated value. */
export interface ParamRef {
  path: PathSegment[];
  param: string;
}

export interface Interpolated {
  value: PlainValue;
  refs: ParamRef[];
}

/** `value`: with: and paths take values as they are; `shell`: cmd: quotes each value for the shell. */
export type InterpolationMode = 'value' | 'shell';

interface Piece {
  literal: string;
  /** the `${...}` text as it appears in the value, and where it starts */
  raw: string;
  index: number;
  /** the shell's quote context where the reference stands (shell mode) */
  quoted: QuoteContext;
}

const QUOTE_PLACES: Record<QuoteContext, string> = {
  none: '',
  single: "stands inside '…'",
  double: 'stands inside "…"',
  ansi: "stands inside $'…'",
  escaped: 'follows a backslash',
};

/** Interpolates every string in a subtree. Returns undefined when any reference is bad (reported in `sink`). */
export function interpolateNode(node: SourceNode, scope: InterpolationScope, sink: DiagnosticSink): Interpolated | undefined {
  const refs: ParamRef[] = [];
  let ok = true;
  const walk = (n: SourceNode, path: PathSegment[]): PlainValue => {
    switch (n.kind) {
      case 'scalar': {
        if (typeof n.value !== 'string') return n.value;
        const result = interpolateScalar(n, scope, sink, path);
        if (!result) {
          ok = false;
          return null;
        }
        refs.push(...result.refs);
        return result.value;
      }
      case 'seq':
        return n.items.map((item, i) => walk(item, [...path, i]));
      case 'map': {
        const out: { [key: string]: PlainValue } = {};
        for (const [key, entry] of n.entries) out[key] = walk(entry.value, [...path, key]);
        return out;
      }
    }
  };
  const value = walk(node, []);
  return ok ? { value, refs } : undefined;
}

/** Interpolates one string scalar; `path` is where it sits in the value being built (for provenance). */
export function interpolateScalar(
  node: ScalarNode,
  scope: InterpolationScope,
  sink: DiagnosticSink,
  path: PathSegment[] = [],
  mode: InterpolationMode = 'value',
): Interpolated | undefined {
  const text = typeof node.value === 'string' ? node.value : String(node.value);
  const pieces: Piece[] = [];
  const quotes = new QuoteTracker();
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      quotes.feed('$');
      quotes.feed('{');
      i += 3;
    } else if (text.startsWith('${', i)) {
      const close = text.indexOf('}', i + 2);
      if (close < 0) {
        sink.error('unterminated `${`: close it with `}`, or write `$${` for a literal `${`', spanOf(node, text, text.slice(i), i, sink));
        return undefined;
      }
      pieces.push({ literal, raw: text.slice(i, close + 1), index: i, quoted: quotes.context });
      quotes.skipWord();
      literal = '';
      i = close + 1;
    } else {
      const char = text[i] ?? '';
      literal += char;
      quotes.feed(char);
      i++;
    }
  }
  if (pieces.length === 0) return { value: literal, refs: [] };

  const refs: ParamRef[] = [];
  const values: { value: PlainValue; raw: boolean }[] = [];
  let ok = true;
  for (const piece of pieces) {
    const resolved = resolveReference(piece, node, text, scope, sink, mode);
    if (!resolved) {
      ok = false;
      continue;
    }
    if (resolved.param !== undefined) refs.push({ path, param: resolved.param });
    values.push({ value: resolved.value, raw: resolved.raw });
  }
  if (!ok) return undefined;

  const first = pieces[0];
  const whole = pieces.length === 1 && first !== undefined && first.literal === '' && literal === '';
  // a command is text: even `cmd: ${params.c}` is a string, quoted like any other value
  if (whole && mode === 'value') return { value: values[0]?.value ?? null, refs };

  let out = '';
  for (const [k, piece] of pieces.entries()) {
    const { value, raw } = values[k] ?? { value: null, raw: false };
    if (value === null || typeof value === 'object') {
      const what = value === null ? 'empty (null)' : Array.isArray(value) ? 'a list' : 'a map';
      const message =
        mode === 'shell'
          ? `${piece.raw} is ${what}; a command can only splice strings, numbers and booleans`
          : `${piece.raw} is ${what} and cannot be embedded in a longer string; use it as the whole value`;
      sink.error(message, spanOf(node, text, piece.raw, piece.index, sink));
      ok = false;
      continue;
    }
    if (mode === 'shell' && !raw && piece.quoted !== 'none') {
      const rawForm = `\${raw:${piece.raw.slice(2, -1).trim()}}`;
      sink.error(
        piece.quoted === 'escaped'
          ? `${piece.raw} ${QUOTE_PLACES.escaped} in cmd:, which would escape the quote wsflow puts around the value; remove the backslash, or write ${rawForm} to splice the value unquoted`
          : `${piece.raw} ${QUOTE_PLACES[piece.quoted]} in cmd: wsflow quotes each value for the shell itself, so the quotes would become part of the text; remove them, or write ${rawForm} to splice the value unquoted`,
        spanOf(node, text, piece.raw, piece.index, sink),
      );
      ok = false;
      continue;
    }
    const textValue = String(value);
    out += piece.literal + (mode === 'shell' && !raw ? shellQuote(textValue) : textValue);
  }
  return ok ? { value: out + literal, refs } : undefined;
}

function resolveReference(
  piece: Piece,
  node: ScalarNode,
  text: string,
  scope: InterpolationScope,
  sink: DiagnosticSink,
  mode: InterpolationMode,
): { value: PlainValue; raw: boolean; param?: string } | undefined {
  const at = (): Range => spanOf(node, text, piece.raw, piece.index, sink);
  const written = piece.raw.slice(2, -1).trim();
  const raw = written.startsWith('raw:');
  const expr = raw ? written.slice(4).trim() : written;
  const match = /^(params|matrix)((?:\.[A-Za-z0-9_-]+)+)$/.exec(expr);
  if (!match) {
    sink.error(`bad reference ${piece.raw}: expected \${params.KEY} or \${matrix.AXIS}${mode === 'shell' ? ' (or ${raw:params.KEY} in cmd:)' : ''}`, at());
    return undefined;
  }
  if (raw && mode !== 'shell') {
    sink.error(`${piece.raw}: \`raw:\` only applies in cmd:, where values are quoted for the shell; here write \${${expr}}`, at());
    return undefined;
  }
  const resolved = resolveExpression(piece, match, scope, sink, at);
  return resolved && { ...resolved, raw };
}

function resolveExpression(
  piece: Piece,
  match: RegExpExecArray,
  scope: InterpolationScope,
  sink: DiagnosticSink,
  at: () => Range,
): { value: PlainValue; param?: string } | undefined {
  const segments = (match[2] ?? '').slice(1).split('.');
  if (match[1] === 'matrix') {
    const axis = segments[0] ?? '';
    if (segments.length > 1) {
      sink.error(`bad reference ${piece.raw}: a matrix value has no keys; write \${matrix.${axis}}`, at());
      return undefined;
    }
    const value = scope.matrix[axis];
    if (value !== undefined) return { value };
    if (scope.allAxes.has(axis)) {
      sink.error(`stage "${scope.stageName}" does not foreach "${axis}"; add it to foreach: to use ${piece.raw}`, at());
    } else {
      sink.error(`unknown matrix axis "${axis}" in ${piece.raw}${didYouMean(axis, scope.allAxes)}`, at());
    }
    return undefined;
  }
  const found = lookupParam(scope.params, segments);
  if (!found.ok) {
    sink.error(`${found.error} in ${piece.raw}`, at());
    return undefined;
  }
  const key = segments.join('.');
  scope.usedParams.add(key);
  return { value: found.value, param: key };
}

/** Follows a dotted param key through the params tree. */
export function lookupParam(
  params: PlainValue,
  segments: readonly string[],
): Result<PlainValue, string> {
  let value: PlainValue = params;
  for (const [depth, segment] of segments.entries()) {
    const prefix = segments.slice(0, depth).join('.');
    if (Array.isArray(value)) {
      const index = /^[0-9]+$/.test(segment) ? Number(segment) : -1;
      if (index < 0 || index >= value.length) {
        return { ok: false, error: `param "${prefix}" is a list of ${value.length}; it has no item "${segment}"` };
      }
      value = value[index] ?? null;
    } else if (value !== null && typeof value === 'object') {
      if (!Object.prototype.hasOwnProperty.call(value, segment)) {
        const siblings = Object.keys(value);
        const full = [...segments.slice(0, depth), segment].join('.');
        const close = closestMatch(segment, siblings);
        const suggestion = close === undefined ? '' : ` (did you mean "${prefix === '' ? close : `${prefix}.${close}`}"?)`;
        return { ok: false, error: `unknown param "${full}"${suggestion}` };
      }
      value = value[segment] ?? null;
    } else {
      return { ok: false, error: `param "${prefix}" is ${value === null ? 'empty' : `a ${typeof value}`}; it has no key "${segment}"` };
    }
  }
  return { ok: true, value };
}

/** Where `raw` (found at `index` in the scalar's value) sits in the file; the whole scalar if it cannot be found. */
function spanOf(node: ScalarNode, value: string, raw: string, index: number, sink: DiagnosticSink): Range {
  const source = sink.source.text.slice(node.start, node.end);
  let occurrence = 0;
  for (let k = value.indexOf(raw); k >= 0 && k < index; k = value.indexOf(raw, k + 1)) occurrence++;
  let position = source.indexOf(raw);
  for (let k = 0; k < occurrence && position >= 0; k++) position = source.indexOf(raw, position + 1);
  if (position < 0) return node;
  return { start: node.start + position, end: node.start + position + raw.length };
}
