/**
 * The wsflow half of the GPU check (docs/gpu-check.md): on one backend, in one process,
 *   1. the tiny Qwen3's golden logits (test/fixtures/qwen3-tiny) — max |Δ| against the float64 reference;
 *   2. the forward of a random model of Qwen3-0.6B's shape (real tokenizer, full-vocab logits at every position)
 *      at 1 × 64 and 4 × 128 — median seconds, and the logits of the last repetition written as raw float32 so the
 *      PyTorch half can diff them on the same weights;
 *   3. one LoRA optimizer step at 4 × 512 with the study's settings (r 32, alpha 64, seven linears of blocks
 *      0.3–0.8 of the depth, AdamW, clip 1) — seconds of the second step (the first warms up), loss of the first.
 *
 *   node dist/bench/gpu/node-check.js --backend webgpu --model DIR --out DIR [--shape full|tiny] [--reps 3]
 *
 * The backend name goes to the core's initBackend unchanged (the same path as `--backend`/WSFLOW_BACKEND).
 * `--shape tiny` runs every step at a few-token shape on a 2-layer model so CPU machines can test the whole path.
 * Writes OUT/node.json and OUT/ids.json (the token ids both halves use) and OUT/logits-BxS.f32.
 * Every tensor read is asynchronous: tfjs-webgpu's synchronous reads need OffscreenCanvas, which Node lacks.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { enableGradients, initBackend, loadQwen3, loadTokenizer, writeTinyQwen3 } from '../../src/core/index.js';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { newAdapterConfig } from '../../src/core/adapters/adapter-config.js';
import { variablesByBlock } from '../../src/core/training/layered-backward.js';
import { trainAdapter } from '../../src/core/training/trainer.js';
import { CHECK_SHAPES, type CheckShape, LORA_SETTINGS, loraLayers, parseFlags, type ShapeName, TEXT } from './check-shapes.js';
import type { IdsFile, NodeCheckResult } from './check-result.js';

const USAGE = 'usage: node dist/bench/gpu/node-check.js --backend NAME --model DIR --out DIR [--shape full|tiny] [--reps N] [--goldens DIR]';

function fail(message: string): never {
  process.stderr.write(`gpu-check: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const flags = parseFlags(process.argv.slice(2), ['backend', 'model', 'out', 'shape', 'reps', 'goldens']);
if (!flags.ok) fail(flags.error);
const f = flags.value;
const backendName = f.get('backend') ?? fail('--backend is required');
const modelDir = resolve(f.get('model') ?? fail('--model is required'));
const outDir = resolve(f.get('out') ?? fail('--out is required'));
const shapeName = (f.get('shape') ?? 'full') as ShapeName;
if (!(shapeName in CHECK_SHAPES)) fail(`--shape must be full or tiny, got "${shapeName}"`);
const reps = Number(f.get('reps') ?? '3');
if (!Number.isInteger(reps) || reps < 1) fail(`--reps must be a positive integer, got "${f.get('reps')}"`);
const goldensDir = resolve(f.get('goldens') ?? 'test/fixtures/qwen3-tiny');
if (!existsSync(join(goldensDir, 'golden.json'))) fail(`${join(goldensDir, 'golden.json')} not found (--goldens)`);
const shape: CheckShape = CHECK_SHAPES[shapeName];

function log(line: string): void {
  process.stderr.write(`[node-check ${backendName}] ${line}\n`);
}

mkdirSync(outDir, { recursive: true });
await enableGradients();
const info = await initBackend(backendName);
log(`backend ${info.name}: ${info.detail}`);

// 1. goldens
interface GoldenSeq { input_ids: number[]; logits: number[][] }
const golden = JSON.parse(readFileSync(join(goldensDir, 'golden.json'), 'utf8')) as { tolerance: { logits_atol: number }; sequences: GoldenSeq[] };
const tinyModel = (await loadQwen3(goldensDir)).model;
let goldenMax = 0;
for (const s of golden.sequences) {
  const t = tinyModel.logits([s.input_ids], undefined, { positions: 'all' });
  const got = (await t.array())[0] ?? [];
  t.dispose();
  s.logits.forEach((row, i) => row.forEach((v, j) => { goldenMax = Math.max(goldenMax, Math.abs(v - (got[i]?.[j] ?? NaN))); }));
  if (Number.isNaN(goldenMax)) break;
}
tinyModel.dispose();
log(`goldens: max |Δlogit| ${goldenMax.toExponential(2)} (tolerance ${golden.tolerance.logits_atol})`);

// 2. the model of the check's shape: written once (seeded, so every run and both halves see the same weights)
if (!existsSync(join(modelDir, 'model.safetensors'))) {
  const t0 = performance.now();
  // BF16 storage halves the write (2.4 → 1.2 GB at full shape); both halves read it as float32
  writeTinyQwen3(modelDir, { seed: 0, ...shape.model, dtype: 'BF16' });
  log(`wrote the random ${shapeName} model to ${modelDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const tLoad = performance.now();
const { model } = await loadQwen3(modelDir);
const loadSeconds = (performance.now() - tLoad) / 1000;
const tok = loadTokenizer(modelDir);
const textIds = tok.encode(TEXT);
const idsOf = (batch: number, seq: number): number[][] =>
  Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, i) => textIds[(b * 7 + i) % textIds.length] as number));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const forward: NodeCheckResult['forward'] = [];
const idsFile: IdsFile = {
  forward: [],
  train: {
    batch: shape.train.batch, seq: shape.train.seq, ids: idsOf(shape.train.batch, shape.train.seq), maskedPrefix: Math.floor(shape.train.seq / 8),
    lora: { ...LORA_SETTINGS, layers: loraLayers(shape.model.numLayers) },
  },
};
for (const { batch, seq } of shape.forward) {
  const ids = idsOf(batch, seq);
  const times: number[] = [];
  let last: Float32Array | undefined;
  for (let r = 0; r <= reps; r++) {
    const start = performance.now();
    const t = model.logits(ids, undefined, { positions: 'all' });
    const data = (await t.data()) as Float32Array;
    t.dispose();
    if (r > 0) times.push((performance.now() - start) / 1000); // r = 0 warms up (shader compilation, allocation)
    last = data;
  }
  const file = `logits-${batch}x${seq}.f32`;
  if (last !== undefined) writeFileSync(join(outDir, file), Buffer.from(last.buffer, last.byteOffset, last.byteLength));
  const seconds = median(times);
  forward.push({ batch, seq, seconds, tokensPerSecond: (batch * seq) / seconds, logitsFile: file });
  idsFile.forward.push({ batch, seq, ids, logits: file });
  log(`forward ${batch}×${seq}: ${seconds.toFixed(4)} s (median of ${reps})`);
}

// 3. one LoRA step (the second of two: the first compiles and allocates)
const adapter = AttachedAdapter.create(model, newAdapterConfig('lora', { r: LORA_SETTINGS.r, alpha: LORA_SETTINGS.alpha, targetModules: LORA_SETTINGS.targetModules, layersToTransform: idsFile.train.lora.layers, baseModelNameOrPath: 'gpu-check' }), { modelType: 'qwen3', seed: 0 });
const vars = adapter.trainableVariables();
const { batch, seq } = shape.train;
const examples = idsFile.train.ids.map((inputIds) => ({ inputIds, maskedPrefix: idsFile.train.maskedPrefix }));
const result = await trainAdapter(model, vars, examples, [], {
  learningRate: 2e-4, weightDecay: 0.01, adamEpsilon: 1e-8, adamBeta1: 0.9, adamBeta2: 0.999, warmupSteps: 0, epochs: 1,
  maxSteps: 2, batchSize: batch, gradAccum: 1, microBatch: batch, maxGradNorm: 1, seed: 0, evalSteps: 0, padTokenId: 151643,
}, { onStep: (r) => log(`train step ${r.step}: ${r.seconds.toFixed(3)} s, loss ${r.loss.toFixed(5)}`) }, { byLayer: variablesByBlock(adapter.layers) });
const [first, second] = result.steps;
if (first === undefined || second === undefined) fail(`the training ran ${result.steps.length} step(s), expected 2`);

const out: NodeCheckResult = {
  half: 'wsflow',
  backend: info.name,
  detail: info.detail,
  shape: shapeName,
  model: shape.model,
  date: new Date().toISOString(),
  load1: loadavg()[0] ?? NaN,
  modelLoadSeconds: loadSeconds,
  goldens: { maxAbsDiff: goldenMax, tolerance: golden.tolerance.logits_atol, sequences: golden.sequences.length },
  forward,
  train: {
    batch, seq,
    seconds: second.seconds,
    tokensPerSecond: (batch * seq) / second.seconds,
    firstLoss: first.loss,
    trainableParameters: vars.reduce((a, v) => a + v.size, 0),
  },
};
writeFileSync(join(outDir, 'ids.json.tmp'), JSON.stringify(idsFile));
renameSync(join(outDir, 'ids.json.tmp'), join(outDir, 'ids.json'));
writeFileSync(join(outDir, 'node.json.tmp'), `${JSON.stringify(out, null, 2)}\n`);
renameSync(join(outDir, 'node.json.tmp'), join(outDir, 'node.json'));
log(`wrote ${join(outDir, 'node.json')}`);
tf.disposeVariables();
