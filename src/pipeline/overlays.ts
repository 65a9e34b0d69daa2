/**
 * Profiles (`--profile NAME`) and `-S key=value` overrides, applied to the located tree so that every merged value
 * still points at the text that set it.
 *
 * A profile deep-merges its params into the global params (it may not invent new ones: a typo would silently do
 * nothing), replaces whole matrix axes, and deep-merges partial stages into existing stages. `-S` replaces one
 * existing global param, its value read as YAML (like `dvc exp run -S`).
 */
import { isMap, isSeq, parseDocument } from 'yaml';
import type { DiagnosticSink } from './diagnostics.js';
import { closestMatch, didYouMean, listNames } from './suggest.js';
import { entryValue, fromPlain, isMapNode, locate, valueRange } from './source-tree.js';
import type { MapEntry, MapNode, PlainValue, Range, SourceNode } from './source-tree.js';
import type { Result } from '../contract/result.js';

export interface PipelineParts {
  params: SourceNode | undefined;
  matrix: MapNode | undefined;
  stages: MapNode;
}

const FILE_START: Range = { start: 0, end: 0 };

function keyRangeOf(root: MapNode, key: string): Range {
  return root.entries.get(key)?.keyRange ?? FILE_START;
}

/** Deep merge: maps merge key by key, anything else is replaced by the overlay. */
function deepMerge(base: SourceNode, overlay: SourceNode): SourceNode {
  if (base.kind !== 'map' || overlay.kind !== 'map') return overlay;
  const entries = new Map<string, MapEntry>(base.entries);
  for (const [key, entry] of overlay.entries) {
    const existing = entries.get(key);
    entries.set(key, existing ? { key, keyRange: entry.keyRange, value: deepMerge(existing.value, entry.value) } : entry);
  }
  return { kind: 'map', start: base.start, end: base.end, entries };
}

/** Like deepMerge, but a key the base map does not have is an error (profile params). */
function mergeParams(base: SourceNode, overlay: SourceNode, path: string, profile: string, sink: DiagnosticSink): SourceNode {
  if (base.kind !== 'map' || overlay.kind !== 'map') return overlay;
  const entries = new Map<string, MapEntry>(base.entries);
  for (const [key, entry] of overlay.entries) {
    const existing = base.entries.get(key);
    const full = path === '' ? key : `${path}.${key}`;
    if (!existing) {
      sink.error(
        `profile "${profile}" sets params.${full}, which params does not declare${didYouMean(key, base.entries.keys())}`,
        entry.keyRange,
      );
      continue;
    }
    entries.set(key, { key, keyRange: entry.keyRange, value: mergeParams(existing.value, entry.value, full, profile, sink) });
  }
  return { kind: 'map', start: base.start, end: base.end, entries };
}

/** Picks the base parts of the document and lays the chosen profile over them. */
export function applyProfile(root: MapNode, profile: string | null, sink: DiagnosticSink): PipelineParts | undefined {
  const stages = entryValue(root, 'stages');
  if (!isMapNode(stages)) return undefined; // the schema has already said so
  const matrix = entryValue(root, 'matrix');
  const parts: PipelineParts = {
    params: entryValue(root, 'params'),
    matrix: isMapNode(matrix) ? matrix : undefined,
    stages,
  };
  if (profile === null) return parts;

  const profiles = entryValue(root, 'profiles');
  const overlay = isMapNode(profiles) ? profiles.entries.get(profile)?.value : undefined;
  if (!isMapNode(overlay)) {
    const known = isMapNode(profiles) ? [...profiles.entries.keys()] : [];
    const tail =
      known.length === 0 ? '; the pipeline file defines no profiles' : `${didYouMean(profile, known)}; profiles: ${listNames(known)}`;
    sink.error(`unknown profile "${profile}"${tail}`, isMapNode(profiles) ? keyRangeOf(root, 'profiles') : FILE_START);
    return undefined;
  }

  const before = sink.errorCount;
  const params = entryValue(overlay, 'params');
  if (params) {
    const base = parts.params ?? { kind: 'map' as const, start: params.start, end: params.start, entries: new Map() };
    parts.params = mergeParams(base, params, '', profile, sink);
  }
  const axes = entryValue(overlay, 'matrix');
  if (isMapNode(axes)) {
    const entries = new Map<string, MapEntry>(parts.matrix?.entries ?? []);
    for (const [axis, entry] of axes.entries) entries.set(axis, entry);
    parts.matrix = { kind: 'map', start: parts.matrix?.start ?? axes.start, end: parts.matrix?.end ?? axes.end, entries };
  }
  const stageOverlays = entryValue(overlay, 'stages');
  if (isMapNode(stageOverlays)) {
    const entries = new Map<string, MapEntry>(stages.entries);
    for (const [name, entry] of stageOverlays.entries) {
      const existing = entries.get(name);
      if (!existing) {
        sink.error(
          `profile "${profile}" changes stage "${name}", which stages does not declare${didYouMean(name, stages.entries.keys())}`,
          entry.keyRange,
        );
        continue;
      }
      entries.set(name, { key: name, keyRange: existing.keyRange, value: deepMerge(existing.value, entry.value) });
    }
    parts.stages = { kind: 'map', start: stages.start, end: stages.end, entries };
  }
  return sink.errorCount > before ? undefined : parts;
}

