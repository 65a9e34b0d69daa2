/**
 * Opening a project for an engine command: the state database, cache and hasher around a loaded pipeline.
 *
 * Read-only commands on a project that never ran get an in-memory database (nothing is created). `wsflow run`
 * plans first against whatever exists and only then creates cache/, so a planning error writes nothing.
 */
import { existsSync } from 'node:fs';
import type { Pipeline } from '../pipeline/types.js';
import { CacheStore } from './cas/cache-store.js';
import { FileHasher } from './keys/file-hasher.js';
import { cacheDirOf, stateDbPathOf, type EngineContext, type KindSource, type ResolvedKind } from './plan/engine-context.js';
import { openEmptyStateDb, openStateDb, openStateDbForReading, type Db } from './state/state-db.js';
import { StateStore } from './state/state-store.js';

export interface OpenProject {
  ctx: EngineContext;
  /** false when the project has no cache/state.db yet (the context then uses an in-memory database) */
  persistent: boolean;
  close(): void;
}

/** The kinds of a loaded pipeline with their module paths (for fingerprints and workers). */
export function kindsOfPipeline(pipeline: Pipeline): Map<string, ResolvedKind> {
  const kinds = new Map<string, ResolvedKind>();
  for (const [uses, kind] of pipeline.kinds) kinds.set(uses, { kind });
  for (const stage of pipeline.stages.values()) {
    if (stage.source.type !== 'kind' || !stage.source.modulePath) continue;
    const k = kinds.get(stage.source.uses);
    if (k && !k.modulePath) k.modulePath = stage.source.modulePath;
  }
  return kinds;
}

export function projectHasState(projectDir: string): boolean {
  return existsSync(stateDbPathOf(projectDir));
}

/**
 * The records of a project that has run at least once, for the commands that read them without a pipeline (logs,
 * metrics, gc); null when it never ran (nothing is created). `readOnly`: the command only reads, and works on a
 * read-only project. The caller closes it.
 */
export function openRecordedState(
  projectDir: string,
  options: { readOnly?: boolean; profile?: string | null } = {},
): { store: StateStore; close(): void } | null {
  if (!projectHasState(projectDir)) return null;
  const path = stateDbPathOf(projectDir);
  const db = options.readOnly ? openStateDbForReading(path) : openStateDb(path, { mustExist: true });
  return { store: new StateStore(db, options.profile ?? null), close: () => db.close() };
}

function contextFor(pipeline: Pipeline, source: Omit<KindSource, 'kinds'>, db: Db): EngineContext {
  return {
    pipeline,
    kinds: kindsOfPipeline(pipeline),
    ...(source.builtinKindsDir ? { builtinKindsDir: source.builtinKindsDir } : {}),
    ...(source.builtinRegistryModule ? { builtinRegistryModule: source.builtinRegistryModule } : {}),
    store: new StateStore(db, pipeline.profile),
    cache: new CacheStore(cacheDirOf(pipeline.projectDir)),
    hasher: new FileHasher(db),
  };
}

/** Opens the project's state if it exists, else an in-memory stand-in; never creates files. */
export function openProjectForReading(pipeline: Pipeline, source: Omit<KindSource, 'kinds'>): OpenProject {
  const persistent = projectHasState(pipeline.projectDir);
  const db = persistent ? openStateDbForReading(stateDbPathOf(pipeline.projectDir)) : openEmptyStateDb();
  return { ctx: contextFor(pipeline, source, db), persistent, close: () => db.close() };
}

/**
 * Turns a reading context into a writing one, creating cache/state.db if needed. File hashes computed while
 * planning against the in-memory stand-in are carried over, so a 1 GiB model is not hashed twice on a first run.
 */
export function openProjectForWriting(reading: OpenProject): OpenProject {
  const pipeline = reading.ctx.pipeline;
  const readDb = reading.ctx.store.db;
  if (reading.persistent && !readDb.readonly && !readDb.memory) return reading;
  if (reading.persistent) {
    // planning read a read-only database or a copy of it (a read-only project): writing needs the real one, and
    // opening it for writing reports the fault in one line
    const db = openStateDb(stateDbPathOf(pipeline.projectDir), { mustExist: true });
    reading.close();
    return { ctx: contextFor(pipeline, { ...reading.ctx }, db), persistent: true, close: () => db.close() };
  }
  const db = openStateDb(stateDbPathOf(pipeline.projectDir));
  const memo = reading.ctx.store.db.prepare('SELECT path, size, mtime_ns, ino, hash, hashed_at_ns FROM file_hashes').safeIntegers(true).all();
  const put = db.prepare(
    'INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, ino, hash, hashed_at_ns) VALUES (@path, @size, @mtime_ns, @ino, @hash, @hashed_at_ns)',
  );
  db.transaction(() => {
    for (const row of memo) put.run(row);
  })();
  reading.close();
  const ctx = contextFor(pipeline, { ...reading.ctx }, db);
  return { ctx, persistent: true, close: () => db.close() };
}
