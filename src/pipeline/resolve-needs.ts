/**
 * needs refs → stage ids, and the kind's inputs checked against them.
 *
 * `name` is a non-matrix stage, or — from a foreach stage — the cell of a matrix stage over a subset of the same
 * axes with the same values; `name@lora` (or `name@lora-*`) picks cells; `name@*` takes them all. A list-form ref's
 * input name is the referenced stage's name.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { RawNeed, StagePlan } from './plan-stages.js';
import type { StageDeclaration } from './stage-declarations.js';
import { didYouMean, listNames } from './suggest.js';

function resolveRef(
  need: RawNeed,
  plan: StagePlan,
  declarations: ReadonlyMap<string, StageDeclaration>,
  sink: DiagnosticSink,
): { target: StageDeclaration; ids: string[] } | undefined {
  const at = need.ref.indexOf('@');
  const name = at < 0 ? need.ref : need.ref.slice(0, at);
  const selector = at < 0 ? undefined : need.ref.slice(at + 1);
  const target = declarations.get(name);
  const from = plan.declaration;
  if (!target) {
    sink.error(`stage "${from.name}" needs unknown stage "${name}"${didYouMean(name, declarations.keys())}`, need.range);
    return undefined;
  }
  const cellIds = target.cells.map((c) => c.id);
  if (selector === undefined) {
    if (target.axes.length === 0) return { target, ids: [name] };
    const missing = target.axes.filter((axis) => !(axis in plan.cell.matrix));
    if (missing.length === 0) {
      const id = `${name}@${target.axes.map((axis) => String(plan.cell.matrix[axis])).join('-')}`;
      return { target, ids: [id] };
    }
    const example = cellIds[0] ?? `${name}@*`;
    sink.error(
      `"${name}" runs for each ${target.axes.join(' × ')} (${cellIds.length} cells) and stage "${from.name}" does not foreach ${missing.join(', ')}: write ${name}@* for all cells or ${example} for one`,
      need.range,
    );
    return undefined;
  }
  if (target.axes.length === 0) {
    sink.error(`"${name}" is not a foreach stage, so "${need.ref}" names no cell: write ${name}`, need.range);
    return undefined;
  }
  if (selector === '*') return { target, ids: cellIds };
  if (cellIds.includes(need.ref)) return { target, ids: [need.ref] };
  const parts = selector.split('-');
  if (selector.includes('*') && parts.length === target.axes.length) {
    const ids = target.cells
      .filter((cell) => target.axes.every((axis, i) => parts[i] === '*' || parts[i] === String(cell.matrix[axis])))
      .map((cell) => cell.id);
    if (ids.length > 0) return { target, ids };
  }
  sink.error(`stage "${name}" has no cell "${need.ref}"${didYouMean(need.ref, cellIds)}; its cells: ${listNames(cellIds, 6)}`, need.range);
  return undefined;
}

/** Resolves every plan's raw needs into `plan.needs` / `plan.edges`. */
export function resolveNeeds(
  plans: readonly StagePlan[],
  declarations: ReadonlyMap<string, StageDeclaration>,
  sink: DiagnosticSink,
): void {
  for (const plan of plans) {
    for (const need of plan.rawNeeds) {
      const resolved = resolveRef(need, plan, declarations, sink);
      if (!resolved) continue;
      const input = need.input ?? resolved.target.name;
      const ids = plan.needs.get(input) ?? [];
      for (const id of resolved.ids) {
        if (!ids.includes(id)) ids.push(id);
        if (!plan.edges.has(id)) plan.edges.set(id, { range: need.range, describe: `${plan.stage.id} needs ${id}` });
      }
      plan.needs.set(input, ids);
    }
  }
}

/** Checks needs against the kind's declared inputs: unknown names, missing required ones, several for a single. */
export function checkKindInputs(plans: readonly StagePlan[], sink: DiagnosticSink): void {
  for (const plan of plans) {
    const kind = plan.kind;
    if (!kind) continue;
    const name = plan.declaration.name;
    const inputNames = Object.keys(kind.inputs);
    const firstNeed = (input: string): RawNeed | undefined =>
      plan.rawNeeds.find((n) => (n.input ?? n.ref.split('@')[0]) === input);
    for (const [input, ids] of plan.needs) {
      const spec = kind.inputs[input];
      const need = firstNeed(input);
      const at = need?.inputRange ?? need?.range ?? plan.needsKeyRange ?? plan.declaration.keyRange;
      if (!spec) {
        const known = inputNames.length === 0 ? `kind "${kind.name}" takes no inputs` : `its inputs: ${inputNames.join(', ')}`;
        const hint =
          need?.input === undefined && inputNames.length > 0 ? `; name the input, e.g. needs: { ${inputNames[0] ?? ''}: ${input} }` : '';
        sink.error(`stage "${name}": kind "${kind.name}" has no input "${input}"${didYouMean(input, inputNames)} (${known})${hint}`, at);
        continue;
      }
      if (ids.length > 1 && spec.multiple !== true) {
        sink.error(
          `input "${input}" of kind "${kind.name}" takes one stage, but stage "${plan.stage.id}" gives it ${ids.length}: ${listNames(ids, 4)}`,
          at,
        );
      }
    }
    for (const [input, spec] of Object.entries(kind.inputs)) {
      if (spec.optional === true || plan.needs.has(input)) continue;
      sink.error(
        `stage "${name}" is missing input "${input}" of kind "${kind.name}" (${spec.description}); add it to needs:`,
        plan.needsKeyRange ?? plan.declaration.keyRange,
      );
    }
  }
}
