/**
 * `run --dry-run`: what a run would do with each selected stage (skip, restore, wait, run, fail unchanged) and
 * why, as events, then the counts. Nothing is executed or written.
 */
import type { DryRunAction, EngineEvent, EventSink } from '../events.js';
import { assessAll } from '../plan/stage-status.js';

export function dryRun(
  ctx: Parameters<typeof assessAll>[0],
  statics: Parameters<typeof assessAll>[1],
  order: readonly string[],
  sink: EventSink,
  skipFailedKeys: ReadonlySet<string> | undefined,
  force?: ReadonlySet<string>,
): void {
  const statuses = assessAll(ctx, statics, order);
  const counts = { toRun: 0, toRestore: 0, fresh: 0, failedUnchanged: 0, waiting: 0 };
  for (const id of order) {
    const s = statuses.get(id);
    if (!s) continue;
    let action: DryRunAction;
    const forced = force?.has(id) === true;
    if (forced) action = s.key === null ? 'run-unless-cut-off' : 'run';
    else if (s.state === 'fresh') action = 'skip';
    else if (s.state === 'cached') action = 'restore';
    else if (s.state === 'running') action = 'wait';
    else if (s.key === null) action = 'run-unless-cut-off';
    else if (skipFailedKeys?.has(s.key)) action = 'fail';
    else action = 'run';
    if (action === 'skip') counts.fresh++;
    else if (action === 'restore') counts.toRestore++;
    else if (action === 'fail') counts.failedUnchanged++;
    else if (action === 'wait') counts.waiting++;
    else counts.toRun++;
    const event: EngineEvent = { type: 'dry-run-stage', stageId: id, state: s.key === null ? 'pending' : s.state, action, reasons: forced ? [{ type: 'forced' }, ...s.reasons] : s.reasons };
    sink(event);
  }
  sink({ type: 'dry-run-end', ...counts });
}
