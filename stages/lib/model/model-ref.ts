/**
 * `model-ref.json`: what a `model` stage hands downstream. It names the model the way pipeline.yaml did (a Hub id
 * and the snapshot revision it resolved to, a project-relative or absolute path, or the tiny model) and pins it by
 * a fingerprint of its files. It holds no machine-specific path: the same model under another $HF_HOME, on a
 * SLURM node or in another checkout gives a byte-identical model-ref.json, hence the same downstream keys.
 *
 * Each consuming stage resolves the directory on the machine it runs on (`modelDirOf`) and checks that its files
 * are the fingerprinted ones, so a model that changed or went missing since the model stage ran is a clear error
 * rather than numbers from other weights. Two layouts:
 * - `hf-cache` / `path`: the output holds only model-ref.json; the files stay where they are;
 * - `tiny`: the output directory IS the model directory (config.json, model.safetensors, tokenizer) as well.
 * `modelDirOf` also accepts a plain Hugging Face model directory (config.json, no model-ref.json), so a stage fed
 * by any model-producing stage works.
 * Cheap: no TensorFlow.js.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeModelDir, resolveModelDir, type ModelDir } from '../../../src/core/model-dir.js';
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { readJsonFile } from '../json-file.js';
import { oneInput } from '../stage-inputs.js';

export const MODEL_REF_FILE = 'model-ref.json';
export const MODEL_REF_SCHEMA = 'wsflow.model-ref/2';

export interface ModelRefFile {
  name: string;
  size: number;
  sha256: string;
}

export interface ModelRef {
  schema: typeof MODEL_REF_SCHEMA;
  /** 'hf-cache': a Hub id in the local Hugging Face cache; 'path': a directory; 'tiny': generated into the output */
  source: 'hf-cache' | 'path' | 'tiny';
  /** what pipeline.yaml named: the Hub id or the path as written (relative: to the project), or the tiny model's description */
  id: string;
  /** hf-cache: the snapshot (commit) the files were read from; consumers resolve exactly this one */
  revision: string | null;
  /** true for a randomly initialised model */
  random: boolean;
  /** sha256 over the files' names, sizes and sha256 */
  fingerprint: string;
  files: ModelRefFile[];
  num_layers: number;
  hidden_size: number;
}

