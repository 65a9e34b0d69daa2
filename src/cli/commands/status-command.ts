/**
 * `wsflow status [TARGET...]`: every selected stage as fresh / stale / cached / failed / running / never-run with
 * the reasons, transitively; `--json` gives the same as data. Exit 0 when everything is fresh, 1 otherwise.
 */
import type { Pipeline } from '../../pipeline/types.js';
import { selectStages } from '../../engine/plan/select-stages.js';
import { computeAllStatic } from '../../engine/plan/static-ingredients.js';
import type { StageStatus } from '../../engine/plan/stage-status.js';
import { formatReasons } from '../../engine/plan/reasons.js';
import { openProjectForReading } from '../../engine/project.js';
import { statusData, type StatusReport } from '../../engine/api/status-report.js';
import { printPlanErrors, styleFor, type CommandEnv } from '../command-env.js';
import type { Style } from '../loggers/style.js';
import { stagesOfProfile } from '../../engine/lock/lock-file.js';
import { lockReaderFor } from '../../engine/lock/verified-lock.js';
import { assessAllWithLock } from '../../engine/lock/lock-status.js';

export interface StatusCommandOptions {
  targets: readonly string[];
  json: boolean;
  /** `--stale`: list only stages that are not fresh; counts and the exit code still cover every selected stage */
  onlyNotFresh?: boolean;
  /** called once planning succeeded (the CLI saves its pipeline load cache) */
  onPlanned?: () => void;
}

function colorState(state: StageStatus['state'], s: Style): (t: string) => string {
  switch (state) {
    case 'fresh':
      return s.green;
    case 'stale':
      return s.yellow;
    case 'cached':
      return s.cyan;
    case 'failed':
      return s.red;
    case 'running':
      return s.cyan;
    case 'never-run':
      return s.yellow;
    case 'fresh-by-lock':
      return s.cyan;
  }
}

export function renderStatus({ data, jobs }: StatusReport, s: Style): string {
  const idWidth = Math.min(48, Math.max(...data.stages.map((x) => x.id.length), 5));
  // wide enough for 'never-run'; a lock's 'fresh-by-lock' widens it only where it appears
  const stateWidth = Math.max(10, ...data.stages.map((x) => x.state.length + 2));
  const lines: string[] = [];
  for (const st of data.stages) {
    // "never-run ← never run" says nothing twice; a new matrix cell's reason and other reasons (upstream pending) stay
    const job = jobs.get(st.id);
    const reasons = job ? st.reasons.map((r) => (r.type === 'running' ? { ...r, job } : r)) : st.reasons;
    const reasonLines = formatReasons(st.state === 'never-run' ? reasons.filter((r) => r.type !== 'never-run' || r.newCell) : reasons);
    if (st.state === 'cached' && st.restorableFrom) reasonLines.push(`restorable from run #${st.restorableFrom.runId}`);
    if (st.state === 'fresh-by-lock') reasonLines.push('recorded in wsflow.lock: restorable from a remote (wsflow pull)');
    // a running stage's first reason already says where (its lease would say it twice)
    if (st.running && st.state !== 'running') {
      const where = `running now in pid ${st.running.pid} on ${st.running.host} (run #${st.running.runId})`;
      reasonLines.unshift(job ? `${where}: ${job.text}` : where);
    }
    const head = `${st.id.padEnd(idWidth)}  ${colorState(st.state, s)(st.state.padEnd(stateWidth))}`;
    if (reasonLines.length === 0) lines.push(head.trimEnd());
    reasonLines.forEach((r, i) => {
      lines.push(i === 0 ? `${head}← ${r}` : `${' '.repeat(idWidth + 2 + stateWidth)}← ${r}`);
    });
    for (const w of st.warnings) lines.push(`${' '.repeat(idWidth + 2 + stateWidth)}${s.yellow('⚠')} ${w}`);
  }
  const c = data.counts;
  const parts: string[] = [];
  if (c.stale) parts.push(`${c.stale} stale`);
  if (c['never-run']) parts.push(`${c['never-run']} never run`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.cached) parts.push(`${c.cached} restorable from cache`);
  if (c['fresh-by-lock']) parts.push(`${c['fresh-by-lock']} fresh by wsflow.lock (wsflow pull)`);
  if (c.fresh) parts.push(`${c.fresh} fresh`);
  lines.push(data.upToDate ? s.green(`Everything up to date (${c.fresh} stages)`) : parts.join(', '));
  return `${lines.join('\n')}\n`;
}

export async function statusCommand(pipeline: Pipeline, o: StatusCommandOptions, env: CommandEnv): Promise<number> {
  const selection = selectStages(pipeline, o.targets);
  if (!selection.ok) {
    env.stderr.write(`error: ${selection.error}\n`);
    return 2;
  }
  const project = openProjectForReading(pipeline, env.kindSource);
  // the assessment below follows the load at once: the load's stats of the outs stand (FileHasher.primeStats)
  project.ctx.hasher.primeStats(pipeline.outStats);
  try {
    const statics = computeAllStatic(project.ctx, selection.value.order);
    if (!statics.ok) {
      printPlanErrors(statics.error, env);
      return 2;
    }
    const lock = lockReaderFor(pipeline.projectDir, project.ctx);
    if (!lock.ok) {
      env.stderr.write(`error: ${lock.error}\n`);
      return 2;
    }
    o.onPlanned?.();
    const read = lock.value;
    const assessed = assessAllWithLock(project.ctx, statics.value, selection.value.order, () => {
      const r = read();
      return r.ok ? { ok: true, value: r.value ? stagesOfProfile(r.value, pipeline.profile) : {} } : r;
    });
    if (!assessed.ok) {
      env.stderr.write(`error: ${assessed.error}\n`);
      return 2;
    }
    const statuses = assessed.value;
    const full = await statusData(project.ctx, selection.value.order, statuses, env.executors);
    const report = o.onlyNotFresh ? { ...full, data: { ...full.data, stages: full.data.stages.filter((x) => x.state !== 'fresh') } } : full;
    env.stdout.write(o.json ? `${JSON.stringify(report.data, null, 2)}\n` : renderStatus(report, styleFor(env.stdout)));
    return report.data.upToDate ? 0 : 1;
  } finally {
    project.ctx.hasher.forgetPrimedStats();
    project.close();
  }
}
