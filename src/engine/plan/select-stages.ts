/**
 * Which stages a command works on: the targets named on the command line (stage ids, stage names meaning every
 * matrix cell, or `name@*`) plus everything they need, in the pipeline's topological order. No target: all stages.
 */
import type { Pipeline } from '../../pipeline/types.js';
import { selectTargets, unknownTarget } from '../../pipeline/select-targets.js';

export type Selection = { ok: true; order: string[]; targets: string[] } | { ok: false; error: string };

export function resolveTargets(pipeline: Pipeline, targets: readonly string[]): { ok: true; ids: string[] } | { ok: false; error: string } {
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
    return { ok: false, error: unknownTarget(pipeline, t) };
  }
  return { ok: true, ids };
}

/** The targets plus everything they need, in pipeline order (the loader's target syntax, e.g. `train@lora-*`). */
export function selectStages(pipeline: Pipeline, targets: readonly string[]): Selection {
  const selected = selectTargets(pipeline, targets);
  if (!selected.ok) return { ok: false, error: selected.error };
  return { ok: true, order: selected.value, targets: [...targets] };
}
