/**
 * Typed access to the state database: every query the engine runs, as prepared statements.
 */
import type { Db, Stmt } from './state-db.js';
import type { KeyIngredients } from '../keys/key-ingredients.js';
import type { StageKey, TreeHash } from '../keys/hashing.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';
export type ExecutionStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface RunRow {
  id: number;
  argv: string;
  profile: string | null;
  host: string;
  pid: number;
  started_at: number;
  ended_at: number | null;
  heartbeat_at: number;
  status: RunStatus;
  summary: string | null;
}

export interface ExecutionRow {
  id: number;
  run_id: number;
  stage_id: string;
  key: StageKey;
  kind: string;
  kind_version: string | null;
  kind_fingerprint: string | null;
  ingredients: string;
  status: ExecutionStatus;
  output_hash: TreeHash | null;
  output_bytes: number | null;
  output_files: number | null;
  host: string;
  pid: number | null;
  executor: string;
  backend: string | null;
  annotations: string;
  started_at: number;
  ended_at: number | null;
  duration_ms: number | null;
  error: string | null;
  log_path: string | null;
  evicted: number;
  /** the profile of the run that recorded it ('' for none) */
  profile: string;
  /** 1 when `run --force` ran it although its result was fresh or cached */
  forced: number;
}

/** ExecutionRow's columns in the order executionFromRaw reads them (a raw row may carry more after them). */
const EXECUTION_COLUMNS = [
  'id', 'run_id', 'stage_id', 'key', 'kind', 'kind_version', 'kind_fingerprint', 'ingredients', 'status', 'output_hash',
  'output_bytes', 'output_files', 'host', 'pid', 'executor', 'backend', 'annotations', 'started_at', 'ended_at',
  'duration_ms', 'error', 'log_path', 'evicted', 'profile', 'forced',
] as const;

/**
 * An execution row from a raw row (values in EXECUTION_COLUMNS order). better-sqlite3 builds each object row
 * property by property in C++, ~20 µs for this 25-column row; an object literal here costs a fraction of that, which
 * is most of the head snapshot's time at 1000 stages. test/engine/state/head-snapshot.test.ts checks it against
 * `SELECT *`.
 */
export function executionFromRaw(r: readonly unknown[]): ExecutionRow {
  return {
    id: r[0],
    run_id: r[1],
    stage_id: r[2],
    key: r[3],
    kind: r[4],
    kind_version: r[5],
    kind_fingerprint: r[6],
    ingredients: r[7],
    status: r[8],
    output_hash: r[9],
    output_bytes: r[10],
    output_files: r[11],
    host: r[12],
    pid: r[13],
    executor: r[14],
    backend: r[15],
    annotations: r[16],
    started_at: r[17],
    ended_at: r[18],
    duration_ms: r[19],
    error: r[20],
    log_path: r[21],
    evicted: r[22],
    profile: r[23],
    forced: r[24],
  } as ExecutionRow;
}

export interface HeadRow {
  profile: string;
  stage_id: string;
  execution_id: number;
  out_paths: string;
  materialized_at: number;
}

export interface LeaseRow {
  stage_id: string;
  key: string;
  run_id: number;
  host: string;
  pid: number;
  acquired_at: number;
  heartbeat_at: number;
}

export interface MetricRow {
  execution_id: number;
  stage_id: string;
  name: string;
  step: number | null;
  value: number;
  recorded_at: number;
}

export function parseIngredients(row: ExecutionRow): KeyIngredients {
  return JSON.parse(row.ingredients) as KeyIngredients;
}

/** How a profile is stored: the database keys heads and executions by text, and no profile is ''. */
export function profileKey(profile: string | null): string {
  return profile ?? '';
}

/**
 * Profiles are namespaces: a store is opened for one profile (null: none), and its heads and its history of a
 * stage (latest execution, latest success) are that profile's. Cache hits by key are shared by all profiles: a key
 * already differs wherever a profile's params do, and an equal key means equal inputs.
 */
