/**
 * `wsflow metrics [STAGE...] [--all] [--json]`: metrics stages recorded through ctx.metric, from the state
 * database. Default: the latest successful execution of each stage (a stage's curve summarised by its last
 * value). `--all`: every execution that recorded metrics, with the params that differ between them.
 */
import { canonicalJson } from '../keys/canonical-json.js';
import { stateDbPathOf } from '../plan/engine-context.js';
import { formatValue } from '../plan/reasons.js';
import { parseIngredients, type ExecutionRow, type MetricRow } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import { styleFor, type CommandEnv } from './command-env.js';

export interface MetricsCommandOptions {
  projectDir: string;
  stages: readonly string[];
  all: boolean;
  json: boolean;
}

export interface MetricSummary {
  name: string;
  /** value at the last step (or the last recorded value) */
  value: number;
  step: number | null;
  points: number;
  min: number;
  max: number;
}

export interface ExecutionMetrics {
  stage: string;
  executionId: number;
  runId: number;
  status: string;
  startedAt: string;
  /** params whose values differ between the listed executions of this stage (--all) */
  params: Record<string, unknown>;
  metrics: MetricSummary[];
  /** every point, for plots (--json) */
  series?: Record<string, { step: number | null; value: number }[]>;
}

function summarize(rows: readonly MetricRow[]): MetricSummary[] {
  const byName = new Map<string, MetricRow[]>();
  for (const r of rows) {
    const list = byName.get(r.name) ?? [];
    list.push(r);
    byName.set(r.name, list);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, list]) => {
      const last = list.reduce((a, b) => ((b.step ?? -Infinity) >= (a.step ?? -Infinity) ? b : a));
      const values = list.map((r) => r.value);
      return { name, value: last.value, step: last.step, points: list.length, min: Math.min(...values), max: Math.max(...values) };
    });
}

function matches(stageId: string, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  return wanted.some((w) => stageId === w || stageId.startsWith(`${w.endsWith('@*') ? w.slice(0, -2) : w}@`));
}

function flatParams(e: ExecutionRow): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const visit = (v: unknown, prefix: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) visit(x, prefix ? `${prefix}.${k}` : k);
    } else out.set(prefix, v);
  };
  visit(parseIngredients(e).params, '');
  return out;
}

export function metricsCommand(o: MetricsCommandOptions, env: CommandEnv): number {
  const state = openRecordedState(o.projectDir, { readOnly: true });
  if (!state) {
    env.stderr.write(`error: no executions recorded yet (no ${stateDbPathOf(o.projectDir)})\n`);
    return 1;
  }
  try {
    const { store } = state;
    const withMetrics = store.db
      .prepare(`SELECT DISTINCT e.* FROM executions e JOIN metrics m ON m.execution_id = e.id ORDER BY e.stage_id, e.id`)
      .all() as ExecutionRow[];
    let chosen = withMetrics.filter((e) => matches(e.stage_id, o.stages));
    if (!o.all) {
      // per stage: the execution whose result is in out/, else the latest successful one, else the latest
      const best = new Map<string, ExecutionRow>();
      const rank = (e: ExecutionRow): number => (store.getHead(e.stage_id)?.execution_id === e.id ? 2 : e.status === 'succeeded' ? 1 : 0);
      for (const e of chosen) {
        const cur = best.get(e.stage_id);
        if (!cur || rank(e) >= rank(cur)) best.set(e.stage_id, e);
      }
      chosen = [...best.values()];
    }
    const results: ExecutionMetrics[] = [];
    const byStage = new Map<string, ExecutionRow[]>();
    for (const e of chosen) byStage.set(e.stage_id, [...(byStage.get(e.stage_id) ?? []), e]);
    for (const [stage, execs] of byStage) {
      const params = execs.map(flatParams);
      const keys = new Set(params.flatMap((p) => [...p.keys()]));
      const differing = [...keys].filter((k) => new Set(params.map((p) => canonicalJson(p.get(k)))).size > 1).sort();
      execs.forEach((e, i) => {
        const rows = store.metricsOfExecution(e.id);
        const entry: ExecutionMetrics = {
          stage,
          executionId: e.id,
          runId: e.run_id,
          status: e.status,
          startedAt: new Date(e.started_at).toISOString(),
          params: Object.fromEntries(differing.map((k) => [k, params[i]?.get(k)])),
          metrics: summarize(rows),
        };
        if (o.json) {
          const series: Record<string, { step: number | null; value: number }[]> = {};
          for (const r of rows) (series[r.name] ??= []).push({ step: r.step, value: r.value });
          entry.series = series;
        }
        results.push(entry);
      });
    }
    if (o.json) {
      env.stdout.write(`${JSON.stringify({ executions: results }, null, 2)}\n`);
      return 0;
    }
    if (results.length === 0) {
      env.stdout.write(o.stages.length ? `No metrics recorded for ${o.stages.join(', ')}.\n` : 'No metrics recorded yet.\n');
      return 0;
    }
    env.stdout.write(renderMetrics(results, o.all, styleFor(env.stdout)));
    return 0;
  } finally {
    state.close();
  }
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

function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : v.toPrecision(6).replace(/\.?0+$/, '');
}
