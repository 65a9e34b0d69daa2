/**
 * Runs compared, as data: `metrics diff`, `params diff` and the wide table across runs.
 *
 * A run is one `wsflow run` (a row of the state database's runs) that changed some stage's result (executed or
 * restored one). What a run "has" is a snapshot, as a git commit has a tree: per stage, the execution whose result
 * out/ held when the run finished (runHistory). A run's params are the pipeline params (dotted names,
 * `-S` overrides applied) as its snapshot's executions saw them; its metrics are the last value of each metric of
 * each stage. A method is a stage cell (e.g. `eval@honesty-lora-0`): the rows of the wide table.
 */
import { canonicalJson } from '../keys/canonical-json.js';
import { stateDbPathOf } from '../plan/engine-context.js';
import { parseIngredients, type ExecutionRow, type RunRow, type StateStore } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import { err, ok, type Result } from '../../contract/result.js';

export interface RunInfo {
  run: number;
  startedAt: string;
  profile: string | null;
  /** the command line's arguments after `wsflow` */
  argv: string[];
  /** stages this run executed (the rest of its snapshot it restored or found fresh) */
  executed: number;
}

export interface MetricChange {
  stage: string;
  metric: string;
  a: number | null;
  b: number | null;
  /** b − a where both exist */
  change: number | null;
}

export interface ParamChange {
  param: string;
  a: unknown;
  b: unknown;
}

export interface RunPair {
  a: RunInfo;
  b: RunInfo;
}

export interface MetricsDiff extends RunPair {
  metrics: MetricChange[];
}

export interface ParamsDiff extends RunPair {
  params: ParamChange[];
}

export interface RunTableRow {
  run: number;
  /** the stage cell */
  method: string;
  /** the differing params' values in this run */
  params: Record<string, unknown>;
  metrics: Record<string, number>;
}

export interface RunTable {
  runs: RunInfo[];
  /** params whose values differ between the listed runs (the table's param columns) */
  params: string[];
  /** metric names, in column order */
  metrics: string[];
  rows: RunTableRow[];
}

export type ComparisonError =
  | { type: 'no-state'; stateDb: string }
  /** fewer than two runs to compare, or a named run that executed nothing: a usage error */
  | { type: 'bad-runs'; message: string };

function runInfo(r: RunRow, executed: number): RunInfo {
  let argv: string[] = [];
  try {
    const parsed = JSON.parse(r.argv) as unknown;
    if (Array.isArray(parsed)) argv = parsed.map(String);
  } catch {
    // an argv the store cannot parse is shown as none; it is display only
  }
  return { run: r.id, startedAt: new Date(r.started_at).toISOString(), profile: r.profile, argv, executed };
}

/**
 * Every run's snapshot, oldest first, and the runs whose snapshot differs from the one before (the comparable
 * runs: a run that found everything fresh changed nothing). A run's snapshot is the previous one with the
 * executions it made, then the producers it recorded (restores and fresh stages; runs recorded before producers
 * were, or interrupted ones, have only their executions).
 */
function runHistory(store: StateStore): { runs: RunInfo[]; snapshots: Map<number, Map<string, ExecutionRow>> } {
  const runRows = store.db.prepare(`SELECT * FROM runs ORDER BY id`).all() as RunRow[];
  const execs = store.db.prepare(`SELECT * FROM executions WHERE status = 'succeeded' ORDER BY id`).all() as ExecutionRow[];
  const byId = new Map(execs.map((e) => [e.id, e]));
  const byRun = new Map<number, ExecutionRow[]>();
  for (const e of execs) byRun.set(e.run_id, [...(byRun.get(e.run_id) ?? []), e]);
  const runs: RunInfo[] = [];
  const snapshots = new Map<number, Map<string, ExecutionRow>>();
  let prev = new Map<string, ExecutionRow>();
  for (const r of runRows) {
    const snap = new Map(prev);
    const own = byRun.get(r.id) ?? [];
    for (const e of own) snap.set(e.stage_id, e);
    for (const [stage, id] of Object.entries(producersOf(r))) {
      const e = byId.get(id);
      if (e) snap.set(stage, e);
    }
    const changed = snap.size !== prev.size || [...snap].some(([k, e]) => prev.get(k)?.id !== e.id);
    snapshots.set(r.id, snap);
    if (changed) runs.push(runInfo(r, own.length));
    prev = snap;
  }
  return { runs, snapshots };
}

function producersOf(r: RunRow): Record<string, number> {
  try {
    const summary = JSON.parse(r.summary ?? 'null') as { producers?: Record<string, number> } | null;
    return summary?.producers ?? {};
  } catch {
    return {};
  }
}

function lastValues(store: StateStore, executionId: number): Map<string, number> {
  const out = new Map<string, { step: number; value: number }>();
  for (const m of store.metricsOfExecution(executionId)) {
    const step = m.step ?? -Infinity;
    const cur = out.get(m.name);
    if (!cur || step >= cur.step) out.set(m.name, { step, value: m.value });
  }
  return new Map([...out].map(([k, v]) => [k, v.value]));
}

function paramsOf(snap: Map<string, ExecutionRow>): Map<string, unknown> {
  const params = new Map<string, unknown>();
  // the latest execution's view wins (executions come in id order within the snapshot's stages)
  for (const e of [...snap.values()].sort((x, y) => x.id - y.id)) {
    for (const [k, v] of Object.entries(parseIngredients(e).globalParams ?? {})) params.set(k, v);
  }
  return params;
}

function matchesStage(stageId: string, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  return wanted.some((w) => stageId === w || stageId.startsWith(`${w.endsWith('@*') ? w.slice(0, -2) : w}@`));
}

