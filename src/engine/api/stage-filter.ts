/**
 * Which recorded stage ids a command line's stage arguments name, the way `wsflow run` reads targets
 * (pipeline/select-targets.ts) but from the ids alone, so that results of a stage since removed from pipeline.yaml
 * can still be asked for: an id, a name (all its cells), `name@*`, or a per-axis pattern such as `train@lora-*`.
 */

/** Whether one argument names the stage id. */
export function namesStage(arg: string, stageId: string): boolean {
  if (arg === stageId) return true;
  const at = stageId.indexOf('@');
  const name = at < 0 ? stageId : stageId.slice(0, at);
  const argAt = arg.indexOf('@');
  if (argAt < 0) return arg === name;
  if (arg.slice(0, argAt) !== name || at < 0) return false;
  const selector = arg.slice(argAt + 1);
  if (selector === '*') return true;
  const parts = selector.split('-');
  const values = stageId.slice(at + 1).split('-');
  return parts.length === values.length && parts.every((p, i) => p === '*' || p === values[i]);
}

/** Whether the arguments name the stage id (no arguments: every stage). */
export function matchesStageFilter(stageId: string, args: readonly string[]): boolean {
  return args.length === 0 || args.some((a) => namesStage(a, stageId));
}
