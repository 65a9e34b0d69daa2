/**
 * Runs compared, as data: `metrics diff`, `params diff` and the wide table across runs.
 *
 * A run is one `wsflow run` (a row of the state database's runs) that changed some stage's result (executed or
 * restored one). What a run "has" is a snapshot, as a git commit has a tree: per stage, the execution whose result
 * out/ held when the run finished (runHistory). A run's params are the pipeline params (dotted names,
 * `-S` overrides applied) as its snapshot's executions saw them; its metrics are the last value of each metric of
 * each stage. A method is a stage cell (e.g. `eval@honesty-lora-0`): the rows of the wide table.
 *
 * Profiles are namespaces (out/<profile>/, heads keyed by profile), so runs are compared within one: a run's
 * snapshot follows from the earlier runs of its own profile only, the default pair and the table are the current
 * profile's last runs, and a smoke run is set against a real-profile run only when both are named.
 */
import { canonicalJson } from '../keys/canonical-json.js';
import { stateDbPathOf } from '../plan/engine-context.js';
import { parseIngredients, profileKey, type ExecutionRow, type RunRow, type StateStore } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import { matchesStageFilter, namesStage } from './stage-filter.js';
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

/** the stage arguments that named no stage either run had (a typo, or a stage neither ran): the CLI asks the pipeline */
export interface StageArgs {
  unmatched: string[];
}

