/**
 * The metrics stages recorded, as data: per stage the execution whose result is in out/ (else the latest successful,
 * else the latest), or with `all` every execution and the params that differ between them.
 */
import { canonicalJson } from '../keys/canonical-json.js';
import { stateDbPathOf } from '../plan/engine-context.js';
import { parseIngredients, profileKey, type ExecutionRow, type MetricRow } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import { matchesStageFilter, namesStage } from './stage-filter.js';

export interface MetricsQuery {
  projectDir: string;
  /** stage ids or names (all cells); empty: every stage */
  stages: readonly string[];
  all: boolean;
  /** also every point of each curve */
  series: boolean;
  /** the profile whose executions are shown (null: none); profiles are namespaces */
  profile?: string | null;
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

/** No state database yet (its path), or the executions with metrics. */
export type MetricsOutcome =
  | { type: 'no-state'; stateDb: string }
  /** unmatched: the stage arguments that named no execution with metrics (a typo, or nothing recorded yet) */
  | { type: 'done'; executions: ExecutionMetrics[]; unmatched: string[] };

export function metricsData(o: MetricsQuery): MetricsOutcome {
  const state = openRecordedState(o.projectDir, { readOnly: true, profile: o.profile ?? null });
  if (!state) return { type: 'no-state', stateDb: stateDbPathOf(o.projectDir) };
  try {
    const { store } = state;
    const withMetrics = store.db
      .prepare(`SELECT DISTINCT e.* FROM executions e JOIN metrics m ON m.execution_id = e.id WHERE e.profile = ? ORDER BY e.stage_id, e.id`)
      .all(profileKey(o.profile ?? null)) as ExecutionRow[];
    const unmatched = o.stages.filter((a) => !withMetrics.some((e) => namesStage(a, e.stage_id)));
    let chosen = withMetrics.filter((e) => matchesStageFilter(e.stage_id, o.stages));
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
        if (o.series) {
          const series: Record<string, { step: number | null; value: number }[]> = {};
          for (const r of rows) (series[r.name] ??= []).push({ step: r.step, value: r.value });
          entry.series = series;
        }
        results.push(entry);
      });
    }
    return { type: 'done', executions: results, unmatched };
  } finally {
    state.close();
  }
}
