/**
 * One matrix cell of a stage → the concrete stage: strings interpolated, `with:` validated against the kind,
 * provenance of every param recorded, out/outs/deps normalised, needs refs read (resolved later, once every
 * cell exists).
 */
import type { ResourceClass, StageKind } from '../contract/stage-kind.js';
import type { DiagnosticSink } from './diagnostics.js';
import { interpolateNode, interpolateScalar, lookupParam } from './interpolation.js';
import type { InterpolationMode, InterpolationScope, ParamRef } from './interpolation.js';
import { checkOutNameLengths } from './name-limits.js';
import { normalizeProjectPath } from './project-paths.js';
import { parseMemoryMB, parseTimeMinutes } from './resource-values.js';
import type { Cell, StageDeclaration } from './stage-declarations.js';
import { entryValue, isMapNode } from './source-tree.js';
import type { PlainValue, Range, ScalarNode, SourceNode } from './source-tree.js';
import type { ParamBinding, PlannedStage } from './types.js';
import { typeOfValue } from './validate-schema.js';
import { validateKindParams } from './validate-kind-params.js';

/** A needs ref after interpolation, before resolution to stage ids. */
export interface RawNeed {
  /** the input name for map-form needs; list form uses the referenced stage's name */
  input?: string;
  inputRange?: Range;
  ref: string;
  range: Range;
}

/** A path a stage writes or reads, with where it was written. */
export interface PathClaim {
  path: string;
  range: Range;
  /** true for a kind's default out (no `out:` written): messages say so */
  implicit?: boolean;
  /** a kind's out moved under the profile's out root: the path it has without a profile */
  unprofiled?: string;
}

/** Why one stage depends on another (for cycle notes). */
export interface EdgeOrigin {
  range: Range;
  /** "a needs b" or "a reads data/x, which b writes" */
  describe: string;
}

export interface StagePlan {
  declaration: StageDeclaration;
  cell: Cell;
  kind?: StageKind;
  /** the planned stage; `needs` and `deps` are filled by later phases */
  stage: PlannedStage;
  rawNeeds: RawNeed[];
  /** range of the `needs:` key, for "missing input" errors */
  needsKeyRange?: Range;
  outs: PathClaim[];
  deps: PathClaim[];
  /** upstream id → why */
  edges: Map<string, EdgeOrigin>;
  /** input name → upstream ids, in order */
  needs: Map<string, string[]>;
}

export interface PlanContext {
  params: PlainValue;
  allAxes: ReadonlySet<string>;
  usedParams: Set<string>;
  kinds: ReadonlyMap<string, { kind: StageKind; modulePath?: string }>;
  sink: DiagnosticSink;
  /** where a kind stage's out/ paths go: 'out', or 'out/<profile>' so that profiles never share results */
  outRoot: string;
}

/** A kind's out path under out/ moved to the profile's out root; any other path stays as written. */
function claimUnder(path: string, outRoot: string, claim: Omit<PathClaim, 'path'>): PathClaim {
  const moved = outRoot === 'out' ? path : path === 'out' ? outRoot : path.startsWith('out/') ? `${outRoot}/${path.slice('out/'.length)}` : path;
  return moved === path ? { path, ...claim } : { path: moved, ...claim, unprofiled: path };
}

/** `resources:` as the planned stage carries them; a mem or time value that is no usable limit is reported at it. */
function readResources(node: SourceNode | undefined, fallback: ResourceClass, sink: DiagnosticSink): PlannedStage['resources'] {
  const resources: PlannedStage['resources'] = { class: fallback };
  if (!isMapNode(node)) return resources;
  const get = (key: string): ScalarNode | undefined => {
    const value = entryValue(node, key);
    return value?.kind === 'scalar' ? value : undefined;
  };
  const scalar = (key: string): PlainValue | undefined => get(key)?.value;
  const cls = scalar('class');
  if (cls === 'accel' || cls === 'cpu') resources.class = cls;
  const cpus = scalar('cpus');
  if (typeof cpus === 'number') resources.cpus = cpus;
  const gpus = scalar('gpus');
  if (typeof gpus === 'number') resources.gpus = gpus;
  const mem = get('mem');
  if (mem) {
    const parsed = parseMemoryMB(mem.value);
    if (parsed.ok) resources.memMB = parsed.value;
    else sink.error(`resources.mem ${parsed.error}`, mem);
  }
  const time = get('time');
  if (time) {
    const parsed = parseTimeMinutes(time.value);
    if (parsed.ok) resources.timeMin = parsed.value;
    else sink.error(`resources.time ${parsed.error}`, time);
  }
  return resources;
}