/** The value of `-S key=value`: YAML scalars and flow collections; anything else is taken as the literal string. */
function parseOverrideValue(raw: string): Result<PlainValue, string> {
  if (raw === '') return { ok: true, value: '' };
  const doc = parseDocument(raw, { prettyErrors: false });
  if (doc.errors.length > 0) {
    // `[`, `{` and quotes announce structure: a mistake there is worth an error, not a silent string
    if (/^\s*[[{"']/.test(raw)) {
      const message = doc.errors[0]?.message.split('\n', 1)[0] ?? 'invalid YAML';
      return { ok: false, error: `the value is not valid YAML (${message})` };
    }
    return { ok: true, value: raw };
  }
  const contents = doc.contents;
  if ((isMap(contents) || isSeq(contents)) && !contents.flow) return { ok: true, value: raw };
  const value = doc.toJS() as PlainValue;
  if (typeof value === 'number' && !Number.isFinite(value)) return { ok: false, error: 'non-finite numbers are not allowed' };
  return { ok: true, value };
}

/** Rebuilds `node` with the value at `path` replaced. */
function replaceAt(node: SourceNode, path: readonly string[], replacement: SourceNode): SourceNode {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (node.kind === 'map') {
    const entry = node.entries.get(head);
    if (!entry) return node;
    const entries = new Map<string, MapEntry>(node.entries);
    entries.set(head, { ...entry, value: replaceAt(entry.value, rest, replacement) });
    return { ...node, entries };
  }
  if (node.kind === 'seq') {
    const index = Number(head);
    const items = [...node.items];
    const item = items[index];
    if (item === undefined) return node;
    items[index] = replaceAt(item, rest, replacement);
    return { ...node, items };
  }
  return node;
}

/** Applies `-S key=value` overrides (raw strings as typed) to the global params. */
export function applyOverrides(
  root: MapNode,
  parts: PipelineParts,
  overrides: readonly string[],
  sink: DiagnosticSink,
): PipelineParts | undefined {
  const before = sink.errorCount;
  let params = parts.params;
  const paramsKey = keyRangeOf(root, 'params');
  for (const raw of overrides) {
    const eq = raw.indexOf('=');
    const key = eq < 0 ? raw : raw.slice(0, eq);
    const segments = key.split('.');
    if (eq < 0 || segments.some((s) => s === '')) {
      sink.error(`bad -S "${raw}": expected -S KEY=VALUE with a dotted param key, e.g. -S train.lr=0.01`, paramsKey);
      continue;
    }
    if (!params) {
      sink.error(`bad -S "${raw}": the pipeline file declares no params`, FILE_START);
      continue;
    }
    const located = locate(params, segments);
    if (located.depth < segments.length) {
      const parent = locate(params, segments.slice(0, located.depth));
      const siblings = parent.node.kind === 'map' ? [...parent.node.entries.keys()] : [];
      const missing = segments[located.depth] ?? '';
      const close = closestMatch(missing, siblings);
      const prefix = segments.slice(0, located.depth).join('.');
      const suggestion =
        close !== undefined
          ? ` (did you mean "${prefix === '' ? close : `${prefix}.${close}`}"?)`
          : siblings.length > 0
            ? ` (${prefix === '' ? 'params' : prefix} has: ${listNames(siblings)})`
            : '';
      const at = located.depth === 0 ? paramsKey : (located.entry?.keyRange ?? valueRange(located.node));
      sink.error(`bad -S "${raw}": unknown param "${key}"${suggestion}; -S can only change params that exist`, at);
      continue;
    }
    const parsed = parseOverrideValue(raw.slice(eq + 1));
    if (!parsed.ok) {
      sink.error(`bad -S "${raw}": ${parsed.error}`, located.entry?.keyRange ?? valueRange(located.node));
      continue;
    }
    params = replaceAt(params, segments, fromPlain(parsed.value, valueRange(located.node, located.entry)));
  }
  return sink.errorCount > before ? undefined : { ...parts, params };
}