export class StateStore {
  readonly db: Db;
  readonly profile: string | null;
  readonly #p: string;
  readonly #s: Record<string, Stmt> = {};
  #heads: Map<string, ExecutionRow> | null = null;
  /** `PRAGMA data_version` just before the head snapshot was read (null: not read yet) */
  #headsVersion: number | null = null;

  constructor(db: Db, profile: string | null = null) {
    this.db = db;
    this.profile = profile;
    this.#p = profileKey(profile);
  }

  #stmt(sql: string): Stmt {
    let s = this.#s[sql];
    if (!s) {
      s = this.db.prepare<unknown[]>(sql);
      this.#s[sql] = s;
    }
    return s;
  }

  // ---- runs ----

  insertRun(r: { argv: string; profile: string | null; host: string; pid: number; now: number }): number {
    const info = this.#stmt(
      `INSERT INTO runs (argv, profile, host, pid, started_at, heartbeat_at, status) VALUES (?, ?, ?, ?, ?, ?, 'running')`,
    ).run(r.argv, r.profile, r.host, r.pid, r.now, r.now);
    return Number(info.lastInsertRowid);
  }

  finishRun(id: number, status: RunStatus, summary: unknown, now: number): void {
    this.#stmt(`UPDATE runs SET status = ?, ended_at = ?, summary = ? WHERE id = ?`).run(status, now, JSON.stringify(summary), id);
  }

  heartbeatRun(id: number, now: number): void {
    this.#stmt(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`).run(now, id);
    this.#stmt(`UPDATE leases SET heartbeat_at = ? WHERE run_id = ?`).run(now, id);
  }

  getRun(id: number): RunRow | undefined {
    return this.#stmt(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
  }

  runningRuns(): RunRow[] {
    return this.#stmt(`SELECT * FROM runs WHERE status = 'running'`).all() as RunRow[];
  }

  /** A run whose process died without finishing (kill -9, power loss): recorded as interrupted, with its executions. */
  markRunCrashed(id: number, now: number): void {
    this.db.transaction(() => {
      this.#stmt(`UPDATE runs SET status = 'interrupted', ended_at = COALESCE(ended_at, heartbeat_at) WHERE id = ? AND status = 'running'`).run(id);
      this.#stmt(
        `UPDATE executions SET status = 'interrupted', ended_at = ?, error = 'the wsflow process running it died' WHERE run_id = ? AND status = 'running'`,
      ).run(now, id);
      this.#stmt(`DELETE FROM leases WHERE run_id = ?`).run(id);
    })();
  }

  // ---- executions ----

  insertExecution(e: {
    runId: number;
    stageId: string;
    key: StageKey;
    kind: string;
    kindVersion: string | null;
    kindFingerprint: string | null;
    ingredients: KeyIngredients;
    host: string;
    pid: number;
    executor: string;
    now: number;
    logPath: string | null;
    forced?: boolean;
  }): number {
    const info = this.#stmt(
      `INSERT INTO executions (run_id, stage_id, key, kind, kind_version, kind_fingerprint, ingredients, status, host, pid,
         executor, started_at, log_path, profile, forced) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.runId,
      e.stageId,
      e.key,
      e.kind,
      e.kindVersion,
      e.kindFingerprint,
      JSON.stringify(e.ingredients),
      e.host,
      e.pid,
      e.executor,
      e.now,
      e.logPath,
      this.#p,
      e.forced ? 1 : 0,
    );
    return Number(info.lastInsertRowid);
  }

  setLogPath(id: number, logPath: string): void {
    this.#stmt(`UPDATE executions SET log_path = ? WHERE id = ?`).run(logPath, id);
  }

  /** Marks the execution succeeded with its output: the moment it becomes a cache hit for every later run. */
  succeedExecution(
    id: number,
    o: { outputHash: TreeHash; bytes: number; files: number; now: number; durationMs: number; backend: string | null; annotations: Record<string, unknown> },
  ): void {
    this.#stmt(
      `UPDATE executions SET status = 'succeeded', output_hash = ?, output_bytes = ?, output_files = ?, ended_at = ?,
         duration_ms = ?, backend = ?, annotations = ? WHERE id = ? AND status = 'running'`,
    ).run(o.outputHash, o.bytes, o.files, o.now, o.durationMs, o.backend, JSON.stringify(o.annotations), id);
  }

  endExecution(
    id: number,
    status: 'failed' | 'interrupted',
    o: { error: string; now: number; durationMs: number; backend: string | null; annotations: Record<string, unknown> },
  ): void {
    this.#stmt(
      `UPDATE executions SET status = ?, error = ?, ended_at = ?, duration_ms = ?, backend = ?, annotations = ?
         WHERE id = ? AND status = 'running'`,
    ).run(status, o.error, o.now, o.durationMs, o.backend, JSON.stringify(o.annotations), id);
  }

  getExecution(id: number): ExecutionRow | undefined {
    return this.#stmt(`SELECT * FROM executions WHERE id = ?`).get(id) as ExecutionRow | undefined;
  }

  /** The newest succeeded, not evicted execution with this key: the candidate cache hit. */
  latestSuccessByKey(key: StageKey): ExecutionRow | undefined {
    return this.#stmt(
      `SELECT * FROM executions WHERE key = ? AND status = 'succeeded' AND evicted = 0 ORDER BY id DESC LIMIT 1`,
    ).get(key) as ExecutionRow | undefined;
  }

  /** This profile's latest execution of the stage. */
  latestExecutionOfStage(stageId: string): ExecutionRow | undefined {
    return this.#stmt(`SELECT * FROM executions WHERE profile = ? AND stage_id = ? ORDER BY id DESC LIMIT 1`).get(this.#p, stageId) as
      | ExecutionRow
      | undefined;
  }

  /** This profile's latest successful execution of the stage. */
  latestSuccessOfStage(stageId: string): ExecutionRow | undefined {
    return this.#stmt(
      `SELECT * FROM executions WHERE profile = ? AND stage_id = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1`,
    ).get(this.#p, stageId) as ExecutionRow | undefined;
  }

  /** This profile's executions of the stage, oldest first. */
  executionsOfStage(stageId: string): ExecutionRow[] {
    return this.#stmt(`SELECT * FROM executions WHERE profile = ? AND stage_id = ? ORDER BY id`).all(this.#p, stageId) as ExecutionRow[];
  }

  /** For gc: every succeeded, not evicted execution of every profile, newest first. */
  succeededExecutionsNewestFirst(): ExecutionRow[] {
    return this.#stmt(`SELECT * FROM executions WHERE status = 'succeeded' AND evicted = 0 ORDER BY id DESC`).all() as ExecutionRow[];
  }

  /** For gc: the heads of every profile. */
  allHeads(): HeadRow[] {
    return this.#stmt(`SELECT * FROM stage_heads`).all() as HeadRow[];
  }

  succeededExecutions(): ExecutionRow[] {
    return this.#stmt(`SELECT * FROM executions WHERE status = 'succeeded' AND evicted = 0`).all() as ExecutionRow[];
  }

  markEvicted(ids: readonly number[]): void {
    const s = this.#stmt(`UPDATE executions SET evicted = 1 WHERE id = ?`);
    this.db.transaction(() => {
      for (const id of ids) s.run(id);
    })();
  }

  // ---- heads: what out/ holds ----

  getHead(stageId: string): HeadRow | undefined {
    return this.#stmt(`SELECT * FROM stage_heads WHERE profile = ? AND stage_id = ?`).get(this.#p, stageId) as HeadRow | undefined;
  }

  /**
   * The execution whose result is materialised in out/ for this stage. With `fresh`, always from the database;
   * otherwise from a snapshot of all heads taken on first use (one query instead of one per stage: `status` on a
   * 1000-stage DAG). The snapshot can lag behind other processes; callers that act on a head under a lease ask
   * for it fresh.
   */
  headExecution(stageId: string, fresh = false): ExecutionRow | undefined {
    if (!fresh) return this.#headSnapshot().get(stageId);
    const row = this.#stmt(
      `SELECT e.* FROM stage_heads h JOIN executions e ON e.id = h.execution_id WHERE h.profile = ? AND h.stage_id = ?`,
    ).get(this.#p, stageId) as
      | ExecutionRow
      | undefined;
    if (this.#heads) {
      if (row) this.#heads.set(stageId, row);
      else this.#heads.delete(stageId);
    }
    return row;
  }

  /**
   * True when no other connection has committed to the database since the head snapshot was read (SQLite's
   * `PRAGMA data_version` changes exactly then; this connection's own commits do not change it). What was assessed
   * against the snapshot then still holds for every stage this connection did not change itself.
   */
  unchangedSinceHeadSnapshot(): boolean {
    return this.#headsVersion !== null && this.#dataVersion() === this.#headsVersion;
  }

  #dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  #headSnapshot(): Map<string, ExecutionRow> {
    if (!this.#heads) {
      this.#headsVersion = this.#dataVersion();
      const rows = this.db
        .prepare<unknown[]>(
          `SELECT ${EXECUTION_COLUMNS.map((c) => `e.${c}`).join(', ')}, h.stage_id FROM stage_heads h JOIN executions e ON e.id = h.execution_id WHERE h.profile = ?`,
        )
        .raw(true)
        .all(this.#p) as unknown[][];
      this.#heads = new Map(rows.map((r) => [r[EXECUTION_COLUMNS.length] as string, executionFromRaw(r)]));
    }
    return this.#heads;
  }

  setHead(stageId: string, executionId: number, outPaths: readonly string[], now: number): void {
    this.#heads?.delete(stageId);
    this.#stmt(
      `INSERT INTO stage_heads (profile, stage_id, execution_id, out_paths, materialized_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(profile, stage_id) DO UPDATE SET execution_id = excluded.execution_id, out_paths = excluded.out_paths,
         materialized_at = excluded.materialized_at`,
    ).run(this.#p, stageId, executionId, JSON.stringify(outPaths), now);
  }

  clearHead(stageId: string): void {
    this.#heads?.delete(stageId);
    this.#stmt(`DELETE FROM stage_heads WHERE profile = ? AND stage_id = ?`).run(this.#p, stageId);
  }

  // ---- metrics ----

  insertMetrics(rows: readonly MetricRow[]): void {
    if (rows.length === 0) return;
    const s = this.#stmt(
      `INSERT INTO metrics (execution_id, stage_id, name, step, value, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) s.run(r.execution_id, r.stage_id, r.name, r.step, r.value, r.recorded_at);
    })();
  }

  metricsOfExecution(executionId: number): MetricRow[] {
    return this.#stmt(`SELECT * FROM metrics WHERE execution_id = ? ORDER BY name, step, id`).all(executionId) as MetricRow[];
  }

  // ---- meta ----

  /** A project-wide fact kept beside the schema version (e.g. which wsflow.lock bytes were verified). */
  metaValue(key: string): string | undefined {
    return (this.#stmt(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined)?.value;
  }

  setMetaValue(key: string, value: string): void {
    this.#stmt(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  // ---- leases ----

  allLeases(): LeaseRow[] {
    return this.#stmt(`SELECT * FROM leases`).all() as LeaseRow[];
  }

  getLease(stageId: string): LeaseRow | undefined {
    return this.#stmt(`SELECT * FROM leases WHERE stage_id = ?`).get(stageId) as LeaseRow | undefined;
  }

  putLease(l: LeaseRow): void {
    this.#stmt(
      `INSERT INTO leases (stage_id, key, run_id, host, pid, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(stage_id) DO UPDATE SET key = excluded.key, run_id = excluded.run_id, host = excluded.host,
         pid = excluded.pid, acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
    ).run(l.stage_id, l.key, l.run_id, l.host, l.pid, l.acquired_at, l.heartbeat_at);
  }

  deleteLease(stageId: string, runId: number): void {
    this.#stmt(`DELETE FROM leases WHERE stage_id = ? AND run_id = ?`).run(stageId, runId);
  }

  deleteLeasesOfRun(runId: number): void {
    this.#stmt(`DELETE FROM leases WHERE run_id = ?`).run(runId);
  }
}
