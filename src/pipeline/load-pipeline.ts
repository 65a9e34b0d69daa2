/**
 * The loader's entry point: pipeline.yaml → a fully expanded, validated Pipeline, or every diagnostic found.
 *
 * This module stays light (no `yaml`, no ajv): when the load cache has an entry for these exact bytes, profile,
 * overrides and kinds, it answers from it; otherwise it imports the full loader.
 */
import { readFileSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import type { StageKind } from '../contract/stage-kind.js';
import { plainError } from './diagnostics.js';
import type { KindResolver } from './kind-resolver.js';
import { checkOutsOnDisk } from './project-paths.js';
import { cacheKey, decodeEntry, encodeEntry, kindFingerprint, pipelineFromEntry } from './load-cache.js';
import type { PipelineLoadCache } from './load-cache.js';
import type { Diagnostic, Pipeline } from './types.js';
import type { Result } from '../contract/result.js';

export interface LoadPipelineOptions {
  /** path of pipeline.yaml, absolute or relative to the process's cwd; diagnostics name the file exactly so */
  file: string;
  /** profile overlay to apply (`--profile`), null or absent for none */
  profile?: string | null;
  /** raw `-S key=value` strings, applied in order after the profile */
  overrides?: ReadonlyArray<string>;
  resolveKind: KindResolver;
  /** where loaded pipelines are kept between runs; absent: always load from scratch */
  cache?: PipelineLoadCache | null;
}

export async function loadPipeline(options: LoadPipelineOptions): Promise<Result<Pipeline, Diagnostic[]>> {
  const absoluteFile = path.resolve(options.file);
  const projectDir = path.dirname(absoluteFile);
  const profile = options.profile ?? null;
  const overrides = [...(options.overrides ?? [])];
  let text: string;
  try {
    // sync: one small file, and node:fs/promises would cost a few ms of every start
    text = readFileSync(absoluteFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    return { ok: false, error: [plainError(`cannot read ${options.file}: ${why}`)] };
  }

  const cache = options.cache ?? undefined;
  const key = cache ? cacheKey({ file: options.file, absoluteFile, text, profile, overrides }) : '';
  if (cache) {
    const hit = await fromCache(cache, key, options.resolveKind, projectDir);
    // the disk is checked on every load, cached or not: a symlink can appear after the entry was written
    if (hit) return onDisk(hit);
  }

  const { buildPipeline } = await import('./build-pipeline.js');
  const built = await buildPipeline({ file: options.file, absoluteFile, projectDir, text, profile, overrides, resolveKind: options.resolveKind });
  if (!built.ok) return built;
  if (cache) {
    const fingerprints = new Map<string, string>();
    for (const [uses, resolved] of built.value.resolvedKinds) fingerprints.set(uses, kindFingerprint(resolved.kind, resolved.modulePath));
    cache.set(key, encodeEntry(key, built.value.pipeline, fingerprints));
  }
  return onDisk(built.value.pipeline);
}

/** Outs that resolve (through symlinks) outside the project or onto wsflow's own files are planning errors. */
function onDisk(pipeline: Pipeline): Result<Pipeline, Diagnostic[]> {
  const outStats = new Map<string, BigIntStats>();
  const errors = checkOutsOnDisk(pipeline, outStats);
  return errors.length > 0 ? { ok: false, error: errors } : { ok: true, value: { ...pipeline, outStats } };
}

async function fromCache(cache: PipelineLoadCache, key: string, resolveKind: KindResolver, projectDir: string): Promise<Pipeline | undefined> {
  const text = cache.get(key);
  if (text === undefined) return undefined;
  const entry = decodeEntry(key, text);
  if (!entry) return undefined;
  const resolved = await Promise.all(entry.kinds.map(async ({ uses }) => resolveKind(uses, projectDir)));
  const kinds = new Map<string, StageKind>();
  for (const [i, { uses, fingerprint }] of entry.kinds.entries()) {
    const result = resolved[i];
    if (!result?.ok || kindFingerprint(result.value.kind, result.value.modulePath) !== fingerprint) return undefined;
    kinds.set(uses, result.value.kind);
  }
  return pipelineFromEntry(entry, kinds);
}
