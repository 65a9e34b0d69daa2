/**
 * Which stages a command works on: the targets named on the command line (stage ids, stage names meaning every
 * matrix cell, or `name@*`) plus everything they need, in the pipeline's topological order. No target: all stages.
 */
import type { Pipeline } from '../../pipeline/types.js';
import { selectTargets, unknownTarget } from '../../pipeline/select-targets.js';
import { err, ok, type Result } from '../../contract/result.js';

/** The selected stages in pipeline order, and the targets as named; or why a target names nothing. */
export type Selection = Result<{ order: string[]; targets: string[] }, string>;

/** The stage ids each target names (a stage id, a name meaning all its cells, or `name@*`). */
export function resolveTargets(pipeline: Pipeline, targets: readonly string[]): Result<string[], string> {
  const ids: string[] = [];
  for (const t of targets) {
    if (pipeline.stages.has(t)) {
      ids.push(t);
      continue;
    }
    const name = t.endsWith('@*') ? t.slice(0, -2) : t;
    const cells = pipeline.order.filter((id) => pipeline.stages.get(id)?.name === name);
    if (cells.length) {
      ids.push(...cells);
      continue;
    }
    return err(unknownTarget(pipeline, t));
  }
  return ok(ids);
}

/** The targets plus everything they need, in pipeline order (the loader's target syntax, e.g. `train@lora-*`). */
export function selectStages(pipeline: Pipeline, targets: readonly string[]): Selection {
  const selected = selectTargets(pipeline, targets);
  if (!selected.ok) return selected;
  return ok({ order: selected.value, targets: [...targets] });
}