export interface MetricsDiff extends RunPair, StageArgs {
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

export interface RunTable extends StageArgs {
  /** the profile whose runs these are (null: none) */
  profile: string | null;
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
 * runs: a run that found everything fresh changed nothing). A run's snapshot is the previous one of its profile
 * with the executions it made, then the producers it recorded (restores and fresh stages; runs recorded before
 * producers were, or interrupted ones, have only their executions).
 */
function runHistory(store: StateStore): { runs: RunInfo[]; snapshots: Map<number, Map<string, ExecutionRow>> } {
  const runRows = store.db.prepare(`SELECT * FROM runs ORDER BY id`).all() as RunRow[];
  const execs = store.db.prepare(`SELECT * FROM executions WHERE status = 'succeeded' ORDER BY id`).all() as ExecutionRow[];
  const byId = new Map(execs.map((e) => [e.id, e]));
  const byRun = new Map<number, ExecutionRow[]>();
  for (const e of execs) byRun.set(e.run_id, [...(byRun.get(e.run_id) ?? []), e]);
  const runs: RunInfo[] = [];
  const snapshots = new Map<number, Map<string, ExecutionRow>>();
  /** per profile, the snapshot of its latest run */
  const latest = new Map<string, Map<string, ExecutionRow>>();
  for (const r of runRows) {
    const prev = latest.get(profileKey(r.profile)) ?? new Map<string, ExecutionRow>();
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
    latest.set(profileKey(r.profile), snap);
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

function paramsOf(snap: Map<string, ExecutionRow>, profile: string | null): Map<string, unknown> {
  const params = new Map<string, unknown>();
  // the latest execution's view wins; a result another profile produced first (a cache hit by key, restored
  // here) saw that profile's params, so executions of the run's own profile win over it
  const own = (e: ExecutionRow): number => (e.profile === profileKey(profile) ? 1 : 0);
  for (const e of [...snap.values()].sort((x, y) => own(x) - own(y) || x.id - y.id)) {
    for (const [k, v] of Object.entries(parseIngredients(e).globalParams ?? {})) params.set(k, v);
  }
  return params;
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

/** `profile smoke` / `no profile`, as messages name a profile */
function profileName(profile: string | null): string {
  return profile === null ? 'no profile' : `profile ${profile}`;
}

/** `#1, #2 (smoke), …`: the last eight runs, as a message names them */
function runList(runs: readonly RunInfo[]): string {
  const shown = runs.slice(-8).map((r) => `#${r.run}${r.profile === null ? '' : ` (${r.profile})`}`);
  return (runs.length > shown.length ? ['…', ...shown] : shown).join(', ') || 'none';
}

/**
 * The two runs to compare: both named (any profiles: asked explicitly), one named (against the latest run of its
 * profile, which must be the current one), or the current profile's last two.
 */
function pickPair(all: readonly RunInfo[], profile: string | null, refs: readonly number[]): Result<RunPair, ComparisonError> {
  const mine = all.filter((r) => r.profile === profile);
  const find = (id: number): Result<RunInfo, ComparisonError> => {
    const r = all.find((x) => x.run === id);
    return r ? ok(r) : err({ type: 'bad-runs', message: `run #${id} changed no stage's result (runs that did: ${runList(all)})` });
  };
  if (refs.length === 0) {
    const [a, b] = mine.slice(-2);
    if (a && b) return ok({ a, b });
    const others = [...new Set(all.filter((r) => r.profile !== profile).map((r) => r.profile))];
    const hint = others.length ? `; other profiles' runs: ${runList(all.filter((r) => r.profile !== profile))} (--profile ${others.map((p) => p ?? '""').join(' or --profile ')}, or name two runs)` : '';
    return err({ type: 'bad-runs', message: `two runs that changed results are needed to compare, found ${mine.length} with ${profileName(profile)}${hint}` });
  }
  const a = find(refs[0] ?? 0);
  if (!a.ok) return a;
  if (refs.length > 1) {
    if (refs[1] === refs[0]) return err({ type: 'bad-runs', message: `run #${a.value.run} is named twice: name two runs to compare` });
    const b = find(refs[1] ?? 0);
    return b.ok ? ok({ a: a.value, b: b.value }) : b;
  }
  if (a.value.profile !== profile) {
    return err({
      type: 'bad-runs',
      message: `run #${a.value.run} was run with ${profileName(a.value.profile)} and this compares runs with ${profileName(profile)}: use --profile ${a.value.profile ?? '""'}, or name the second run too`,
    });
  }
  const last = mine[mine.length - 1];
  if (!last || last.run === a.value.run) {
    return err({ type: 'bad-runs', message: `run #${a.value.run} is the latest run with ${profileName(profile)}: name another run to compare it with` });
  }
  return ok({ a: a.value, b: last });
}

export interface DiffQuery {
  projectDir: string;
  /** the profile whose runs are compared (null: none); named runs may be of any profile */
  profile: string | null;
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
    const pair = pickPair(history.runs, q.profile, q.runs);
    if (!pair.ok) return pair;
    const { a, b } = pair.value;
    const snapA = history.snapshots.get(a.run) ?? new Map<string, ExecutionRow>();
    const snapB = history.snapshots.get(b.run) ?? new Map<string, ExecutionRow>();
    const known = [...new Set([...snapA.keys(), ...snapB.keys()])];
    const unmatched = (q.stages ?? []).filter((arg) => !known.some((s) => namesStage(arg, s)));
    const stages = known.filter((s) => matchesStageFilter(s, q.stages ?? [])).sort();
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
    return ok({ a, b, metrics, unmatched });
  });
}

export function paramsDiff(q: DiffQuery): Result<ParamsDiff, ComparisonError> {
  return withStore(q.projectDir, (store) => {
    const history = runHistory(store);
    const pair = pickPair(history.runs, q.profile, q.runs);
    if (!pair.ok) return pair;
    const { a, b } = pair.value;
    const pa = paramsOf(history.snapshots.get(a.run) ?? new Map<string, ExecutionRow>(), a.profile);
    const pb = paramsOf(history.snapshots.get(b.run) ?? new Map<string, ExecutionRow>(), b.profile);
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
  /** the profile whose runs are listed (null: none) */
  profile: string | null;
  stages: readonly string[];
  /** the last N comparable runs */
  last: number;
}

/** Methods × metrics for each of the last runs, with the params that differ between those runs as columns. */
export function runTable(q: TableQuery): Result<RunTable, ComparisonError> {
  return withStore(q.projectDir, (store) => {
    const history = runHistory(store);
    const runs = history.runs.filter((r) => r.profile === q.profile).slice(-q.last);
    const snaps = runs.map((r) => history.snapshots.get(r.run) ?? new Map<string, ExecutionRow>());
    const params = snaps.map((snap) => paramsOf(snap, q.profile));
    const names = [...new Set(params.flatMap((p) => [...p.keys()]))];
    const differing = names.filter((k) => new Set(params.map((p) => canonicalJson(p.get(k) ?? null))).size > 1).sort();
    const metricNames = new Set<string>();
    const rows: RunTableRow[] = [];
    runs.forEach((r, i) => {
      const snap = snaps[i] ?? new Map<string, ExecutionRow>();
      for (const stage of [...snap.keys()].filter((s) => matchesStageFilter(s, q.stages)).sort()) {
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
    const known = new Set(snaps.flatMap((snap) => [...snap.keys()]));
    const unmatched = q.stages.filter((arg) => ![...known].some((s) => namesStage(arg, s)));
    return ok({ profile: q.profile, unmatched, runs, params: differing, metrics: [...metricNames].sort(), rows });
  });
}
