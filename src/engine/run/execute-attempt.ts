/**
 * One execution of a stage: its execution row and log, a staging directory, the executor's run with its events
 * relayed (progress, log lines, metrics, annotations), then the commit or the recorded failure.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { StageStatus } from '../plan/stage-status.js';
import type { StageFailure } from '../events.js';
import type { StageRunEvent, StageRunOutcome } from '../exec/stage-spec.js';
import { HOST } from '../util/process-util.js';
import { CorruptObjectError, removeTree } from '../cas/cache-store.js';
import { describeFault } from '../util/faults.js';
import { fmtMs } from '../util/format-time.js';
import type { MetricRow } from '../state/state-store.js';
import { commitOutput, OutputMissingError, prepareCmdOuts, removePartialOuts } from './commit-output.js';
import { err } from '../../contract/result.js';
import { describeFailure, type Failure } from '../../contract/failure.js';
import { inputsOf } from './stage-inputs.js';
import { StageLog } from './stage-log.js';
import type { Done, RunScope, ScheduledNode } from './run-types.js';

/** One attempt that failed, before the scheduler decides whether to retry it. */
export type AttemptFailed = StageFailure & { key: string };

export type AttemptResult = Done | { outcome: 'interrupted' } | { outcome: 'failed'; failure: AttemptFailed };

export async function executeAttempt(scope: RunScope, n: ScheduledNode, status: StageStatus, retry?: { n: number; of: number }): Promise<AttemptResult> {
  const { store, cache, pipeline } = scope.ctx;
  const key = status.key;
  if (!key) throw new Error(`no key for ${n.id}`);
  const st = n.st;
  const started = Date.now();
  const executionId = store.insertExecution({
    runId: scope.runId,
    stageId: n.id,
    key,
    kind: st.source.type === 'kind' ? st.source.name : 'cmd',
    kindVersion: st.source.type === 'kind' ? st.source.version : null,
    kindFingerprint: st.kindFingerprint,
    ingredients: status.ingredients,
    host: HOST,
    pid: process.pid,
    executor: scope.opts.executor.name,
    now: started,
    logPath: null,
    forced: status.reasons.some((r) => r.type === 'forced'),
  });
  const logPath = join(cache.logsDir, `${executionId}.log`);
  store.setLogPath(executionId, logPath);
  const log = new StageLog(logPath);
  log.line(`# wsflow: stage ${n.id}, execution #${executionId}, run #${scope.runId}, key ${key}`);
  log.line(`# started ${new Date(started).toISOString()} on ${HOST}`);
  if (status.reasons.some((r) => r.type === 'forced')) log.line('# forced (run --force): run although its result was fresh or cached');
  scope.emit({
    type: 'stage-start',
    stageId: n.id,
    executionId,
    resource: n.stage.resources.class,
    reasons: status.reasons,
    ...(retry ? { retry } : {}),
  });

  const staging = cache.newStagingDir(n.id);
  const outDir = join(staging, 'out');
  mkdirSync(outDir);
  const annotations: Record<string, string | number | boolean> = {};
  const metrics: MetricRow[] = [];
  const flushMetrics = (): void => {
    if (metrics.length) store.insertMetrics(metrics.splice(0));
  };
  const metricTimer = setInterval(flushMetrics, 1_000);
  metricTimer.unref();
  const onEvent = (e: StageRunEvent): void => {
    switch (e.type) {
      case 'progress':
        scope.emit({ type: 'stage-progress', stageId: n.id, update: e.update });
        break;
      case 'log':
        log.line(e.message);
        scope.emit({ type: 'stage-log', stageId: n.id, message: e.message });
        break;
      case 'output':
        log.text(e.text);
        break;
      case 'metric':
        metrics.push({
          execution_id: executionId,
          stage_id: n.id,
          name: e.name,
          step: e.step ?? null,
          value: e.value,
          recorded_at: Date.now(),
        });
        break;
      case 'annotate':
        annotations[e.key] = e.value;
        scope.emit({ type: 'stage-annotate', stageId: n.id, key: e.key, value: e.value });
        break;
    }
  };

  let outcome: StageRunOutcome;
  try {
    const inputs = inputsOf(scope, n);
    if (st.source.type === 'cmd') prepareCmdOuts(pipeline.projectDir, n.stage.outs);
    outcome = await scope.opts.executor.execute({
      spec: {
        stageId: n.id,
        runId: scope.runId,
        executionId,
        key,
        matrix: n.stage.matrix,
        source:
          st.source.type === 'cmd'
            ? { type: 'cmd', cmd: st.source.cmd }
            : {
                type: 'kind',
                name: st.source.name,
                ...(st.resolved?.modulePath ? { modulePath: st.resolved.modulePath } : {}),
                ...(scope.ctx.builtinRegistryModule ? { registryModule: scope.ctx.builtinRegistryModule } : {}),
              },
        params: n.stage.params,
        inputs,
        outDir,
        projectDir: pipeline.projectDir,
        ...(pipeline.origin ? { run: pipeline.origin } : {}),
      },
      resources: n.stage.resources,
      onEvent,
      signal: scope.opts.signal,
    });
  } catch (e) {
    outcome = err(
      e instanceof CorruptObjectError
        ? { reason: 'input-corrupt', message: `input ${e.message}, and the project holds no intact copy: evicted it; run again to rebuild it` }
        : faultOr(e, 'executor-error'),
    );
  } finally {
    clearInterval(metricTimer);
  }
  flushMetrics();
  const backend = annotations.backend === undefined ? null : String(annotations.backend);

  if (outcome.ok) {
    try {
      const committed = commitOutput(scope, n, { executionId, outDir, started, backend, annotations });
      log.line(`# succeeded in ${fmtMs(committed.durationMs)}; output ${committed.hash}`);
      log.close();
      removeTree(staging);
      return { outcome: 'executed', outputHash: committed.hash, executionId };
    } catch (e) {
      outcome = err(e instanceof OutputMissingError ? { reason: 'output-missing', message: e.message } : faultOr(e, 'commit-failed'));
    }
  }
  removeTree(staging);
  // a failed command's outs are partial (its outs were cleared before it ran): removing them also gives back
  // the space a command that filled the disk took, so that recording the failure and the next run can proceed
  if (st.source.type === 'cmd') removePartialOuts(pipeline.projectDir, n.stage.outs);
  const ended = Date.now();
  const failure = outcome.error;
  const interrupted = failure.reason === 'interrupted';
  store.endExecution(executionId, interrupted ? 'interrupted' : 'failed', {
    error: describeFailure(failure),
    now: ended,
    durationMs: ended - started,
    backend,
    annotations,
  });
  log.line(`# ${interrupted ? 'interrupted' : 'failed'} after ${fmtMs(ended - started)}: ${describeFailure(failure)}`);
  log.close();
  if (interrupted) {
    scope.counts.interrupted++;
    scope.emit({ type: 'stage-interrupted', stageId: n.id, executionId });
    return { outcome: 'interrupted' };
  }
  return {
    outcome: 'failed',
    failure: { stageId: n.id, executionId, durationMs: ended - started, failure, logPath, logTail: log.tail(), key },
  };
}

/** A fault of the machine as such; anything else thrown as the given reason, with its message. */
function faultOr(e: unknown, reason: 'executor-error' | 'commit-failed'): Failure {
  const fault = describeFault(e);
  return fault !== undefined ? { reason: 'fault', message: fault } : { reason, message: e instanceof Error ? e.message : String(e) };
}
