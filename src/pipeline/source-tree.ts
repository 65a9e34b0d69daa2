/**
 * pipeline.yaml as a tree of values that remember where they were written.
 *
 * The loader works on this tree rather than on `yaml`'s AST so that profile overlays and -S overrides can build
 * new trees whose every node still points at the text it came from: an error in a value a profile set is
 * reported at the profile, not at the base stage.
 */

/** Offsets into the pipeline file, end exclusive (UTF-16 code units). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export type ScalarValue = string | number | boolean | null;

export interface ScalarNode extends Range {
  readonly kind: 'scalar';
  readonly value: ScalarValue;
}

export interface MapEntry {
  readonly key: string;
  readonly keyRange: Range;
  readonly value: SourceNode;
}

export interface MapNode extends Range {
  readonly kind: 'map';
  /** in source order */
  readonly entries: ReadonlyMap<string, MapEntry>;
}

export interface SeqNode extends Range {
  readonly kind: 'seq';
  readonly items: readonly SourceNode[];
}

export type SourceNode = ScalarNode | MapNode | SeqNode;

export type PathSegment = string | number;

export type PlainValue = ScalarValue | PlainValue[] | { [key: string]: PlainValue };

export function isMapNode(node: SourceNode | undefined): node is MapNode {
  return node?.kind === 'map';
}

export function entryValue(map: MapNode, key: string): SourceNode | undefined {
  return map.entries.get(key)?.value;
}

/** The JSON value of a subtree (what ajv validates and what the engine receives). */
export function toPlain(node: SourceNode): PlainValue {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map': {
      const out: { [key: string]: PlainValue } = {};
      for (const [key, entry] of node.entries) out[key] = toPlain(entry.value);
      return out;
    }
  }
}

/** Builds a tree from a plain value, every node placed at `range` (values from the command line, schema defaults). */
export function fromPlain(value: unknown, range: Range): SourceNode {
  if (Array.isArray(value)) {
    return { kind: 'seq', start: range.start, end: range.end, items: value.map((v) => fromPlain(v, range)) };
  }
  if (value !== null && typeof value === 'object') {
    const entries = new Map<string, MapEntry>();
    for (const [key, v] of Object.entries(value)) entries.set(key, { key, keyRange: range, value: fromPlain(v, range) });
    return { kind: 'map', start: range.start, end: range.end, entries };
  }
  const scalar: ScalarValue =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  return { kind: 'scalar', start: range.start, end: range.end, value: scalar };
}

/** Where a path leads: the deepest node reached, and the map entry holding it when the last step was a map key. */
export interface Located {
  node: SourceNode;
  entry?: MapEntry;
  /** how many path segments were followed (less than the path's length when it leaves the tree) */
  depth: number;
}

/** Follows `path` from `root` as far as the tree goes. */
export function locate(root: SourceNode, path: readonly PathSegment[]): Located {
  let node = root;
  let entry: MapEntry | undefined;
  let depth = 0;
  for (const segment of path) {
    if (node.kind === 'map') {
      const next = node.entries.get(String(segment));
      if (!next) break;
      entry = next;
      node = next.value;
    } else if (node.kind === 'seq') {
      const index = typeof segment === 'number' ? segment : /^[0-9]+$/.test(segment) ? Number(segment) : -1;
      const next = node.items[index];
      if (!next) break;
      entry = undefined;
      node = next;
    } else {
      break;
    }
    depth++;
  }
  return entry ? { node, entry, depth } : { node, depth };
}

/**
 * The range to underline for a node reached through `entry`: the value, or the key when the value is empty
 * (`key:` with nothing after it has a zero-length value).
 */
export function valueRange(node: SourceNode, entry?: MapEntry): Range {
  if (node.end > node.start || !entry) return node;
  return entry.keyRange;
}
