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

/** Says which stage arguments the pipeline has no stage for (their "unknown target" lines): cli/unknown-names.ts. */
export type UnknownStages = (args: readonly string[]) => Promise<string[]>;

export interface DiffCommandOptions {
  projectDir: string;
  /** the current profile: its last two runs are the default pair */
  profile: string | null;
  runs: readonly number[];
  stages: readonly string[];
  all: boolean;
  json: boolean;
}

/**
 * Exit code of a comparison that could not be made: no state (1), runs that cannot be compared (2, usage), or
 * null. A stage argument that named nothing the runs had and that the pipeline does not have either is an unknown
 * target (2), said first: also when there are no runs to compare.
 */
async function failed<T>(r: Result<T & { unmatched: string[] }, ComparisonError>, args: readonly string[], env: CommandEnv, unknown: UnknownStages): Promise<number | null> {
  const lines = await unknown(r.ok ? r.value.unmatched : args);
  if (lines.length > 0) {
    for (const l of lines) env.stderr.write(`error: ${l}\n`);
    return 2;
  }
  if (r.ok) return null;
  const e = r.error;
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

/** Two runs named from two profiles: said once, above the comparison, as it was asked for but is easy to misread. */
function acrossProfiles(a: RunInfo, b: RunInfo, s: Style): string {
  if (a.profile === b.profile) return '';
  const name = (p: string | null): string => (p === null ? 'no profile' : `profile ${p}`);
  return `${s.yellow('note:')} run #${a.run} has ${name(a.profile)}, run #${b.run} ${name(b.profile)}: results of different profiles\n`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], s: Style): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${s.bold(line(header))}\n${rows.map(line).join('\n')}${rows.length ? '\n' : ''}`;
}

async function render<T extends { unmatched: string[] }>(
  r: Result<T, ComparisonError>,
  /** empty: whether the answer has nothing to show (exit 1, as README's exit codes say) */
  o: { json: boolean; stages: readonly string[]; empty?: (v: T) => boolean },
  env: CommandEnv,
  unknown: UnknownStages,
  text: (v: T, s: Style) => string,
): Promise<number> {
  const code = await failed(r, o.stages, env, unknown);
  if (code !== null || !r.ok) return code ?? 1;
  const { unmatched: _unmatched, ...shown } = r.value;
  env.stdout.write(o.json ? `${JSON.stringify(shown, null, 2)}\n` : text(r.value, styleFor(env.stdout)));
  return o.empty?.(r.value) ? 1 : 0;
}

export function metricsDiffCommand(o: DiffCommandOptions, env: CommandEnv, unknown: UnknownStages): Promise<number> {
  return render(metricsDiff(o), o, env, unknown, (d, s) => {
    const head = `${acrossProfiles(d.a, d.b, s)}Metrics of run ${runLabel(d.a)} → run ${runLabel(d.b)}\n`;
    if (d.metrics.length === 0) return `${head}No metric changed.\n`;
    const rows = d.metrics.map((m) => [m.stage, m.metric, fmtNum(m.a), fmtNum(m.b), m.change === null ? '' : `${m.change >= 0 ? '+' : ''}${fmtNum(m.change)}`]);
    return head + table(['stage', 'metric', `#${d.a.run}`, `#${d.b.run}`, 'change'], rows, s);
  });
}

export function paramsDiffCommand(o: DiffCommandOptions, env: CommandEnv): Promise<number> {
  // params diff takes no stage arguments
  const r = paramsDiff(o);
  const withArgs = r.ok ? { ok: true as const, value: { ...r.value, unmatched: [] } } : r;
  return render(withArgs, o, env, () => Promise.resolve([]), (d, s) => {
    const head = `${acrossProfiles(d.a, d.b, s)}Params of run ${runLabel(d.a)} → run ${runLabel(d.b)}\n`;
    if (d.params.length === 0) return `${head}No param changed.\n`;
    return head + table(['param', `#${d.a.run}`, `#${d.b.run}`], d.params.map((p) => [p.param, formatValue(p.a), formatValue(p.b)]), s);
  });
}

export interface TableCommandOptions {
  projectDir: string;
  /** whose runs: the current profile's */
  profile: string | null;
  stages: readonly string[];
  last: number;
  json: boolean;
}

export function metricsTableCommand(o: TableCommandOptions, env: CommandEnv, unknown: UnknownStages): Promise<number> {
  return render(runTable(o), { ...o, empty: (t) => t.rows.length === 0 }, env, unknown, renderTable);
}

/** One table per stage name (eval, train, …): their metrics differ, and one wide table of all would be mostly blank. */
function renderTable(t: RunTable, s: Style): string {
  if (t.rows.length === 0) return `No metrics recorded yet${t.profile === null ? '' : ` with profile ${t.profile}`}.\n`;
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
  return `Runs${t.profile === null ? '' : ` with profile ${t.profile}`}\n  ${runs}\n\n${parts.join('\n')}`;
}
