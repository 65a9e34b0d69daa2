/**
 * Validates the parsed document against schema/pipeline.schema.json (the schema editors use too) and turns each
 * ajv error into a one-line message at the YAML node it concerns.
 */
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { DiagnosticSink } from './diagnostics.js';
import { closestMatch, didYouMean } from './suggest.js';
import { locate, toPlain, valueRange } from './source-tree.js';
import type { PathSegment, PlainValue, Range, SourceNode } from './source-tree.js';

const Ajv = AjvModule.default;

export const PIPELINE_SCHEMA_URL = new URL('../../../schema/pipeline.schema.json', import.meta.url);

const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

let compiled: ValidateFunction | undefined;

function pipelineValidator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(PIPELINE_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** Reports every schema violation of `root` into `sink`; returns false when there was any. */
export function validateAgainstSchema(root: SourceNode | undefined, sink: DiagnosticSink): boolean {
  if (!root || (root.kind === 'scalar' && root.value === null)) {
    sink.error('the pipeline file is empty: it needs at least a `stages:` map', { start: 0, end: 0 });
    return false;
  }
  const validate = pipelineValidator();
  if (validate(toPlain(root))) return true;
  reportAjvErrors(validate.errors ?? [], root, sink, { prefix: [], suffix: '' });
  if (!sink.hasErrors) sink.error('the pipeline does not match its schema', root);
  return false;
}

function parsePointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `stages.train.deps[0]`: how messages name a place in the document. */
export function describePath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number' || /^[0-9]+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};

export function typeOfValue(value: PlainValue | undefined): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'boolean') return `${String(value)} (a boolean)`;
  return 'a string';
}

function orList(words: readonly string[]): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] ?? ''}`;
}

function patternHint(pattern: string, description: unknown): string {
  if (pattern === NAME_PATTERN) return 'names start with a letter or _ and contain only letters, digits and _';
  if (typeof description === 'string') return `expected ${description}`;
  return `expected a value matching ${pattern}`;
}

export interface AjvErrorContext {
  /** where `root` sits in the document, for naming places in messages (e.g. ['stages', 'train', 'with']) */
  prefix: readonly PathSegment[];
  /** appended to every message, e.g. ' (kind "train")' */
  suffix: string;
  /** underlined when `root` is a stand-in that has no text of its own (e.g. a missing `with:`) */
  fallback?: Range;
  /** the key `root` is the value of (e.g. `with:`): where a key missing from `root` is reported */
  rootKeyRange?: Range;
}

/**
 * Reports ajv errors about the value of `root`, each at the node its instancePath leads to. A required key that
 * is missing because it was misspelt is reported once, as the unknown key with its suggestion.
 */
export function reportAjvErrors(errors: readonly ErrorObject[], root: SourceNode, sink: DiagnosticSink, context: AjvErrorContext): void {
  const misspelt = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const allowed = Object.keys(((error.parentSchema ?? {}) as Record<string, unknown>)['properties'] ?? {});
    const match = closestMatch(String(error.params['additionalProperty']), allowed);
    if (match !== undefined) misspelt.add(`${error.instancePath}/${match}`);
  }
  for (const error of errors) {
    if (error.keyword === 'required' && misspelt.has(`${error.instancePath}/${String(error.params['missingProperty'])}`)) continue;
    const message = ajvErrorMessage(error, root, context);
    if (message) sink.error(message.text + context.suffix, message.at);
  }
}

function ajvErrorMessage(error: ErrorObject, root: SourceNode, context: AjvErrorContext): { text: string; at: Range } | undefined {
  const localPath = parsePointer(error.instancePath);
  const path = [...context.prefix, ...localPath];
  const where = describePath(path);
  const located = locate(root, localPath);
  const at = context.fallback ?? valueRange(located.node, located.entry);
  const parentSchema = (error.parentSchema ?? {}) as Record<string, unknown>;

  // the nested error (with error.propertyName set) says why the name is bad
  if (error.keyword === 'propertyNames') return undefined;
  if (error.propertyName !== undefined) {
    // a key of this map breaks propertyNames: point at the key itself
    const key = error.propertyName;
    const keyEntry = located.node.kind === 'map' ? located.node.entries.get(key) : undefined;
    const hint = error.keyword === 'pattern' ? patternHint(String(error.params['pattern']), undefined) : error.message ?? '';
    return { text: `invalid name "${key}" in ${where}: ${hint}`, at: keyEntry?.keyRange ?? at };
  }

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params['additionalProperty']);
      const keyEntry = located.node.kind === 'map' ? located.node.entries.get(key) : undefined;
      const allowed = Object.keys((parentSchema['properties'] ?? {}) as Record<string, unknown>);
      const suggestion = didYouMean(key, allowed);
      const place = path.length === 0 ? 'at the top level' : `in ${where}`;
      const tail = suggestion !== '' ? suggestion : `; expected one of: ${allowed.join(', ')}`;
      return { text: `unknown key "${key}" ${place}${tail}`, at: keyEntry?.keyRange ?? at };
    }
    case 'type': {
      const wanted = String(error.params['type'])
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t);
      const actual = typeOfValue(error.data as PlainValue);
      const subject = path.length === 0 ? 'the pipeline file' : where;
      return { text: `${subject} must be ${orList(wanted)}, not ${actual}`, at };
    }
    case 'required': {
      const missing = String(error.params['missingProperty']);
      const subject = path.length === 0 ? 'the pipeline file' : where;
      // point at the key that holds the incomplete map (`with:`), not at the map's first entry
      const keyAt = localPath.length === 0 ? context.rootKeyRange : located.entry?.keyRange;
      return { text: `${subject} is missing the required key "${missing}"`, at: path.length === 0 ? { start: 0, end: 0 } : (context.fallback ?? keyAt ?? at) };
    }
    case 'minProperties':
      return { text: `${where} must not be empty`, at };
    case 'pattern':
      return { text: `${where} ${JSON.stringify(error.data)} is not valid: ${patternHint(String(error.params['pattern']), parentSchema['description'])}`, at };
    case 'enum': {
      const allowed = (error.params['allowedValues'] as unknown[]).map(String);
      const value = String(error.data);
      return { text: `${where} must be one of ${allowed.join(', ')}, not "${value}"${didYouMean(value, allowed)}`, at };
    }
    case 'minLength':
      return { text: `${where} must not be an empty string`, at };
    case 'minItems':
      return { text: `${where} must not be an empty list`, at };
    case 'uniqueItems': {
      const j = Number(error.params['j']);
      const i = Number(error.params['i']);
      const second = locate(root, [...localPath, Math.max(i, j)]);
      const data = error.data as PlainValue[];
      return { text: `${where} lists ${JSON.stringify(data[Math.max(i, j)])} twice`, at: valueRange(second.node, second.entry) };
    }
    case 'minimum':
      return { text: `${where} must be at least ${String(error.params['limit'])}, not ${JSON.stringify(error.data)}`, at };
    default:
      return { text: `${where === '' ? 'the pipeline file' : where} ${error.message ?? 'is invalid'}`, at };
  }
}
