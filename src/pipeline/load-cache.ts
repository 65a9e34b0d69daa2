/**
 * A cache of fully loaded pipelines, so that `wsflow status` on a 1000-stage pipeline does not parse YAML and
 * compile schemas at every start (`yaml` alone needs ~0.2 s for 100 kB here). An entry is keyed by everything
 * the load depends on — the file's bytes, profile, overrides, the loader's own code — and records the stage
 * kinds it validated against, which are re-resolved and compared before the entry is trusted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunFacts, StageKind } from '../contract/stage-kind.js';
import type { Diagnostic, ExecutorSettings, Pipeline, PlannedStage } from './types.js';

/** Where loaded pipelines are kept between processes. Implementations must tolerate concurrent use. */
export interface PipelineLoadCache {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

const FORMAT = 1;

let loaderStamp: string | undefined;

/** Changes whenever the loader's compiled code or the shipped schema changes (a stale loader must not answer). */
function stampOfLoader(): string {
  if (loaderStamp === undefined) {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    const parts: string[] = [];
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.js')) continue;
      const info = statSync(path.join(dir, name));
      parts.push(`${name}:${info.size}:${info.mtimeMs}`);
    }
    const schema = statSync(new URL('../../../schema/pipeline.schema.json', import.meta.url));
    parts.push(`schema:${schema.size}:${schema.mtimeMs}`);
    loaderStamp = parts.join('|');
  }
  return loaderStamp;
}

export interface LoadKey {
  file: string;
  absoluteFile: string;
  text: string;
  profile: string | null;
  overrides: readonly string[];
}

export function cacheKey(key: LoadKey): string {
  const textHash = createHash('sha256').update(key.text).digest('hex');
  return JSON.stringify([FORMAT, stampOfLoader(), key.file, key.absoluteFile, textHash, key.profile, key.overrides]);
}

/** What a kind contributes to a load: if any of it changes, `with:` must be validated again. */
export function kindFingerprint(kind: StageKind, modulePath: string | undefined): string {
  return JSON.stringify([kind.name, kind.version, kind.paramsSchema, kind.inputs, kind.resources, modulePath ?? null]);
}

interface CachedPipeline {
  file: string;
  projectDir: string;
  profile: string | null;
  params: Record<string, unknown>;
  origin?: RunFacts;
  stages: PlannedStage[];
  order: string[];
  warnings: Diagnostic[];
  executors?: ExecutorSettings;
}

export interface CacheEntry {
  key: string;
  kinds: { uses: string; fingerprint: string }[];
  pipeline: CachedPipeline;
}

export function encodeEntry(key: string, pipeline: Pipeline, fingerprints: ReadonlyMap<string, string>): string {
  const entry: CacheEntry = {
    key,
    kinds: [...fingerprints].map(([uses, fingerprint]) => ({ uses, fingerprint })),
    pipeline: {
      file: pipeline.file,
      projectDir: pipeline.projectDir,
      profile: pipeline.profile,
      params: pipeline.params as Record<string, unknown>,
      ...(pipeline.origin ? { origin: pipeline.origin } : {}),
      stages: [...pipeline.stages.values()],
      order: [...pipeline.order],
      warnings: [...pipeline.warnings],
      ...(pipeline.executors ? { executors: pipeline.executors } : {}),
    },
  };
  return JSON.stringify(entry);
}

/** Parses an entry; undefined when it is damaged or for another key. */
export function decodeEntry(key: string, text: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(text) as CacheEntry;
    if (entry.key !== key || !Array.isArray(entry.kinds) || !Array.isArray(entry.pipeline.stages)) return undefined;
    return entry;
  } catch {
    return undefined;
  }
}

export function pipelineFromEntry(entry: CacheEntry, kinds: ReadonlyMap<string, StageKind>): Pipeline {
  const p = entry.pipeline;
  return {
    file: p.file,
    projectDir: p.projectDir,
    profile: p.profile,
    params: p.params,
    ...(p.origin ? { origin: p.origin } : {}),
    stages: new Map(p.stages.map((s) => [s.id, s])),
    order: p.order,
    kinds,
    warnings: p.warnings,
    ...(p.executors ? { executors: p.executors } : {}),
  };
}

/**
 * A cache of one file per key in `dir` (e.g. `.wsflow/pipeline-cache`), written temp-then-rename so readers
 * never see half an entry; the oldest entries beyond `maxEntries` are removed. Failures only cost a cache miss.
 */
export function directoryLoadCache(dir: string, maxEntries = 16): PipelineLoadCache {
  const fileFor = (key: string): string => path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  return {
    get(key) {
      try {
        return readFileSync(fileFor(key), 'utf8');
      } catch {
        return undefined;
      }
    },
    set(key, value) {
      try {
        mkdirSync(dir, { recursive: true });
        const target = fileFor(key);
        const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
        writeFileSync(temp, value);
        renameSync(temp, target);
        const entries = readdirSync(dir).filter((n) => n.endsWith('.json'));
        if (entries.length <= maxEntries) return;
        const byAge = entries
          .map((name) => ({ name, mtime: statSync(path.join(dir, name)).mtimeMs }))
          .sort((a, b) => a.mtime - b.mtime);
        for (const old of byAge.slice(0, entries.length - maxEntries)) unlinkSync(path.join(dir, old.name));
      } catch {
        // a cache that cannot be written is only slower
      }
    },
  };
}
