/**
 * Parses pipeline.yaml with `yaml` (positions from its CST ranges) into a SourceNode tree. Aliases and `<<` merge
 * keys are resolved here so that later phases see plain maps; their nodes keep the anchor's positions.
 *
 * `yaml` is lenient where a build file must not be: an alias with no anchor before it resolves to nothing (the key
 * would silently vanish), an unknown tag such as `!include` is only a warning, and a lone CR is not a line break.
 * Each of those is handled here.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Alias, Document, Node as YamlNode } from 'yaml';
import { DiagnosticSink, SourceText } from './diagnostics.js';
import type { MapEntry, Range, ScalarValue, SourceNode } from './source-tree.js';

/** Alias expansion beyond this many nodes is refused (a "billion laughs" file would otherwise hang the loader). */
const MAX_EXPANDED_NODES = 1_000_000;

export interface ParsedYaml {
  sink: DiagnosticSink;
  /** absent when the file has YAML errors */
  root?: SourceNode;
}

export function parseYaml(file: string, original: string): ParsedYaml {
  // YAML 1.2 counts a lone CR as a line break, `yaml` does not; replacing it by LF keeps every offset unchanged
  const text = original.replace(/\r(?!\n)/g, '\n');
  const lineCounter = new LineCounter();
  // duplicate keys are found by the converter: yaml's own check is quadratic in a map's size (90 ms for 1000 stages)
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: false });
  const sink = new DiagnosticSink(new SourceText(file, text, lineCounter));
  for (const err of doc.errors) {
    const start = err.pos[0];
    const end = err.pos[1];
    const opening = /end with an? [\]}]/.test(err.message) ? unclosedBracket(text, start) : undefined;
    const notes = opening === undefined ? [] : [{ message: `the ${text[opening] ?? ''} opened here is not closed`, at: { start: opening, end: opening + 1 } }];
    sink.error(yamlErrorMessage(err.code, err.message) + flowHint(text, start), { start, end }, notes);
  }
  for (const warning of doc.warnings) {
    const [start, end] = warning.pos;
    if (warning.code === 'TAG_RESOLVE_FAILED') {
      const tag = text.slice(start, end).split(/\s/, 1)[0] ?? '';
      sink.error(`unsupported YAML tag ${tag}: pipeline.yaml is plain YAML (no !include or custom types); remove the tag`, { start, end });
      continue;
    }
    sink.warning(firstLine(warning.message), { start, end });
  }
  if (sink.hasErrors) return { sink };
  const converter = new Converter(doc, sink);
  const root = doc.contents ? converter.convert(doc.contents) : undefined;
  if (sink.hasErrors) return { sink };
  return root ? { sink, root } : { sink };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/** The offset of the last `[` or `{` before `offset` that no later bracket closes (for "not closed" notes). */
function unclosedBracket(text: string, offset: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  const opened: number[] = [];
  for (let i = 0; i < offset; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\n' && depth === 0) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? offset : eol - 1;
    } else if ((c === '"' || c === "'") && depth > 0) {
      quote = c;
    } else if (c === '[' || c === '{') {
      depth++;
      opened.push(i);
    } else if ((c === ']' || c === '}') && depth > 0) {
      depth--;
      opened.pop();
    }
  }
  return opened[opened.length - 1];
}

/** `[${params.x}]` is a flow map inside a flow list to YAML: say so when an error sits on such a line. */
function flowHint(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const flow = line.includes('${') && /[[{]/.test(line.replace(/\$\{[^}]*\}?/g, ''));
  return flow ? ' (inside [ ] or { }, quote values that contain ${...})' : '';
}

function yamlErrorMessage(code: string, message: string): string {
  switch (code) {
    case 'MULTIPLE_DOCS':
      return 'a pipeline file holds one YAML document, but a second one starts here';
    default:
      return `YAML syntax: ${firstLine(message)}`;
  }
}

/**
 * Every alias's anchor, found in one pass in document order: the last node with that anchor before the alias, as
 * YAML specifies (`Alias.resolve` walks the whole document for each alias). Aliases without one map to undefined.
 */
function resolveAliases(doc: Document.Parsed): Map<Alias, YamlNode | undefined> {
  const anchors = new Map<string, YamlNode>();
  const targets = new Map<Alias, YamlNode | undefined>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) targets.set(node, anchors.get(node.source));
      else if (node.anchor !== undefined) anchors.set(node.anchor, node);
    },
  });
  return targets;
}

