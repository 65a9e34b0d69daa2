/**
 * PEFT's merge_and_unload + save_pretrained as a file operation: read a base model directory and a PEFT adapter
 * directory, write a new Hugging Face model directory whose weights have the adapter merged in.
 *
 * Works on the checkpoint one tensor at a time (no model is loaded): adapted modules are read, merged and
 * written; every other tensor is copied byte for byte. The output directory is built under a temporary name
 * beside it and renamed at the end, so a failure leaves nothing behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ensureBackend } from '../backend.js';
import { Checkpoint } from '../checkpoint.js';
import type { ModelDir } from '../model-dir.js';
import { readQwen3Config } from '../qwen3/config.js';
import { LINEAR_SUFFIXES } from '../qwen3/weights.js';
import { AttachedAdapter } from './attached-adapter.js';
import type { HookableModel, LinearHook } from './linear-hook.js';
import { encodeFloat32, writeSafetensorsStream } from './safetensors-stream.js';
import type { StreamDtype, StreamedTensor } from './safetensors-stream.js';

/** Output dtype of the merged tensors: "auto" keeps each tensor's checkpoint dtype (bf16 stays bf16). */
export type MergeDtype = 'auto' | 'F32' | 'BF16';

export interface MergeOptions {
  model: ModelDir;
  adapterDir: string;
  outDir: string;
  dtype?: MergeDtype;
  /** seed for pissa_niter_K adapters saved unconverted (their residual is random, as in PEFT) */
  seed?: number;
  onWarning?: (message: string) => void;
  onProgress?: (done: number, total: number, name: string) => void;
}

export interface MergeReport {
  outDir: string;
  adapterType: string;
  /** parameter names whose values changed */
  mergedParameters: string[];
  tensors: number;
  files: string[];
}

/** A HookableModel over a checkpoint on disk: weights read on demand, replacements kept in memory. */
class CheckpointWeights implements HookableModel {
  readonly #ck: Checkpoint;
  readonly #modules: string[];
  readonly #overrides = new Map<string, Float32Array>();

  constructor(ck: Checkpoint, numLayers: number) {
    this.#ck = ck;
    this.#modules = [];
    for (let l = 0; l < numLayers; l++) for (const s of LINEAR_SUFFIXES) this.#modules.push(`model.layers.${l}.${s}`);
  }

