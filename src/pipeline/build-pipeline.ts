/**
 * The full load: YAML → schema → profile → -S → stages and cells → kinds → interpolation and `with:` validation →
 * needs → paths → order. Each phase reports everything it finds; a phase whose input has errors is not run, so one
 * mistake does not cascade into a page of consequences.
 *
 * This module pulls in `yaml` and ajv; load-pipeline.ts imports it only when its cache cannot answer.
 */
import { createHash } from 'node:crypto';
import type { StageKind } from '../contract/stage-kind.js';
import type { DiagnosticSink } from './diagnostics.js';
import type { KindResolver, ResolvedKind } from './kind-resolver.js';
import { applyOverrides, applyProfile } from './overlays.js';
import { paramChanges } from './param-changes.js';
import { checkParamPaths } from './param-paths.js';
import { parseYaml } from './parse-yaml.js';
import { planCell } from './plan-stages.js';
import type { StagePlan } from './plan-stages.js';
import { linkPaths } from './project-paths.js';
import { checkKindInputs, resolveNeeds } from './resolve-needs.js';
import { declareStages, readMatrix } from './stage-declarations.js';
import type { StageDeclaration } from './stage-declarations.js';
import { entryValue, isMapNode, toPlain } from './source-tree.js';
import type { MapNode, PlainValue, SourceNode } from './source-tree.js';
import { topologicalOrder } from './topological-order.js';
import type { Diagnostic, ExecutorSettings, Pipeline, PlannedStage } from './types.js';
import { err, type Result } from '../contract/result.js';
import { validateAgainstSchema } from './validate-schema.js';

export interface BuildInput {
  /** the file as the caller named it (diagnostics show this) */
  file: string;
  absoluteFile: string;
  projectDir: string;
  text: string;
  profile: string | null;
  overrides: readonly string[];
  resolveKind: KindResolver;
}

export interface Built {
  pipeline: Pipeline;
  /** every kind used, with its module path, keyed by `uses:` */
  resolvedKinds: ReadonlyMap<string, ResolvedKind>;
}

function failed(sink: DiagnosticSink): Result<never, Diagnostic[]> {
  return err(sink.sortedErrors());
}

export async function buildPipeline(input: BuildInput): Promise<Result<Built, Diagnostic[]>> {
  const { sink, root } = parseYaml(input.file, input.text);
  if (sink.hasErrors) return failed(sink);
  if (!validateAgainstSchema(root, sink) || !isMapNode(root)) return failed(sink);
  const declaredParams = entryValue(root, 'params');
  if (declaredParams) checkParamPaths(declaredParams, sink);
  if (sink.hasErrors) return failed(sink);

  const profiled = applyProfile(root, input.profile, sink);
  if (!profiled) return failed(sink);
  const parts = applyOverrides(root, profiled, input.overrides, sink);
  if (!parts) return failed(sink);

  const matrix = readMatrix(parts.matrix);
  const declarations = declareStages(parts.stages, matrix, sink);
  const resolvedKinds = await resolveKinds(declarations, input, sink);
  if (sink.hasErrors) return failed(sink);

  const params: PlainValue = parts.params ? toPlain(parts.params) : {};
  // profiles are namespaces: a profile's kind stages materialise under out/<profile>/ (DESIGN.md "Profiles")
  const outRoot = input.profile === null ? 'out' : `out/${input.profile}`;
  const context = { params, allAxes: new Set(matrix.keys()), usedParams: new Set<string>(), kinds: resolvedKinds, sink, outRoot };
  const plans: StagePlan[] = [];
  for (const declaration of declarations) {
    for (const cell of declaration.cells) {
      const plan = planCell(declaration, cell, context);
      if (plan) plans.push(plan);
    }
  }
  if (sink.hasErrors) return failed(sink);

  const byName = new Map(declarations.map((d) => [d.name, d]));
  resolveNeeds(plans, byName, sink);
  if (sink.hasErrors) return failed(sink);
  checkKindInputs(plans, sink);
  linkPaths(plans, sink);
  if (sink.hasErrors) return failed(sink);

  const byId = new Map(plans.map((p) => [p.stage.id, p]));
  const ids = plans.map((p) => p.stage.id);
  const ordered = topologicalOrder(ids, (id) => [...(byId.get(id)?.edges.keys() ?? [])]);
  if (!ordered.ok) {
    reportCycle(ordered.error, byId, sink);
    return failed(sink);
  }

  warnUnused(parts.params, context.usedParams, parts.matrix, declarations, sink);

  const stages = new Map<string, PlannedStage>();
  for (const plan of plans) {
    plan.stage.needs = Object.fromEntries(plan.needs);
    stages.set(plan.stage.id, plan.stage);
  }
  const kinds = new Map<string, StageKind>();
  for (const [uses, resolved] of resolvedKinds) kinds.set(uses, resolved.kind);
  const pipeline: Pipeline = {
    file: input.absoluteFile,
    projectDir: input.projectDir,
    profile: input.profile,
    params: params as Record<string, unknown>,
    origin: {
      profile: input.profile,
      overrides: [...input.overrides],
      pipelineSha256: createHash('sha256').update(input.text).digest('hex'),
      paramChanges: paramChanges(declaredParams ? toPlain(declaredParams) : {}, params),
    },
    stages,
    order: ordered.value,
    kinds,
    warnings: sink.sortedWarnings(),
  };
  const executors = readExecutors(entryValue(root, 'executors'));
  if (executors) pipeline.executors = executors;
  return { ok: true, value: { pipeline, resolvedKinds } };
}

