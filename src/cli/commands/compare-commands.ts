/**
 * Run comparison, rendered: `wsflow metrics diff [RUN_A [RUN_B]]`, `wsflow params diff [RUN_A [RUN_B]]` (default:
 * the last two runs, like `dvc metrics diff` / `dvc params diff`) and `wsflow metrics table` (methods × metrics
 * for each of the last runs, with the params that differ as columns, like `dvc exp show`). Data: engine/api/run-comparison.ts.
 */
import { formatValue } from '../../engine/plan/reasons.js';
import {
  metricsDiff,
  paramsDiff,
  runTable,
  type ComparisonError,
  type RunInfo,
  type RunTable,
} from '../../engine/api/run-comparison.js';
import type { Result } from '../../contract/result.js';
import { styleFor, type CommandEnv } from '../command-env.js';
import type { Style } from '../loggers/style.js';

export interface DiffCommandOptions {
  projectDir: string;
  runs: readonly number[];
  stages: readonly string[];
  all: boolean;
  json: boolean;
}

/** exit code of a comparison that could not be made: no state (1), runs that cannot be compared (2, usage) */
function failed(e: ComparisonError, env: CommandEnv): number {
  if (e.type === 'no-state') {
    env.stderr.write(`error: no executions recorded yet (no ${e.stateDb})\n`);
    return 1;
  }
  env.stderr.write(`error: ${e.message}\n`);
  return 2;
}

export function fmtNum(v: number | null): string {
  if (v === null) return '—';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : v.toPrecision(6).replace(/\.?0+$/, '');
}

function runLabel(r: RunInfo): string {
  const args = r.argv.join(' ');
  return `#${r.run} (${r.startedAt.slice(0, 19).replace('T', ' ')}${r.profile ? `, profile ${r.profile}` : ''}${args ? `: wsflow ${args}` : ''})`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], s: Style): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${s.bold(line(header))}\n${rows.map(line).join('\n')}${rows.length ? '\n' : ''}`;
}

function render<T>(r: Result<T, ComparisonError>, o: { json: boolean }, env: CommandEnv, text: (v: T, s: Style) => string): number {
  if (!r.ok) return failed(r.error, env);
  env.stdout.write(o.json ? `${JSON.stringify(r.value, null, 2)}\n` : text(r.value, styleFor(env.stdout)));
  return 0;
}

export function metricsDiffCommand(o: DiffCommandOptions, env: CommandEnv): number {
  return render(metricsDiff(o), o, env, (d, s) => {
    const head = `Metrics of run ${runLabel(d.a)} → run ${runLabel(d.b)}\n`;
    if (d.metrics.length === 0) return `${head}No metric changed.\n`;
    const rows = d.metrics.map((m) => [m.stage, m.metric, fmtNum(m.a), fmtNum(m.b), m.change === null ? '' : `${m.change >= 0 ? '+' : ''}${fmtNum(m.change)}`]);
    return head + table(['stage', 'metric', `#${d.a.run}`, `#${d.b.run}`, 'change'], rows, s);
  });
}

export function paramsDiffCommand(o: DiffCommandOptions, env: CommandEnv): number {
  return render(paramsDiff(o), o, env, (d, s) => {
    const head = `Params of run ${runLabel(d.a)} → run ${runLabel(d.b)}\n`;
    if (d.params.length === 0) return `${head}No param changed.\n`;
    return head + table(['param', `#${d.a.run}`, `#${d.b.run}`], d.params.map((p) => [p.param, formatValue(p.a), formatValue(p.b)]), s);
  });
}

export interface TableCommandOptions {
  projectDir: string;
  stages: readonly string[];
  last: number;
  json: boolean;
}

export function metricsTableCommand(o: TableCommandOptions, env: CommandEnv): number {
  return render(runTable(o), o, env, renderTable);
}

/** One table per stage name (eval, train, …): their metrics differ, and one wide table of all would be mostly blank. */
function renderTable(t: RunTable, s: Style): string {
  if (t.rows.length === 0) return 'No metrics recorded yet.\n';
  const groups = new Map<string, typeof t.rows>();
  for (const r of t.rows) {
    const name = r.method.split('@')[0] ?? r.method;
    groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  const parts: string[] = [];
  for (const [name, rows] of groups) {
    const metrics = t.metrics.filter((m) => rows.some((r) => m in r.metrics));
    const header = ['run', 'method', ...t.params, ...metrics];
    const cells = rows.map((r) => [
      `#${r.run}`,
      r.method,
      ...t.params.map((p) => formatValue(r.params[p])),
      ...metrics.map((m) => fmtNum(r.metrics[m] ?? null)),
    ]);
    parts.push(`${s.bold(name)}\n${table(header, cells, s)}`);
  }
  const runs = t.runs.map(runLabel).join('\n  ');
  return `Runs\n  ${runs}\n\n${parts.join('\n')}`;
}
