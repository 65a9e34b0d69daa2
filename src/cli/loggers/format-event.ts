/**
 * One line (or a few, for failures) per engine event: the text every human-facing logger prints.
 */
import { describeFailure } from '../../contract/failure.js';
import type { EngineEvent, SkipCause } from '../../engine/events.js';
import { firstLine, formatReasons } from '../../engine/plan/reasons.js';
import { fmtMs, formatAge } from '../../engine/util/format-time.js';
import type { Style } from './style.js';

function skipText(cause: SkipCause): string {
  switch (cause.type) {
    case 'upstream-failed':
      return `not run: upstream ${cause.upstream} failed`;
    case 'stopped':
      return 'not run: run stopped';
    case 'failed-unchanged':
      return `failed earlier, nothing changed since; not retried (${cause.error})`;
  }
}

/** Lines for an event; empty when the event is not shown (progress goes to the live bar; fresh to the summary). */
export function formatEvent(e: EngineEvent, s: Style, verbose: boolean, now = Date.now()): string[] {
  switch (e.type) {
    case 'run-start':
      return verbose ? [s.dim(`run #${e.runId}: ${e.stages} stages, executor ${e.executor}, -j ${e.jobs}, --accel ${e.accel}`)] : [];
    case 'warning':
      return [`${s.yellow('⚠')} ${e.stageId ? `${e.stageId}: ` : ''}${e.message}`];
    case 'stage-fresh':
      return verbose ? [`${s.dim('·')} ${e.stageId}  ${s.dim('fresh')}`] : [];
    case 'stage-restored':
      return [
        `${s.cyan('↺')} restored ${e.stageId} from cache (run #${e.fromRunId}, ${formatAge(now - e.producedAt)}, saved ${fmtMs(e.savedMs)})`,
      ];
    case 'stage-waiting':
      return [`${s.dim('…')} waiting for ${e.stageId} (running in pid ${e.holderPid}${e.holderHost ? ` on ${e.holderHost}` : ''}, run #${e.holderRunId})`];
    case 'stage-start': {
      if (e.retry) return [`${s.bold('▶')} ${e.stageId}  ${s.dim(`retry ${e.retry.n}/${e.retry.of}`)}`];
      const lines = formatReasons(e.reasons);
      const why = lines[0] ? `  ${s.dim(`← ${lines[0]}${lines.length > 1 ? ` (+${e.reasons.length - 1})` : ''}`)}` : '';
      return [`${s.bold('▶')} ${e.stageId}${why}`];
    }
    case 'stage-progress':
      return [];
    case 'stage-log':
      return verbose ? [s.dim(`  ${e.stageId}: ${e.message}`)] : [];
    case 'stage-annotate':
      return [];
    case 'stage-succeeded': {
      const backend = e.backend ? `  ${s.dim(`[${e.backend}]`)}` : '';
      const cutoff = e.outputUnchanged ? `  ${s.dim('(output unchanged)')}` : '';
      return [`${s.green('✓')} ${e.stageId}  ${fmtMs(e.durationMs)}${backend}${cutoff}`];
    }
    case 'stage-failed': {
      const lines = [`${s.red('✗')} ${e.stageId} failed after ${fmtMs(e.durationMs)}: ${firstLine(describeFailure(e.failure))}`];
      for (const l of e.logTail) lines.push(s.dim(`    │ ${l}`));
      if (e.logPath) lines.push(s.dim(`    log: wsflow logs ${e.stageId}  (${e.logPath})`));
      return lines;
    }
    case 'stage-retry':
      return [`${s.yellow('↻')} ${e.stageId} failed after ${fmtMs(e.durationMs)}: ${firstLine(describeFailure(e.failure))}; retry ${e.retry.n}/${e.retry.of}`];
    case 'stage-interrupted':
      return [`${s.yellow('■')} ${e.stageId} interrupted`];
    case 'stage-skipped':
      return e.cause.type === 'stopped' && !verbose ? [] : [`${s.dim('○')} ${e.stageId}  ${s.dim(skipText(e.cause))}`];
    case 'dry-run-stage': {
      const head = (() => {
        switch (e.action) {
          case 'skip':
            return `${s.dim('·')} ${e.stageId}  ${s.dim('fresh, skip')}`;
          case 'restore':
            return `${s.cyan('↺')} ${e.stageId}  would restore from cache`;
          case 'run':
            return `${s.bold('▶')} ${e.stageId}  would run`;
          case 'run-unless-cut-off':
            return `${s.bold('▶')} ${e.stageId}  would run (unless its upstream output is unchanged)`;
          case 'fail':
            return `${s.red('✗')} ${e.stageId}  failed earlier, unchanged`;
          case 'wait':
            return `${s.dim('…')} ${e.stageId}  running in another run: would wait for it and use its result`;
        }
      })();
      return [head, ...formatReasons(e.reasons).map((r) => s.dim(`    ← ${r}`))];
    }
    case 'dry-run-end': {
      const parts = [`${e.toRun} would run`, `${e.toRestore} would be restored`, `${e.fresh} fresh`];
      if (e.failedUnchanged) parts.push(`${e.failedUnchanged} failed earlier`);
      if (e.waiting) parts.push(`${e.waiting} running elsewhere`);
      return [s.bold(`Dry run: ${parts.join(', ')}; nothing was executed`)];
    }
    case 'report-ready':
      return [`Report: ${e.path}`];
    case 'run-end': {
      const c = e.counts;
      const parts: string[] = [];
      if (c.executed) parts.push(`${c.executed} executed`);
      if (c.restored) parts.push(`${c.restored} restored`);
      if (c.fresh) parts.push(`${c.fresh} fresh`);
      if (c.waited) parts.push(`${c.waited} from another run`);
      if (c.retries) parts.push(s.yellow(`${c.retries} ${c.retries === 1 ? 'retry' : 'retries'}`));
      if (c.failed) parts.push(s.red(`${c.failed} failed`));
      if (c.skipped) parts.push(`${c.skipped} not run`);
      if (c.interrupted) parts.push(s.yellow(`${c.interrupted} interrupted`));
      const head =
        e.status === 'succeeded'
          ? s.green(c.executed + c.restored === 0 ? 'Everything up to date' : 'Done')
          : e.status === 'failed'
            ? s.red('Failed')
            : s.yellow('Interrupted');
      return [`${head}${e.runId !== null ? ` (run #${e.runId}` : ' ('}${e.runId !== null ? ', ' : ''}${fmtMs(e.durationMs)}): ${parts.join(', ') || 'no stages'}`];
    }
  }
}