  linearModuleNames(): string[] {
    return [...this.#modules];
  }

  setLinearHook(_moduleName: string, _hook: LinearHook | null): void {
    // nothing runs forward here; the adapter only needs weights
  }

  parameterShape(name: string): number[] {
    const info = this.#ck.info(name);
    if (info === undefined) throw new Error(`the checkpoint has no tensor "${name}"`);
    return [...info.shape];
  }

  getParameter(name: string): tf.Tensor {
    const data = this.#overrides.get(name) ?? this.#ck.readFloat32(name);
    return tf.tensor(data, this.parameterShape(name), 'float32');
  }

  setParameter(name: string, t: tf.Tensor): tf.Tensor {
    const previous = this.getParameter(name);
    this.#overrides.set(name, (t.dataSync() as Float32Array).slice());
    return previous;
  }
}

function checkOutDir(outDir: string, sources: string[]): void {
  const abs = resolve(outDir);
  for (const s of sources) {
    if (resolve(s) === abs) throw new Error(`--out ${abs} is the same directory as an input (${s}); write the merged model elsewhere`);
  }
  if (existsSync(abs)) {
    if (!statSync(abs).isDirectory()) throw new Error(`--out ${abs} exists and is not a directory`);
    if (readdirSync(abs).length > 0) throw new Error(`--out ${abs} exists and is not empty; remove it or choose another directory`);
  }
}

/** Side files of a HF model directory that travel with the weights (tokenizer, chat template, generation defaults). */
const SIDE_FILE = /^(tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|added_tokens\.json|vocab\.json|merges\.txt|generation_config\.json|chat_template\.(jinja|json)|tokenizer\.model)$/;

/** Merge the adapter at `adapterDir` into the model and write a complete model directory at `outDir`. */
export async function mergeAdapterIntoModelDir(opts: MergeOptions): Promise<MergeReport> {
  const outDir = resolve(opts.outDir);
  checkOutDir(outDir, [opts.model.dir, opts.adapterDir]);
  const cfg = readQwen3Config(opts.model.dir);
  if (!cfg.ok) throw new Error(cfg.error);
  await ensureBackend();
  const dtypeChoice = opts.dtype ?? 'auto';
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${Date.now()}`);
  const ck = Checkpoint.openDir(opts.model.dir, opts.model.weightFiles, opts.model.indexFile);
  try {
    const weights = new CheckpointWeights(ck, cfg.value.numLayers);
    const adapter = await AttachedAdapter.loadAsync(weights, opts.adapterDir, {
      modelType: 'qwen3',
      seed: opts.seed ?? 0,
      ...(opts.onWarning !== undefined ? { onWarning: opts.onWarning } : {}),
    });
    const merged = new Map<string, Float32Array>();
    for await (const w of adapter.mergedWeightsAsync()) merged.set(w.name, w.data);
    const adapterType = adapter.type;
    adapter.detach();

    mkdirSync(tmp, { recursive: true });
    const names = ck.names();
    const tensors: StreamedTensor[] = [];
    let done = 0;
    for (const name of names) {
      const info = ck.info(name);
      if (info === undefined) throw new Error(`internal: ${name} vanished from the checkpoint`);
      const src = info.dtype;
      const replaced = merged.get(name);
      const isFloat = src === 'F32' || src === 'BF16' || src === 'F16' || src === 'F64';
      let dtype: StreamDtype;
      if (!isFloat) throw new Error(`${info.file}: tensor "${name}" has dtype ${src}; only float checkpoints can be merged`);
      if (dtypeChoice === 'auto') dtype = src === 'BF16' ? 'BF16' : src === 'F16' && replaced === undefined ? 'F16' : 'F32';
      else dtype = dtypeChoice;
      const copyRaw = replaced === undefined && (dtype === src || (dtype === 'F32' && src === 'F32'));
      tensors.push({
        name,
        dtype,
        shape: info.shape,
        bytes: () => {
          done++;
          opts.onProgress?.(done, names.length, name);
          if (copyRaw) return readRaw(ck, opts.model, name);
          const values = replaced ?? ck.readFloat32(name);
          if (dtype === 'F16') throw new Error(`internal: cannot re-encode ${name} as F16`);
          return encodeFloat32(values, dtype);
        },
      });
    }
    writeSafetensorsStream(join(tmp, 'model.safetensors'), tensors);

    // config.json with the dtype the file now holds; other files (tokenizer, generation config…) copied
    const rawConfig = JSON.parse(readFileSync(join(opts.model.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const dtypes = new Set(tensors.map((t) => t.dtype));
    const declared = dtypes.size === 1 && dtypes.has('BF16') ? 'bfloat16' : dtypes.size === 1 && dtypes.has('F16') ? 'float16' : 'float32';
    if ('dtype' in rawConfig) rawConfig['dtype'] = declared;
    else rawConfig['torch_dtype'] = declared;
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(rawConfig, null, 2)}\n`);
    const files = ['config.json', 'model.safetensors'];
    for (const entry of readdirSync(opts.model.dir)) {
      const p = join(opts.model.dir, entry);
      if (!SIDE_FILE.test(entry) || !statSync(p).isFile()) continue;
      copyFileSync(p, join(tmp, entry));
      files.push(entry);
    }
    if (existsSync(outDir)) rmSync(outDir, { recursive: true });
    renameSync(tmp, outDir);
    return { outDir, adapterType, mergedParameters: [...merged.keys()], tensors: names.length, files };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    ck.close();
  }
}

/** A tensor's stored bytes, unchanged. */
function readRaw(ck: Checkpoint, _model: ModelDir, name: string): Uint8Array {
  const info = ck.info(name);
  if (info === undefined) throw new Error(`internal: ${name} vanished from the checkpoint`);
  const values = ck.readFloat32(name);
  // F32 round-trips exactly through readFloat32; other stored dtypes are re-encoded losslessly below
  if (info.dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (info.dtype === 'BF16') return encodeFloat32(values, 'BF16');
  if (info.dtype === 'F16') return encodeF16Exact(values);
  throw new Error(`internal: raw copy of ${info.dtype} tensor ${name}`);
}

/** float32 values that came from F16 back to F16 bits (exact: they are representable). */
function encodeF16Exact(values: Float32Array): Uint8Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i] as number;
    const x = u[0] as number;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    let h: number;
    if (exp === 0xff) h = sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
    else if (exp === 0) h = sign;
    else {
      const e = exp - 127 + 15;
      if (e >= 0x1f) h = sign | 0x7c00;
      else if (e <= 0) h = sign | ((mant | 0x800000) >>> (14 - e)); // subnormal half (exact for values that came from F16)
      else h = sign | (e << 10) | (mant >>> 13);
    }
    out[i] = h;
  }
  return new Uint8Array(out.buffer);
}