/** Where a later `&name` sits, for "alias before its anchor" messages. */
function laterAnchor(doc: Document.Parsed, name: string): YamlNode | undefined {
  let found: YamlNode | undefined;
  visit(doc, {
    Node(_key, node) {
      if (!isAlias(node) && node.anchor === name) {
        found = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

class Converter {
  readonly #doc: Document.Parsed;
  readonly #sink: DiagnosticSink;
  readonly #memo = new Map<YamlNode, { node: SourceNode; weight: number }>();
  readonly #aliases: Map<Alias, YamlNode | undefined>;
  /** nodes being built: an alias to one of them is a cycle (`a: &x {b: *x}`) */
  readonly #building = new Set<YamlNode>();
  #expanded = 0;

  constructor(doc: Document.Parsed, sink: DiagnosticSink) {
    this.#doc = doc;
    this.#sink = sink;
    this.#aliases = resolveAliases(doc);
  }

  convert(node: YamlNode): SourceNode | undefined {
    const result = this.#convert(node);
    return result?.node;
  }

  #convert(node: YamlNode): { node: SourceNode; weight: number } | undefined {
    const target = isAlias(node) ? this.#aliasTarget(node) : node;
    if (!target) return undefined;
    const memo = this.#memo.get(target);
    if (memo) {
      this.#expanded += memo.weight;
      if (this.#expanded > MAX_EXPANDED_NODES) {
        this.#sink.error(`aliases expand to more than ${MAX_EXPANDED_NODES} values`, rangeOf(node));
        return undefined;
      }
      return memo;
    }
    this.#building.add(target);
    const result = this.#build(target);
    this.#building.delete(target);
    if (result) this.#memo.set(target, result);
    return result;
  }

  #aliasTarget(alias: Alias): YamlNode | undefined {
    const target = this.#aliases.get(alias);
    const range = rangeOf(alias);
    if (target === undefined) {
      const later = laterAnchor(this.#doc, alias.source);
      if (later) {
        this.#sink.error(`alias *${alias.source} comes before its anchor &${alias.source}: an alias can only repeat a value anchored earlier in the file`, range, [
          { message: `&${alias.source} is defined here`, at: rangeOf(later) },
        ]);
      } else {
        this.#sink.error(`undefined alias *${alias.source}: no anchor &${alias.source} is defined before it`, range);
      }
      return undefined;
    }
    if (this.#building.has(target)) {
      this.#sink.error(`alias *${alias.source} is inside the value it repeats (a cycle)`, range);
      return undefined;
    }
    return target;
  }

  #build(node: YamlNode): { node: SourceNode; weight: number } | undefined {
    const range = rangeOf(node);
    if (isScalar(node)) {
      const value = this.#scalarValue(node.value, range);
      if (value === undefined) return undefined;
      this.#expanded++;
      return { node: { kind: 'scalar', start: range.start, end: range.end, value }, weight: 1 };
    }
    if (isSeq(node)) {
      const items: SourceNode[] = [];
      let weight = 1;
      for (const item of node.items) {
        const converted = isPair(item) ? undefined : this.#convert(item as YamlNode);
        if (!converted) {
          if (isPair(item)) this.#sink.error('a list item cannot be a key: value pair here', rangeOf(item.key as YamlNode));
          continue;
        }
        items.push(converted.node);
        weight += converted.weight;
      }
      this.#expanded++;
      return { node: { kind: 'seq', start: range.start, end: range.end, items }, weight };
    }
    if (isMap(node)) return this.#buildMap(node.items, range);
    this.#sink.error('unsupported YAML node', range);
    return undefined;
  }

  #buildMap(pairs: readonly unknown[], range: Range): { node: SourceNode; weight: number } | undefined {
    const entries = new Map<string, MapEntry>();
    const mergeSources: SourceNode[] = [];
    let weight = 1;
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const valueNode = pair.value as YamlNode | null;
      if (keyNode && isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        if (valueNode) {
          const merged = this.#convert(valueNode);
          if (merged?.node.kind === 'seq') mergeSources.push(...merged.node.items);
          else if (merged) mergeSources.push(merged.node);
        }
        continue;
      }
      if (!keyNode || !isScalar(keyNode)) {
        this.#sink.error('keys must be plain scalars (a name), not lists or maps', keyNode ? rangeOf(keyNode) : range);
        continue;
      }
      const keyRange = rangeOf(keyNode);
      const key = keyNode.value === null ? '' : String(keyNode.value);
      if (key.includes('\u0000')) {
        this.#sink.error('a key holds a NUL byte (\\0), which no command line, file name or environment can carry', keyRange);
        continue;
      }
      const first = entries.get(key);
      if (first) {
        this.#sink.error(`duplicate key "${key}"`, keyRange, [{ message: `"${key}" is first set here`, at: first.keyRange }]);
        continue;
      }
      const converted = valueNode
        ? this.#convert(valueNode)
        : { node: { kind: 'scalar' as const, start: keyRange.end, end: keyRange.end, value: null }, weight: 1 };
      if (!converted) continue;
      entries.set(key, { key, keyRange, value: converted.node });
      weight += converted.weight;
    }
    // YAML merge keys: explicit keys win, then earlier merge sources over later ones
    for (const source of mergeSources) {
      if (source.kind !== 'map') {
        this.#sink.error('`<<` merges a map (or a list of maps) into this map', source);
        continue;
      }
      for (const [key, entry] of source.entries) if (!entries.has(key)) entries.set(key, entry);
    }
    this.#expanded++;
    return { node: { kind: 'map', start: range.start, end: range.end, entries }, weight };
  }

  #scalarValue(value: unknown, range: Range): ScalarValue | undefined {
    if (typeof value === 'string' && value.includes('\u0000')) {
      this.#sink.error('a string holds a NUL byte (\\0), which no command line, file name or environment can carry', range);
      return undefined;
    }
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      this.#sink.error('non-finite numbers (.inf, .nan) cannot be hashed as JSON; quote the value to make it a string', range);
      return undefined;
    }
    if (typeof value === 'bigint') {
      this.#sink.error('integer too large to be represented exactly; quote it to make it a string', range);
      return undefined;
    }
    this.#sink.error(`unsupported YAML value of type ${typeof value}`, range);
    return undefined;
  }
}

function rangeOf(node: YamlNode): Range {
  const range = node.range;
  if (!range) return { start: 0, end: 0 };
  return { start: range[0], end: range[1] };
}
