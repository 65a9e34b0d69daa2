/**
 * `wsflow run|status|dag TARGET...`: which stages a command line means. A target is a stage id (`eval@lora`),
 * a stage name (all its cells), `name@*`, or a per-axis pattern such as `train@lora-*`; the selection is the
 * targets and everything they need, in pipeline order.
 */
import { didYouMean } from './suggest.js';
import type { Pipeline } from './types.js';
import type { Result } from '../contract/result.js';

function matchTarget(pipeline: Pipeline, target: string): string[] {
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

/** Stage ids of the targets and all their upstreams, in `pipeline.order`; every stage when `targets` is empty. */
export function selectTargets(pipeline: Pipeline, targets: readonly string[]): Result<string[], string> {
  if (targets.length === 0) return { ok: true, value: [...pipeline.order] };
  const wanted = new Set<string>();
  const pending: string[] = [];
  for (const target of targets) {
    const ids = matchTarget(pipeline, target);
    if (ids.length === 0) {
      const names = new Set([...pipeline.stages.values()].flatMap((s) => [s.name, s.id]));
      return { ok: false, error: `unknown target "${target}"${didYouMean(target, names)}` };
    }
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
