/**
 * The state database `cache/state.db`: runs, executions, what is materialised in out/, the file-hash memo,
 * metrics and leases. better-sqlite3 in WAL mode so that several `wsflow` processes can read while one writes.
 *
 * Schema changes: bump SCHEMA_VERSION and add a migration step; an older wsflow refuses a newer database. A step
 * that only adds tables or indexes (CREATE … IF NOT EXISTS in SCHEMA) needs no code: 2 → 3 added `runs_running`.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { noteStateDbPath } from '../util/faults.js';

/*
 * better-sqlite3 is CommonJS. Imported from ESM, Node 20 sends it and each file it requires through the ESM
 * loader's CommonJS translator; require() loads the same in half the time (~7 ms of every wsflow start).
 */
const requireHere = createRequire(import.meta.url);
const Sqlite = requireHere('better-sqlite3') as typeof BetterSqlite3;

/*
 * The addon where `npm ci` builds it from source: handed to better-sqlite3 directly, its `bindings` lookup (a stack
 * trace and a dozen candidate paths, ~3 ms of every start) is skipped. Any other layout (a prebuilt binary) is left to
 * that lookup, as before.
 */
let nativeBinding: string | null | undefined;
function addonOptions(): { nativeBinding?: string } {
  if (nativeBinding === undefined) {
    const built = join(dirname(requireHere.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
    nativeBinding = existsSync(built) ? built : null;
  }
  return nativeBinding === null ? {} : { nativeBinding };
}

/** A better-sqlite3 Database, with the addon found as above. */
function openDatabase(filename: string | Buffer, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  return new Sqlite(filename, { ...addonOptions(), ...options });
}

export type Db = BetterSqlite3.Database;
/** a prepared statement taking positional parameters */
export type Stmt = BetterSqlite3.Statement<unknown[]>;

export const SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  argv TEXT NOT NULL,
  profile TEXT,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  heartbeat_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
  summary TEXT
);
-- every run start looks for crashed runs (recoverCrashedRuns); without this a project's thousandth run scanned
-- 999 summaries of ~11 kB each (4 ms at 500 runs of a 1000-stage chain). Added in version 3.
CREATE INDEX IF NOT EXISTS runs_running ON runs (id) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS executions (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  stage_id TEXT NOT NULL,
  key TEXT NOT NULL,
  kind TEXT NOT NULL,
  kind_version TEXT,
  kind_fingerprint TEXT,
  ingredients TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
  output_hash TEXT,
  output_bytes INTEGER,
  output_files INTEGER,
  host TEXT NOT NULL,
  pid INTEGER,
  executor TEXT NOT NULL,
  backend TEXT,
  annotations TEXT NOT NULL DEFAULT '{}',
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  duration_ms INTEGER,
  error TEXT,
  log_path TEXT,
  evicted INTEGER NOT NULL DEFAULT 0,
  profile TEXT NOT NULL DEFAULT '',
  forced INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_key ON executions (key, status);
CREATE INDEX IF NOT EXISTS executions_by_profile_stage ON executions (profile, stage_id, id);
CREATE TABLE IF NOT EXISTS stage_heads (
  profile TEXT NOT NULL DEFAULT '',
  stage_id TEXT NOT NULL,
  execution_id INTEGER NOT NULL REFERENCES executions(id),
  out_paths TEXT NOT NULL,
  materialized_at INTEGER NOT NULL,
  PRIMARY KEY (profile, stage_id)
);
CREATE TABLE IF NOT EXISTS file_hashes (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  hash TEXT NOT NULL,
  hashed_at_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY,
  execution_id INTEGER NOT NULL REFERENCES executions(id),
  stage_id TEXT NOT NULL,
  name TEXT NOT NULL,
  step INTEGER,
  value REAL NOT NULL,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_execution ON metrics (execution_id, name, step);
CREATE TABLE IF NOT EXISTS leases (
  stage_id TEXT PRIMARY KEY,
  key TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
`;

export interface OpenStateOptions {
  /** open without creating the file; used by read-only commands on a project that never ran */
  mustExist?: boolean;
}

/** Opens (creating if needed) the state database and brings its schema up to date. */
export function openStateDb(path: string, options: OpenStateOptions = {}): Db {
  // a fault on this database is reported with its path (src/engine/util/faults.ts)
  noteStateDbPath(path);
  if (!options.mustExist) mkdirSync(dirname(path), { recursive: true });
  const db = openDatabase(path, { fileMustExist: options.mustExist ?? false, timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a process crash (kill -9); only power loss can drop the last commits.
  db.pragma('synchronous = NORMAL');
  db.defaultSafeIntegers(false);
  ensureSchema(db);
  return db;
}

/**
 * For commands that only read (status, explain, metrics, logs): the database as openStateDb opens it where it can,
 * else — a read-only directory, file or mount, where SQLite cannot create the WAL's shared-memory file — read-only,
 * else an in-memory copy of the file. Writes such a command makes (the hash memo) then go nowhere.
 */
export function openStateDbForReading(path: string): Db {
  try {
    return openStateDb(path, { mustExist: true });
  } catch (err) {
    if (!cannotWrite(err)) throw err;
  }
  try {
    const db = openDatabase(path, { readonly: true, fileMustExist: true });
    try {
      ensureSchema(db);
      return db;
    } catch (err) {
      db.close();
      throw err;
    }
  } catch (err) {
    if (!cannotWrite(err)) throw err;
  }
  const bytes = readFileSync(path);
  // WAL mode (header bytes 18-19 = 2) needs a shared-memory file even in memory; a copy can be a rollback database
  if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes.fill(1, 18, 20);
  const db = openDatabase(bytes);
  ensureSchema(db);
  return db;
}

function cannotWrite(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM';
}

/** An empty in-memory database with the same schema, for read-only commands on a project that never ran. */
export function openEmptyStateDb(): Db {
  const db = openDatabase(':memory:');
  ensureSchema(db);
  return db;
}

function ensureSchema(db: Db): void {
  const hasMeta = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
  if (hasMeta) {
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as { value: string } | undefined;
    const version = row ? Number(row.value) : 0;
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `cache/state.db has schema version ${version}, newer than this wsflow understands (${SCHEMA_VERSION}); upgrade wsflow`,
      );
    }
    if (version === 1) {
      if (db.readonly) {
        throw new Error(`cache/state.db has schema version 1; run any writing wsflow command (run, gc) once to upgrade it to ${SCHEMA_VERSION}`);
      }
      db.transaction(() => migrateFrom1(db)).immediate();
    }
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
  }).immediate();
}

/**
 * Version 1 → 2: profiles became namespaces. An execution belongs to the profile of the run that recorded it
 * (`runs.profile`, NULL stored as ''); a head is keyed by (profile, stage id) and belongs to the profile of its
 * execution. Nothing is dropped: a head whose out paths moved (a profile's kind stages now materialise under
 * out/<profile>/) no longer matches its stage's layout, so the next run of that profile restores it to the new place
 * from the cache.
 */
function migrateFrom1(db: Db): void {
  db.exec(`
ALTER TABLE executions ADD COLUMN profile TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
UPDATE executions SET profile = COALESCE((SELECT r.profile FROM runs r WHERE r.id = executions.run_id), '');
DROP INDEX IF EXISTS executions_by_stage;
ALTER TABLE stage_heads RENAME TO stage_heads_v1;
CREATE TABLE stage_heads (
  profile TEXT NOT NULL DEFAULT '',
  stage_id TEXT NOT NULL,
  execution_id INTEGER NOT NULL REFERENCES executions(id),
  out_paths TEXT NOT NULL,
  materialized_at INTEGER NOT NULL,
  PRIMARY KEY (profile, stage_id)
);
INSERT INTO stage_heads (profile, stage_id, execution_id, out_paths, materialized_at)
  SELECT COALESCE(e.profile, ''), h.stage_id, h.execution_id, h.out_paths, h.materialized_at
  FROM stage_heads_v1 h LEFT JOIN executions e ON e.id = h.execution_id;
DROP TABLE stage_heads_v1;
`);
}