/** `executors:` (already schema-checked), as written: each executor reads its own settings. */
function readExecutors(node: SourceNode | undefined): ExecutorSettings | undefined {
  return node ? (toPlain(node) as ExecutorSettings) : undefined;
}

async function resolveKinds(
  declarations: readonly StageDeclaration[],
  input: BuildInput,
  sink: DiagnosticSink,
): Promise<Map<string, ResolvedKind>> {
  const uses = new Map<string, StageDeclaration[]>();
  for (const declaration of declarations) {
    if (!declaration.uses) continue;
    const list = uses.get(declaration.uses.value) ?? [];
    list.push(declaration);
    uses.set(declaration.uses.value, list);
  }
  const resolved = new Map<string, ResolvedKind>();
  const results = await Promise.all([...uses.keys()].map(async (name) => [name, await input.resolveKind(name, input.projectDir)] as const));
  for (const [name, result] of results) {
    if (result.ok) {
      resolved.set(name, result.value);
      continue;
    }
    for (const declaration of uses.get(name) ?? []) if (declaration.uses) sink.error(result.error, declaration.uses.range);
  }
  return resolved;
}

function reportCycle(cycle: readonly string[], byId: ReadonlyMap<string, StagePlan>, sink: DiagnosticSink): void {
  const notes = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    const from = byId.get(cycle[i] ?? '');
    const edge = from?.edges.get(cycle[i + 1] ?? '');
    if (edge) notes.push({ message: edge.describe, at: edge.range });
  }
  const first = byId.get(cycle[0] ?? '');
  const path = cycle.length === 2 ? `${cycle[0] ?? ''} needs itself` : `${cycle.join(' → ')} (each needs the next)`;
  sink.error(`dependency cycle: ${path}`, first?.declaration.keyRange, notes);
}

/** Warns about params no stage reads (at the outermost unused key) and matrix axes no stage expands over. */
function warnUnused(
  params: SourceNode | undefined,
  used: ReadonlySet<string>,
  matrix: MapNode | undefined,
  declarations: readonly StageDeclaration[],
  sink: DiagnosticSink,
): void {
  const usedKeys = [...used];
  const visit = (node: SourceNode, prefix: string): void => {
    if (node.kind !== 'map') return;
    for (const [key, entry] of node.entries) {
      const full = prefix === '' ? key : `${prefix}.${key}`;
      if (usedKeys.some((u) => u === full || full.startsWith(`${u}.`))) continue;
      if (usedKeys.some((u) => u.startsWith(`${full}.`))) visit(entry.value, full);
      else sink.warning(`param "${full}" is not used by any stage`, entry.keyRange);
    }
  };
  if (params) visit(params, '');
  const axesUsed = new Set(declarations.flatMap((d) => d.axes));
  for (const [axis, entry] of matrix?.entries ?? []) {
    if (!axesUsed.has(axis)) sink.warning(`matrix axis "${axis}" is not used by any stage's foreach`, entry.keyRange);
  }
}