/** A model input resolved to a loadable directory on this machine. */
export interface ResolvedModel {
  /** absolute directory holding config.json */
  dir: string;
  /** its files (config, weights, tokenizer), as found here */
  modelDir: Omit<ModelDir, 'source'>;
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

/*
 * Every consuming stage checks the fingerprint, and a worker runs many of them on the same weights: hash a file
 * once per process unless its size, mtime or inode changed (what the engine's own hash memo keys on).
 */
const hashMemo = new Map<string, { stamp: string; sha256: string }>();

function describeFile(path: string): ModelRefFile {
  const st = statSync(path);
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const memo = hashMemo.get(path);
  const sha256 = memo?.stamp === stamp ? memo.sha256 : sha256File(path);
  hashMemo.set(path, { stamp, sha256 });
  return { name: basename(path), size: st.size, sha256 };
}

export function describeFiles(paths: readonly string[]): ModelRefFile[] {
  return paths.map(describeFile);
}

export function fingerprintOf(files: readonly ModelRefFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${f.name}\0${f.size}\0${f.sha256}\n`);
  return h.digest('hex');
}

/** "Qwen/Qwen3-0.6B@main" → "Qwen/Qwen3-0.6B" */
export function hubRepoOf(id: string): string {
  const at = id.indexOf('@');
  return at < 0 ? id : id.slice(0, at);
}

function checkRef(raw: unknown, file: string): ModelRef {
  const o = raw as Partial<ModelRef> | null;
  if (o === null || typeof o !== 'object') throw new Error(`${file}: expected a JSON object`);
  if (o.schema !== MODEL_REF_SCHEMA) {
    throw new Error(`${file}: key "schema" is ${JSON.stringify(o.schema)}, expected "${MODEL_REF_SCHEMA}" (written by another wsflow version); rerun the model stage`);
  }
  if (o.source !== 'hf-cache' && o.source !== 'path' && o.source !== 'tiny') throw new Error(`${file}: key "source" must be "hf-cache", "path" or "tiny"`);
  for (const k of ['id', 'fingerprint'] as const) if (typeof o[k] !== 'string') throw new Error(`${file}: key "${k}" must be a string`);
  if (o.source === 'hf-cache' && typeof o.revision !== 'string') throw new Error(`${file}: key "revision" must name the snapshot of a Hub model`);
  if (typeof o.random !== 'boolean') throw new Error(`${file}: key "random" must be true or false`);
  if (!Array.isArray(o.files)) throw new Error(`${file}: key "files" must be a list of {name, size, sha256}`);
  return o as ModelRef;
}

/** Where the model of `ref` lives on this machine. */
function locate(ref: ModelRef, inputDir: string, projectDir: string, refFile: string): Omit<ModelDir, 'source'> {
  const found =
    ref.source === 'tiny'
      ? describeModelDir(inputDir)
      : ref.source === 'path'
        ? describeModelDir(resolve(projectDir, ref.id))
        : resolveModelDir(`${hubRepoOf(ref.id)}@${ref.revision as string}`);
  if (!found.ok) {
    const where = ref.source === 'path' ? ` (path "${ref.id}", relative to the project ${projectDir})` : ref.source === 'hf-cache' ? ` (snapshot ${ref.revision})` : '';
    throw new Error(`${refFile}: the model ${ref.id}${where} cannot be found on this machine: ${found.error}`);
  }
  return found.value;
}

/** Compare the files found with the fingerprinted ones; throw naming every difference. */
function verify(ref: ModelRef, md: Omit<ModelDir, 'source'>, refFile: string): void {
  const now = describeFiles(md.files);
  if (fingerprintOf(now) === ref.fingerprint) return;
  const was = new Map(ref.files.map((f) => [f.name, f]));
  const is = new Map(now.map((f) => [f.name, f]));
  const diffs: string[] = [];
  for (const [name, f] of was) {
    const g = is.get(name);
    if (g === undefined) diffs.push(`${name} is missing`);
    else if (g.sha256 !== f.sha256 || g.size !== f.size) diffs.push(`${name} changed (sha256 ${f.sha256.slice(0, 12)}… → ${g.sha256.slice(0, 12)}…)`);
  }
  for (const name of is.keys()) if (!was.has(name)) diffs.push(`${name} is new`);
  throw new Error(
    `${refFile}: the model ${ref.id} in ${md.dir} is not the one the model stage fingerprinted: ${diffs.join('; ') || 'fingerprint differs'}. ` +
      'Rerun the model stage (it fingerprints the files again) or restore the files it saw',
  );
}

/**
 * A model stage's output (or a plain model directory), resolved on this machine and checked against its
 * fingerprint. `projectDir` resolves a model given as a relative path.
 */
export function modelDirOf(inputDir: string, projectDir: string = process.cwd()): ResolvedModel {
  const refFile = join(inputDir, MODEL_REF_FILE);
  if (existsSync(refFile)) {
    const ref = checkRef(readJsonFile(refFile), refFile);
    const md = locate(ref, inputDir, projectDir, refFile);
    verify(ref, md, refFile);
    return { dir: md.dir, modelDir: md, ref };
  }
  if (existsSync(join(inputDir, 'config.json'))) {
    // a plain model directory from some other stage: fingerprint what it holds
    const md = describeModelDir(inputDir);
    if (!md.ok) throw new Error(md.error);
    const files = describeFiles(md.value.files);
    const cfg = readJsonFile<Record<string, unknown>>(join(inputDir, 'config.json'));
    return {
      dir: md.value.dir,
      modelDir: md.value,
      ref: {
        schema: MODEL_REF_SCHEMA,
        source: 'path',
        // not the path: it is a cache tree here, somewhere else on the next machine
        id: `model directory ${fingerprintOf(files).slice(0, 12)}`,
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
export function modelFromContext(ctx: Pick<StageContext, 'inputs' | 'stageId' | 'projectDir'>): ResolvedModel {
  return modelDirOf(oneInput(ctx, 'model', 'a stage with uses: model').dir, ctx.projectDir);
}
