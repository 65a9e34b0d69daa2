/**
 * Running stage kinds directly in a test: params validated with the loader's own ajv setup (defaults applied),
 * a StageContext over temp directories that records metrics, annotations and logs, and the shared fixtures
 * (a tiny model, the synthetic dilemmas) built once per test process through the real kinds.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalInputsOf, type StageContext, type StageKind, type UpstreamOutput } from '../../src/contract/stage-kind.js';
import { kindParamsValidator } from '../../src/pipeline/validate-kind-params.js';
import { builtinKinds } from '../../stages/index.js';
import { parseCsv } from '../../stages/lib/csv.js';

/** repo root, from dist/test/stages/ */
import { REPO_ROOT } from '../helpers/repo-root.js';
export { REPO_ROOT };

export interface RecordedContext extends StageContext {
  metrics: Map<string, number>;
  annotations: Map<string, string | number | boolean>;
  logs: string[];
}

export function kind(name: string): StageKind {
  const k = builtinKinds.get(name);
  assert.ok(k, `no built-in kind ${name}`);
  return k;
}

/** Validate `with:` as the pipeline loader does (defaults filled); throws with ajv's messages. */
export function validParams(k: StageKind, raw: Record<string, unknown>): Record<string, unknown> {
  const v = kindParamsValidator(k);
  if (!v.ok) throw new Error(v.error);
  const copy = structuredClone(raw);
  if (!v.value(copy)) throw new Error(`invalid params for ${k.name}: ${JSON.stringify(v.value.errors)}`);
  return copy;
}

const roots: string[] = [];
export function tempDir(prefix = 'wsflow-stages-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of roots.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function upstream(stageId: string, dir: string, matrix: Record<string, string | number | boolean> = {}): UpstreamOutput {
  return { stageId, dir, matrix };
}

export interface RunOptions {
  stageId?: string;
  params?: Record<string, unknown>;
  inputs?: Record<string, UpstreamOutput[]>;
  matrix?: Record<string, string | number | boolean>;
  projectDir?: string;
  signal?: AbortSignal;
}

/** Run a kind end to end into a fresh output directory; returns the context (metrics, logs) and the directory. */
export async function runKind(name: string, o: RunOptions = {}): Promise<RecordedContext> {
  const k = kind(name);
  const params = validParams(k, o.params ?? {});
  const projectDir = o.projectDir ?? REPO_ROOT;
  const ext = externalInputsOf(k, params, { projectDir });
  if (!ext.ok) throw new Error(`externalInputs: ${ext.error.message}`);
  const outDir = join(tempDir(), 'out');
  mkdirSync(outDir);
  const metrics = new Map<string, number>();
  const annotations = new Map<string, string | number | boolean>();
  const logs: string[] = [];
  const ctx: RecordedContext = {
    stageId: o.stageId ?? name,
    matrix: o.matrix ?? {},
    params,
    inputs: o.inputs ?? {},
    outDir,
    projectDir,
    signal: o.signal ?? new AbortController().signal,
    progress: () => undefined,
    log: (m) => logs.push(m),
    metric: (n, v) => metrics.set(n, v),
    annotate: (key, v) => annotations.set(key, v),
    metrics,
    annotations,
    logs,
  };
  const impl = await k.load();
  await impl.run(ctx);
  return ctx;
}

/** A CSV written by a stage: header and rows as strings. */
export function readCsv(file: string): { header: string[]; rows: Record<string, string>[] } {
  const raw = parseCsv(readFileSync(file, 'utf8'), file);
  return { header: raw.header, rows: raw.records.map((r) => Object.fromEntries(raw.header.map((h, i) => [h, r[i] ?? '']))) };
}

let tinyModel: Promise<RecordedContext> | undefined;
/** The tiny random Qwen3 (2 layers, hidden 32) from the real model kind, built once per process. */
export function tinyModelStage(): Promise<RecordedContext> {
  tinyModel ??= runKind('model', { stageId: 'model', params: { tiny: { seed: 0, layers: 4, hidden_size: 32, intermediate_size: 64, heads: 2, kv_heads: 1, head_dim: 16 } } });
  return tinyModel;
}

let dilemmas: Promise<RecordedContext> | undefined;
/** The shipped synthetic dilemmas, first 6 dilemmas (12 rows), through the real dilemmas kind. */
export function syntheticDilemmasStage(): Promise<RecordedContext> {
  dilemmas ??= runKind('dilemmas', { stageId: 'dilemmas', params: { dataset: { path: 'data/synthetic-dilemmas' }, n_dilemmas: 6 } });
  return dilemmas;
}

/**
 * A trained-looking PEFT adapter directory without training: the adapter's fresh parameters are perturbed with
 * seeded noise (so B ≠ 0 and the merge changes weights), then saved as a train stage would.
 */
export async function writePerturbedAdapter(modelDir: string, outDir: string, type: 'lora' | 'dora' | 'pissa' | 'delora' | 'oft' | 'ia3', seed: number, scale = 0.05): Promise<string> {
  const tf = await import('@tensorflow/tfjs-core');
  const { loadResolvedModel } = await import('../../stages/lib/model/load-model.js');
  const { modelDirOf } = await import('../../stages/lib/model/model-ref.js');
  const { AttachedAdapter } = await import('../../src/core/adapters/attached-adapter.js');
  const { newAdapterConfig } = await import('../../src/core/adapters/adapter-config.js');
  const { Rng } = await import('../../src/core/random.js');
  const loaded = await loadResolvedModel(modelDirOf(modelDir));
  const numLayers = loaded.model.numLayers;
  const layers = Array.from({ length: numLayers }, (_, i) => i).filter((l) => l >= Math.round(0.3 * numLayers) && l < Math.round(0.8 * numLayers));
  const linear = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  const config =
    type === 'ia3'
      ? newAdapterConfig('ia3', { targetModules: ['k_proj', 'v_proj', 'down_proj'], feedforwardModules: ['down_proj'] })
      : newAdapterConfig(type, { r: 4, alpha: 8, oftBlockSize: 8, targetModules: linear, layersToTransform: layers });
  const att = AttachedAdapter.create(loaded.model, config, { modelType: 'qwen3', seed: 0 });
  const rng = new Rng(seed);
  for (const v of att.trainableVariables()) {
    const cur = v.dataSync() as Float32Array;
    const noise = rng.normalArray(cur.length);
    v.assign(tf.tensor(Float32Array.from(cur, (x, i) => x + scale * (noise[i] as number)), v.shape));
  }
  att.save(outDir, null);
  att.detach();
  return outDir;
}
