/**
 * `model-ref.json`: what a `model` stage hands downstream. Both layouts carry it:
 * - resolved (`id`): the output holds only model-ref.json, whose `dir` is the absolute model directory;
 * - tiny: the output directory IS the model directory (config.json, model.safetensors, tokenizer) and `dir` is null.
 *
 * `modelDirOf(inputDir)` turns either into the directory to load. It also accepts a plain Hugging Face model
 * directory (config.json, no model-ref.json), so a stage fed by any model-producing stage works.
 * Cheap: no TensorFlow.js.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { StageContext } from '../../src/engine/stage-kind.js';

export const MODEL_REF_FILE = 'model-ref.json';
export const MODEL_REF_SCHEMA = 'wsflow.model-ref/1';

export interface ModelRefFile {
  name: string;
  size: number;
  sha256: string;
}

export interface ModelRef {
  schema: typeof MODEL_REF_SCHEMA;
  /** 'hf-cache' / 'path': resolved in place; 'tiny': generated into the stage's own output */
  source: 'hf-cache' | 'path' | 'tiny';
  /** what pipeline.yaml named: the Hub id or path, or a description of the tiny model */
  id: string;
  /** absolute model directory; null when the model files sit next to model-ref.json */
  dir: string | null;
  revision: string | null;
  /** true for a randomly initialised model */
  random: boolean;
  /** sha256 over the files' names, sizes and sha256 */
  fingerprint: string;
  files: ModelRefFile[];
  num_layers: number;
  hidden_size: number;
}

/** A model input resolved to a loadable directory. */
export interface ResolvedModel {
  /** absolute directory holding config.json */
  dir: string;
  ref: ModelRef;
}

export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function describeFiles(paths: readonly string[]): ModelRefFile[] {
  return paths.map((p) => ({ name: basename(p), size: statSync(p).size, sha256: sha256File(p) }));
}

export function fingerprintOf(files: readonly ModelRefFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${f.name}\0${f.size}\0${f.sha256}\n`);
  return h.digest('hex');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

function checkRef(raw: unknown, file: string): ModelRef {
  const o = raw as Partial<ModelRef> | null;
  if (o === null || typeof o !== 'object' || o.schema !== MODEL_REF_SCHEMA) throw new Error(`${file}: not a ${MODEL_REF_SCHEMA} file (key "schema")`);
  for (const k of ['id', 'fingerprint'] as const) if (typeof o[k] !== 'string') throw new Error(`${file}: key "${k}" must be a string`);
  if (o.dir !== null && typeof o.dir !== 'string') throw new Error(`${file}: key "dir" must be a string or null`);
  if (typeof o.random !== 'boolean') throw new Error(`${file}: key "random" must be true or false`);
  return o as ModelRef;
}

/** Read a model stage's output (or a plain model directory) and return the directory to load. */
export function modelDirOf(inputDir: string): ResolvedModel {
  const refFile = join(inputDir, MODEL_REF_FILE);
  if (existsSync(refFile)) {
    const ref = checkRef(readJson(refFile), refFile);
    const dir = ref.dir === null ? resolve(inputDir) : ref.dir;
    if (!existsSync(join(dir, 'config.json'))) {
      throw new Error(`${refFile} names the model directory ${dir}, which has no config.json any more (moved or deleted since the model stage ran); rerun the model stage`);
    }
    return { dir, ref };
  }
  if (existsSync(join(inputDir, 'config.json'))) {
    // a plain model directory from some other stage: fingerprint its config and weights
    const candidates = ['config.json', 'model.safetensors', 'model.safetensors.index.json'].map((f) => join(inputDir, f)).filter((p) => existsSync(p));
    const files = describeFiles(candidates);
    const cfg = readJson(join(inputDir, 'config.json')) as Record<string, unknown>;
    return {
      dir: resolve(inputDir),
      ref: {
        schema: MODEL_REF_SCHEMA,
        source: 'path',
        id: inputDir,
        dir: null,
        revision: null,
        random: false,
        fingerprint: fingerprintOf(files),
        files,
        num_layers: Number(cfg['num_hidden_layers']),
        hidden_size: Number(cfg['hidden_size']),
      },
    };
  }
  throw new Error(`${inputDir}: neither ${MODEL_REF_FILE} nor config.json; the "model" input must be a model stage (uses: model)`);
}

/** The stage's `model` input, resolved. */
export function modelFromContext(ctx: Pick<StageContext, 'inputs' | 'stageId'>): ResolvedModel {
  const ups = ctx.inputs['model'] ?? [];
  if (ups.length !== 1) throw new Error(`stage ${ctx.stageId}: expected exactly one "model" input (a stage with uses: model), got ${ups.length}`);
  return modelDirOf((ups[0] as { dir: string }).dir);
}