/** Interpolates a scalar that must end up a string (a path, a needs ref, a command). */
function interpolateText(
  node: SourceNode,
  what: string,
  scope: InterpolationScope,
  sink: DiagnosticSink,
  refs: ParamRef[],
  mode: InterpolationMode = 'value',
): string | undefined {
  if (node.kind !== 'scalar') return undefined;
  const result = interpolateScalar(node, scope, sink, [], mode);
  if (!result) return undefined;
  refs.push(...result.refs);
  const value = result.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  sink.error(`${what} must be a string, but ${String(node.value)} is ${typeOfValue(value)}`, node);
  return undefined;
}

/** Provenance of each top-level `with:` key: the params its value was interpolated from. */
function kindBindings(params: Record<string, PlainValue>, refs: readonly ParamRef[]): ParamBinding[] {
  return Object.entries(params).map(([key, value]) => {
    const sources: string[] = [];
    for (const ref of refs) if (ref.path[0] === key && !sources.includes(ref.param)) sources.push(ref.param);
    const binding: ParamBinding = { key, value };
    if (sources.length > 0) binding.from = sources.join(', ');
    return binding;
  });
}

function readNeeds(node: SourceNode | undefined, scope: InterpolationScope, sink: DiagnosticSink): RawNeed[] {
  const needs: RawNeed[] = [];
  const refs: ParamRef[] = [];
  const add = (item: SourceNode, input?: string, inputRange?: Range): void => {
    const ref = interpolateText(item, 'a needs ref', scope, sink, refs);
    if (ref === undefined) return;
    const need: RawNeed = { ref: ref.trim(), range: item };
    if (input !== undefined) need.input = input;
    if (inputRange !== undefined) need.inputRange = inputRange;
    needs.push(need);
  };
  if (node?.kind === 'seq') for (const item of node.items) add(item);
  if (node?.kind === 'map') {
    for (const [input, entry] of node.entries) {
      if (entry.value.kind === 'seq') for (const item of entry.value.items) add(item, input, entry.keyRange);
      else add(entry.value, input, entry.keyRange);
    }
  }
  return needs;
}

function readPathList(
  node: SourceNode | undefined,
  what: 'deps' | 'outs',
  scope: InterpolationScope,
  sink: DiagnosticSink,
  refs: ParamRef[],
): PathClaim[] {
  const claims: PathClaim[] = [];
  if (node?.kind !== 'seq') return claims;
  for (const item of node.items) {
    const raw = interpolateText(item, `an entry of ${what}`, scope, sink, refs);
    if (raw === undefined) continue;
    const normalized = normalizeProjectPath(raw, what === 'deps');
    if (!normalized.ok) {
      sink.error(`${what} entry "${raw}" ${normalized.error}`, item);
      continue;
    }
    claims.push({ path: normalized.value, range: item });
  }
  return claims;
}

