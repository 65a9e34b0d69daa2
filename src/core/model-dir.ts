/**
 * Where a model lives: a local directory, or a Hub id looked up in the local Hugging Face cache
 * (`models--ORG--NAME/snapshots/REV`, the layout huggingface_hub writes). Nothing is ever downloaded.
 *
 * Cheap and synchronous, with no TensorFlow.js import: stage kinds call `resolveModelDir` at planning time
 * (`externalInputs`) so that the model's files become part of a stage's key.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { err, ok, type Result } from '../contract/result.js';

export interface ModelDir {
  /** absolute path of the directory holding config.json */
  dir: string;
  /** absolute paths of every file the model is made of: config, weights (all shards), tokenizer and generation files present */
  files: string[];
  /** the weight files (one, or the shards in index order) */
  weightFiles: string[];
  /** the shard index, when the checkpoint is sharded */
  indexFile: string | null;
  source: 'path' | 'hf-cache';
  /** for hf-cache: the Hub id and the snapshot revision */
  hubId?: string;
  revision?: string;
}

export interface ResolveOptions {
  /** directory relative paths are resolved against (default: process.cwd()) */
  baseDir?: string;
  /** environment to read HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME from (default: process.env) */
  env?: Readonly<Record<string, string | undefined>>;
}

const OPTIONAL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt'];
const HUB_ID = /^([A-Za-z0-9][\w.-]*)\/([\w.-]+)(?:@([\w./-]+))?$/;

/** The Hugging Face hub cache directory, resolved the way huggingface_hub does. */
export function hfHubCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const nonEmpty = (v: string | undefined): v is string => v !== undefined && v !== '';
  if (nonEmpty(env['HF_HUB_CACHE'])) return env['HF_HUB_CACHE'];
  if (nonEmpty(env['HUGGINGFACE_HUB_CACHE'])) return env['HUGGINGFACE_HUB_CACHE'];
  if (nonEmpty(env['HF_HOME'])) return join(env['HF_HOME'], 'hub');
  const xdg = nonEmpty(env['XDG_CACHE_HOME']) ? env['XDG_CACHE_HOME'] : join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Check that DIR holds a loadable checkpoint and list its files. */
export function describeModelDir(dir: string): Result<Omit<ModelDir, 'source'>, string> {
  const abs = resolve(dir);
  if (!isDir(abs)) return err(`${abs} is not a directory`);
  const config = join(abs, 'config.json');
  if (!isFile(config)) return err(`${abs} has no config.json (not a Hugging Face model directory)`);
  const single = join(abs, 'model.safetensors');
  const index = join(abs, 'model.safetensors.index.json');
  let weightFiles: string[];
  let indexFile: string | null = null;
  if (isFile(index)) {
    indexFile = index;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      return err(`${index}: not valid JSON: ${(e as Error).message}`);
    }
    const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) return err(`${index}: "weight_map" must be an object of tensor name -> shard file`);
    const shards: string[] = [];
    for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
        return err(`${index}: "weight_map" entry for tensor "${name}" must be a shard file name in the same directory, got ${JSON.stringify(shard)}`);
      }
      if (!shards.includes(shard)) shards.push(shard);
    }
    weightFiles = [];
    for (const shard of shards) {
      const p = join(abs, shard);
      if (!isFile(p)) return err(`${index} names shard ${shard}, which is missing from ${abs} (incomplete download?)`);
      weightFiles.push(p);
    }
  } else if (isFile(single)) {
    weightFiles = [single];
  } else {
    const other = ['pytorch_model.bin', 'model.bin', 'pytorch_model.bin.index.json'].filter((f) => existsSync(join(abs, f)));
    const hint = other.length > 0 ? ` (found ${other.join(', ')}: only safetensors checkpoints are supported; convert with transformers' save_pretrained(safe_serialization=True))` : '';
    return err(`${abs} has no model.safetensors or model.safetensors.index.json${hint}`);
  }
  const files = [config, ...(indexFile !== null ? [indexFile] : []), ...weightFiles];
  for (const f of OPTIONAL_FILES) {
    const p = join(abs, f);
    if (isFile(p)) files.push(p);
  }
  return ok({ dir: abs, files, weightFiles, indexFile });
}

function howToGet(id: string): string {
  return `get it with \`hf download ${id}\` (or \`huggingface-cli download ${id}\`) on a machine with internet access and copy the cache, or pass a local model directory`;
}

function resolveHubId(id: string, repo: string, revision: string | undefined, env: Readonly<Record<string, string | undefined>>): Result<ModelDir, string> {
  const cache = hfHubCacheDir(env);
  const [org, name] = repo.split('/') as [string, string];
  const repoDir = join(cache, `models--${org}--${name}`);
  if (!isDir(repoDir)) {
    return err(`model "${id}" is not a local directory and is not in the Hugging Face cache (looked for ${repoDir}; cache from HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub); ${howToGet(repo)}`);
  }
  const snapshots = join(repoDir, 'snapshots');
  let rev: string | undefined;
  const ref = revision ?? 'main';
  const refFile = join(repoDir, 'refs', ref);
  if (isFile(refFile)) rev = readFileSync(refFile, 'utf8').trim();
  else if (revision !== undefined && isDir(join(snapshots, revision))) rev = revision;
  else if (revision === undefined && isDir(snapshots)) {
    const revs = readdirSync(snapshots).filter((r) => isDir(join(snapshots, r)));
    if (revs.length === 1) rev = revs[0];
    else if (revs.length > 1) {
      return err(`model "${id}": ${repoDir} has no refs/main and ${revs.length} snapshots (${revs.join(', ')}); name one with "${repo}@REVISION"`);
    }
  }
  if (rev === undefined) {
    return err(`model "${id}": revision "${ref}" not found in ${repoDir} (no refs/${ref} and no snapshots/${ref}); ${howToGet(repo)}`);
  }
  const snap = join(snapshots, rev);
  if (!isDir(snap)) return err(`model "${id}": ${refFile} points to snapshot ${rev}, which is missing from ${snapshots}; ${howToGet(repo)}`);
  const d = describeModelDir(snap);
  if (!d.ok) return err(`model "${id}" in the Hugging Face cache is incomplete: ${d.error}; ${howToGet(repo)}`);
  return ok({ ...d.value, source: 'hf-cache', hubId: repo, revision: rev });
}

/**
 * Resolve a model reference: an existing directory (absolute, or relative to `baseDir`), else a Hub id
 * `ORG/NAME[@REVISION]` in the local Hugging Face cache. The error says where it looked and how to get the model.
 */
export function resolveModelDir(idOrPath: string, options: ResolveOptions = {}): Result<ModelDir, string> {
  if (idOrPath.trim() === '') return err('model reference is empty: give a model directory or a Hub id such as Qwen/Qwen3-0.6B');
  const base = options.baseDir ?? process.cwd();
  const asPath = isAbsolute(idOrPath) ? idOrPath : resolve(base, idOrPath);
  if (existsSync(asPath)) {
    const d = describeModelDir(asPath);
    return d.ok ? ok({ ...d.value, source: 'path' }) : d;
  }
  const m = HUB_ID.exec(idOrPath);
  if (m === null || isAbsolute(idOrPath) || idOrPath.startsWith('.')) {
    return err(`model directory ${asPath} does not exist (and "${idOrPath}" is not a Hub id of the form ORG/NAME)`);
  }
  return resolveHubId(idOrPath, `${m[1]}/${m[2]}`, m[3], options.env ?? process.env);
}
