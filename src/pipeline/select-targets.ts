/**
 * `wsflow run|status|dag TARGET...`: which stages a command line means. A target is a stage id (`eval@lora`),
 * a stage name (all its cells), `name@*`, or a per-axis pattern such as `train@lora-*`; the selection is the
 * targets and everything they need, in pipeline order.
 */
import { closestMatch, listNames } from './suggest.js';
import type { Pipeline } from './types.js';
import type { Result } from '../contract/result.js';

/** The stage ids one target names, without what they need ([] when none). */
export function matchTarget(pipeline: Pipeline, target: string): string[] {
  if (pipeline.stages.has(target)) return [target];
  const at = target.indexOf('@');
  const name = at < 0 ? target : target.slice(0, at);
  const selector = at < 0 ? '*' : target.slice(at + 1);
  const parts = selector.split('-');
  const matches: string[] = [];
  for (const stage of pipeline.stages.values()) {
    if (stage.name !== name) continue;
    const values = Object.values(stage.matrix).map(String);
    if (selector === '*' || (parts.length === values.length && parts.every((p, i) => p === '*' || p === values[i]))) {
      matches.push(stage.id);
    }
  }
  return matches;
}

/**
 * `unknown target "eval@lora"`, then what the user most likely meant: a close id or name; a pattern when the
 * cell values they gave match some cells of that stage in another position or with other axes around them
 * (`eval@lora` in a pipeline whose eval cells are `eval@honesty-lora-0`); else the stage names and an example id.
 */
export function unknownTarget(pipeline: Pipeline, target: string): string {
  const head = `unknown target "${target}"`;
  const stages = [...pipeline.stages.values()];
  const close = closestMatch(target, new Set(stages.flatMap((s) => [s.name, s.id])));
  if (close !== undefined) return `${head} (did you mean "${close}"?)`;
  const at = target.indexOf('@');
  const name = at < 0 ? target : target.slice(0, at);
  const cells = stages.filter((s) => s.name === name);
  if (at >= 0 && cells.length > 0) {
    const given = target.slice(at + 1).split('-').filter((p) => p !== '' && p !== '*');
    const axes = Object.keys(cells[0]?.matrix ?? {});
    const hits = cells.filter((s) => given.every((g) => Object.values(s.matrix).map(String).includes(g)));
    const first = hits[0];
    if (first && given.length > 0) {
      const pattern = `${name}@${axes.map((a) => (given.includes(String(first.matrix[a])) ? String(first.matrix[a]) : '*')).join('-')}`;
      return `${head}: ${name}'s cells are ${axes.join('-')} (e.g. ${first.id}); did you mean "${pattern}" (${hits.length} stage${hits.length === 1 ? '' : 's'})?`;
    }
    return `${head}: ${name}'s cells are ${name}@${axes.join('-')}, e.g. ${cells[0]?.id ?? ''}`;
  }
  const names = [...new Set(stages.map((s) => s.name))];
  const example = stages.find((s) => Object.keys(s.matrix).length > 0)?.id;
  return `${head}: stages are ${listNames(names, 12)}${example ? ` (a name means all its cells; one cell is e.g. ${example}, a pattern ${example.split('@')[0] ?? ''}@*)` : ''}`;
}

/** Stage ids of the targets and all their upstreams, in `pipeline.order`; every stage when `targets` is empty. */
export function selectTargets(pipeline: Pipeline, targets: readonly string[]): Result<string[], string> {
  if (targets.length === 0) return { ok: true, value: [...pipeline.order] };
  const wanted = new Set<string>();
  const pending: string[] = [];
  for (const target of targets) {
    const ids = matchTarget(pipeline, target);
    if (ids.length === 0) return { ok: false, error: unknownTarget(pipeline, target) };
    pending.push(...ids);
  }
  while (pending.length > 0) {
    const id = pending.pop() as string;
    if (wanted.has(id)) continue;
    wanted.add(id);
    const stage = pipeline.stages.get(id);
    for (const ups of Object.values(stage?.needs ?? {})) pending.push(...ups);
  }
  return { ok: true, value: pipeline.order.filter((id) => wanted.has(id)) };
}
