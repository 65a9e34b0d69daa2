/**
 * `wsflow metrics [STAGE...] [--all] [--json]`: metrics stages recorded through ctx.metric, from the state
 * database. Default: the latest successful execution of each stage (a stage's curve summarised by its last
 * value). `--all`: every execution that recorded metrics, with the params that differ between them.
 */
import { formatValue } from '../../engine/plan/reasons.js';
import { metricsData, type ExecutionMetrics } from '../../engine/api/metrics-report.js';
import { styleFor, type CommandEnv } from '../command-env.js';
import { fmtNum, type UnknownStages } from './compare-commands.js';

export interface MetricsCommandOptions {
  projectDir: string;
  stages: readonly string[];
  all: boolean;
  json: boolean;
  profile?: string | null;
}

/**
 * Exit 0 with the metrics; 1 when there are none to show (before any run, or none recorded for the stages asked,
 * as `logs` of a stage that never ran); 2 for a stage argument that named no recorded execution and that the
 * pipeline does not have (an unknown target, with run's suggestion).
 */
export async function metricsCommand(o: MetricsCommandOptions, env: CommandEnv, unknown: UnknownStages): Promise<number> {
  const outcome = metricsData({ projectDir: o.projectDir, stages: o.stages, all: o.all, series: o.json, profile: o.profile ?? null });
  const lines = await unknown(outcome.type === 'done' ? outcome.unmatched : o.stages);
  if (lines.length > 0) {
    for (const l of lines) env.stderr.write(`error: ${l}\n`);
    return 2;
  }
  if (outcome.type === 'no-state') {
    env.stderr.write(`error: no executions recorded yet (no ${outcome.stateDb})\n`);
    return 1;
  }
  const results = outcome.executions;
  const found = results.length > 0 ? 0 : 1;
  if (o.json) {
    env.stdout.write(`${JSON.stringify({ executions: results }, null, 2)}\n`);
    return found;
  }
  if (results.length === 0) {
    const where = o.profile ? ` with profile ${o.profile}` : '';
    env.stdout.write(o.stages.length ? `No metrics recorded for ${o.stages.join(', ')}${where}.\n` : `No metrics recorded yet${where}.\n`);
    return found;
  }
  env.stdout.write(renderMetrics(results, o.all, styleFor(env.stdout)));
  return 0;
}

function renderMetrics(results: readonly ExecutionMetrics[], all: boolean, s: ReturnType<typeof styleFor>): string {
  const rows: string[][] = [];
  const header = all ? ['stage', 'exec', 'run', 'status', 'params', 'metric', 'value', 'step', 'points'] : ['stage', 'metric', 'value', 'step', 'points'];
  for (const r of results) {
    const params = Object.entries(r.params).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
    for (const m of r.metrics) {
      const cells = [fmtNum(m.value), m.step === null ? '' : String(m.step), String(m.points)];
      rows.push(all ? [r.stage, `#${r.executionId}`, `#${r.runId}`, r.status, params, m.name, ...cells] : [r.stage, m.name, ...cells]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${s.bold(line(header))}\n${rows.map(line).join('\n')}\n`;
}