function withStore<T>(projectDir: string, f: (store: StateStore) => Result<T, ComparisonError>): Result<T, ComparisonError> {
  const state = openRecordedState(projectDir, { readOnly: true });
  if (!state) return err({ type: 'no-state', stateDb: stateDbPathOf(projectDir) });
  try {
    return f(state.store);
  } finally {
    state.close();
  }
}

/** The two runs to compare: both named, one named (against the latest), or the last two. */
function pickPair(runs: readonly RunInfo[], refs: readonly number[]): Result<RunPair, ComparisonError> {
  const find = (id: number): Result<RunInfo, ComparisonError> => {
    const r = runs.find((x) => x.run === id);
    return r ? ok(r) : err({ type: 'bad-runs', message: `run #${id} changed no stage's result (runs that did: ${runs.map((x) => `#${x.run}`).join(', ') || 'none'})` });
  };
  if (refs.length === 0) {
    const [a, b] = runs.slice(-2);
    if (!a || !b) return err({ type: 'bad-runs', message: `two runs that changed results are needed to compare, found ${runs.length}` });
    return ok({ a, b });
  }
  const a = find(refs[0] ?? 0);
  if (!a.ok) return a;
  const last = runs[runs.length - 1];
  const b = refs.length > 1 ? find(refs[1] ?? 0) : last ? ok(last) : find(0);
  if (!b.ok) return b;
  return ok({ a: a.value, b: b.value });
}

export interface DiffQuery {
  projectDir: string;
  /** zero, one or two run numbers */
  runs: readonly number[];
  /** stage ids or names; empty: every stage */
  stages?: readonly string[];
  /** also what did not change */
  all?: boolean;
}

export function metricsDiff(q: DiffQuery): Result<MetricsDiff, ComparisonError> {
  return withStore(q.projectDir, (store) => {
    const history = runHistory(store);
    const pair = pickPair(history.runs, q.runs);
    if (!pair.ok) return pair;
    const { a, b } = pair.value;
    const snapA = history.snapshots.get(a.run) ?? new Map<string, ExecutionRow>();
    const snapB = history.snapshots.get(b.run) ?? new Map<string, ExecutionRow>();
    const stages = [...new Set([...snapA.keys(), ...snapB.keys()])].filter((s) => matchesStage(s, q.stages ?? [])).sort();
    const metrics: MetricChange[] = [];
    for (const stage of stages) {
      const ea = snapA.get(stage);
      const eb = snapB.get(stage);
      // the same execution in both snapshots has the same metrics
      if (!q.all && ea?.id === eb?.id) continue;
      const va = ea ? lastValues(store, ea.id) : new Map<string, number>();
      const vb = eb ? lastValues(store, eb.id) : new Map<string, number>();
      for (const metric of [...new Set([...va.keys(), ...vb.keys()])].sort()) {
        const x = va.get(metric) ?? null;
        const y = vb.get(metric) ?? null;
        if (!q.all && x === y) continue;
        metrics.push({ stage, metric, a: x, b: y, change: x !== null && y !== null ? y - x : null });
      }
    }
    return ok({ a, b, metrics });
  });
}

export function paramsDiff(q: DiffQuery): Result<ParamsDiff, ComparisonError> {
  return withStore(q.projectDir, (store) => {
    const history = runHistory(store);
    const pair = pickPair(history.runs, q.runs);
    if (!pair.ok) return pair;
    const { a, b } = pair.value;
    const pa = paramsOf(history.snapshots.get(a.run) ?? new Map<string, ExecutionRow>());
    const pb = paramsOf(history.snapshots.get(b.run) ?? new Map<string, ExecutionRow>());
    const params: ParamChange[] = [];
    for (const param of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
      const x = pa.get(param) ?? null;
      const y = pb.get(param) ?? null;
      if (!q.all && canonicalJson(x) === canonicalJson(y)) continue;
      params.push({ param, a: x, b: y });
    }
    return ok({ a, b, params });
  });
}

export interface TableQuery {
  projectDir: string;
  stages: readonly string[];
  /** the last N comparable runs */
  last: number;
}

/** Methods × metrics for each of the last runs, with the params that differ between those runs as columns. */
export function runTable(q: TableQuery): Result<RunTable, ComparisonError> {
  return withStore(q.projectDir, (store) => {
    const history = runHistory(store);
    const runs = history.runs.slice(-q.last);
    const snaps = runs.map((r) => history.snapshots.get(r.run) ?? new Map<string, ExecutionRow>());
    const params = snaps.map(paramsOf);
    const names = [...new Set(params.flatMap((p) => [...p.keys()]))];
    const differing = names.filter((k) => new Set(params.map((p) => canonicalJson(p.get(k) ?? null))).size > 1).sort();
    const metricNames = new Set<string>();
    const rows: RunTableRow[] = [];
    runs.forEach((r, i) => {
      const snap = snaps[i] ?? new Map<string, ExecutionRow>();
      for (const stage of [...snap.keys()].filter((s) => matchesStage(s, q.stages)).sort()) {
        const e = snap.get(stage);
        if (!e) continue;
        const values = lastValues(store, e.id);
        if (values.size === 0) continue;
        for (const k of values.keys()) metricNames.add(k);
        rows.push({
          run: r.run,
          method: stage,
          params: Object.fromEntries(differing.map((k) => [k, params[i]?.get(k) ?? null])),
          metrics: Object.fromEntries(values),
        });
      }
    });
    return ok({ runs, params: differing, metrics: [...metricNames].sort(), rows });
  });
}