/** Plans one cell; undefined when it has errors (reported). */
export function planCell(declaration: StageDeclaration, cell: Cell, context: PlanContext): StagePlan | undefined {
  const { sink } = context;
  const node = declaration.node;
  const scope: InterpolationScope = {
    params: context.params,
    matrix: cell.matrix,
    allAxes: context.allAxes,
    stageName: declaration.name,
    usedParams: context.usedParams,
  };
  const before = sink.errorCount;
  const needsEntry = node.entries.get('needs');
  const rawNeeds = readNeeds(needsEntry?.value, scope, sink);
  const description = entryValue(node, 'description');

  const stage: PlannedStage = {
    id: cell.id,
    name: declaration.name,
    matrix: cell.matrix,
    source: { type: 'cmd', cmd: '' },
    params: {},
    paramBindings: [],
    needs: {},
    deps: [],
    outs: [],
    outDir: '',
    resources: { class: 'cpu' },
    span: sink.source.span(declaration.keyRange),
  };
  if (description?.kind === 'scalar' && typeof description.value === 'string') stage.description = description.value;
  const plan: StagePlan = { declaration, cell, stage, rawNeeds, outs: [], deps: [], edges: new Map(), needs: new Map() };
  if (needsEntry) plan.needsKeyRange = needsEntry.keyRange;

  if (declaration.uses) {
    const resolved = context.kinds.get(declaration.uses.value);
    if (!resolved) return undefined; // reported when the kind was resolved
    const { kind, modulePath } = resolved;
    plan.kind = kind;
    stage.source = modulePath === undefined ? { type: 'kind', uses: declaration.uses.value } : { type: 'kind', uses: declaration.uses.value, modulePath };
    stage.resources = readResources(entryValue(node, 'resources'), kind.resources, sink);

    const withEntry = node.entries.get('with');
    const withNode = withEntry?.value;
    const interpolated = withNode ? interpolateNode(withNode, scope, sink) : { value: {}, refs: [] };
    if (interpolated) {
      const params = validateKindParams(
        kind,
        interpolated.value,
        {
          stageName: declaration.name,
          withNode,
          withKeyRange: withEntry?.keyRange,
          stageRange: declaration.keyRange,
          usesRange: declaration.uses.range,
        },
        sink,
      );
      if (params) {
        stage.params = params;
        stage.paramBindings = kindBindings(params, interpolated.refs);
      }
    }

    const outNode = entryValue(node, 'out');
    const refs: ParamRef[] = [];
    if (outNode) {
      const raw = interpolateText(outNode, 'out', scope, sink, refs);
      if (raw !== undefined) {
        const normalized = normalizeProjectPath(raw, false);
        if (normalized.ok) plan.outs.push(claimUnder(normalized.value, context.outRoot, { range: outNode }));
        else sink.error(`out "${raw}" ${normalized.error}`, outNode);
      }
    } else {
      const values = declaration.axes.map((axis) => String(cell.matrix[axis]));
      plan.outs.push(claimUnder(['out', declaration.name, ...values].join('/'), context.outRoot, { range: declaration.keyRange, implicit: true }));
    }
    stage.outDir = plan.outs[0]?.path ?? '';
    stage.outs = stage.outDir === '' ? [] : [stage.outDir];
  } else if (declaration.cmd) {
    stage.resources = readResources(entryValue(node, 'resources'), 'cpu', sink);
    const refs: ParamRef[] = [];
    // values are quoted for the shell (`${raw:…}` splices text as it is); the quoted text is what the key hashes
    const cmd = interpolateText(declaration.cmd, 'cmd', scope, sink, refs, 'shell');
    if (cmd !== undefined) stage.source = { type: 'cmd', cmd };
    plan.deps = readPathList(entryValue(node, 'deps'), 'deps', scope, sink, refs);
    plan.outs = readPathList(entryValue(node, 'outs'), 'outs', scope, sink, refs);
    stage.outs = plan.outs.map((claim) => claim.path);

    // declared params first, then those the command interpolates without declaring them
    const keys: string[] = [];
    const paramsNode = entryValue(node, 'params');
    if (paramsNode?.kind === 'seq') {
      for (const item of paramsNode.items) {
        if (item.kind !== 'scalar') continue;
        const key = String(item.value);
        const found = lookupParam(context.params, key.split('.'));
        if (!found.ok) {
          sink.error(`stage "${declaration.name}" params: ${found.error}`, item);
          continue;
        }
        context.usedParams.add(key);
        if (!keys.includes(key)) keys.push(key);
      }
    }
    // a reference inside a declared subtree (params: [train], ${params.train.lr}) is already covered by it
    const covered = (key: string): boolean => keys.some((k) => key === k || key.startsWith(`${k}.`));
    for (const ref of refs) if (!covered(ref.param)) keys.push(ref.param);
    const params: Record<string, unknown> = {};
    const bindings: ParamBinding[] = [];
    for (const key of keys) {
      const found = lookupParam(context.params, key.split('.'));
      if (!found.ok) continue;
      params[key] = found.value;
      bindings.push({ key, value: found.value, from: key });
    }
    stage.params = params;
    stage.paramBindings = bindings;
  }
  checkOutNameLengths(cell.id, plan.outs, sink);
  return sink.errorCount > before ? undefined : plan;
}
