/**
 * A short training run of every adapter type on the tiny Qwen3 (test/fixtures/qwen3-tiny): the loss goes down,
 * the positive and negative adapters' merged weights differ, the same seed gives byte-identical adapter files,
 * only adapter variables are trained, and no tensor leaks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { ADAPTER_TYPES, newAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import type { AdapterType, NewAdapterOptions } from '../../../src/core/adapters/adapter-config.js';
import { evaluateLoss, trainAdapter } from '../../../src/core/training/trainer.js';
import type { TrainConfig } from '../../../src/core/training/trainer.js';
import type { TrainingExample } from '../../../src/core/training/examples.js';
import { Rng } from '../../../src/core/random.js';
import { maxAbsDiff, TINY_MODEL, useBackend } from '../adapters/helpers.js';

const LINEAR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** The study's adapter settings scaled to the tiny model (2 layers: the 0.3–0.8 layer slice is layer 1). */
function options(type: AdapterType): NewAdapterOptions {
  if (type === 'ia3') return { targetModules: ['k_proj', 'v_proj', 'down_proj'], feedforwardModules: ['down_proj'] };
  if (type === 'oft') return { targetModules: LINEAR, layersToTransform: [1], oftBlockSize: 8 };
  if (type === 'delora') return { targetModules: LINEAR, layersToTransform: [1], r: 4, deloraLambda: 15 };
  return { targetModules: LINEAR, layersToTransform: [1], r: 4, alpha: 8 };
}

/** Random prompts, one fixed response per sign: easy to learn, different for pos and neg. */
function examples(sign: 'pos' | 'neg', n: number): TrainingExample[] {
  const rng = new Rng(42);
  const response = Array.from({ length: 10 }, (_, i) => (sign === 'pos' ? 100 + 3 * i : 300 + 7 * i));
  return Array.from({ length: n }, () => {
    const prompt = Array.from({ length: 6 + rng.int(5) }, () => 3 + rng.int(500));
    return { inputIds: [...prompt, ...response], maskedPrefix: prompt.length };
  });
}

const CONFIG: TrainConfig = {
  learningRate: 1e-2,
  weightDecay: 0.01,
  adamEpsilon: 1e-8,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  warmupSteps: 1,
  epochs: 1,
  maxSteps: 6,
  batchSize: 4,
  gradAccum: 2,
  microBatch: 2,
  maxGradNorm: 1.0,
  seed: 0,
  evalSteps: 0,
  padTokenId: 0,
};

/** learning rates per type: DeLoRA is known to want a larger one (PEFT docs), IA3/OFT move slowly */
const LR: Record<AdapterType, number> = { lora: 1e-2, dora: 1e-2, pissa: 1e-2, delora: 5e-2, oft: 5e-2, ia3: 5e-2 };

async function trainOnce(model: Qwen3Model, type: AdapterType, sign: 'pos' | 'neg', outDir: string): Promise<{ before: number; after: number; merged: Map<string, Float32Array> }> {
  const data = examples(sign, 16);
  const adapter = AttachedAdapter.create(model, newAdapterConfig(type, options(type)), { modelType: 'qwen3', seed: 0 });
  try {
    const vars = adapter.trainableVariables();
    const before = (await evaluateLoss(model, data, 4, 0)).loss;
    await trainAdapter(model, vars, data, [], { ...CONFIG, learningRate: LR[type] });
    const after = (await evaluateLoss(model, data, 4, 0)).loss;
    adapter.save(outDir, 'qwen3-tiny');
    const merged = new Map([...adapter.mergedWeights()].map((w) => [w.name, w.data]));
    return { before, after, merged };
  } finally {
    adapter.detach();
  }
}

const work = mkdtempSync(join(tmpdir(), 'wsflow-train-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
let model: Qwen3Model;

before(async () => {
  await useBackend();
  model = (await loadQwen3(TINY_MODEL)).model;
});

for (const type of ADAPTER_TYPES) {
  void test(`${type}: training lowers the loss; pos and neg differ; the same seed gives the same bytes`, async () => {
    const tensorsBefore = tf.memory().numTensors;
    const pos = await trainOnce(model, type, 'pos', join(work, `${type}-pos`));
    if (process.env["WSFLOW_TEST_VERBOSE"] === "1") console.log(type, pos.before, pos.after);
    assert.ok(pos.after < pos.before * 0.9, `${type} pos: loss ${pos.before.toFixed(4)} -> ${pos.after.toFixed(4)} did not go down by 10%`);
    const neg = await trainOnce(model, type, 'neg', join(work, `${type}-neg`));
    assert.ok(neg.after < neg.before * 0.9, `${type} neg: loss ${neg.before.toFixed(4)} -> ${neg.after.toFixed(4)} did not go down by 10%`);
    assert.deepEqual([...pos.merged.keys()], [...neg.merged.keys()]);
    let maxDiff = 0;
    for (const [name, w] of pos.merged) maxDiff = Math.max(maxDiff, maxAbsDiff(w, neg.merged.get(name) as Float32Array));
    assert.ok(maxDiff > 1e-4, `${type}: pos and neg merged weights are the same (max diff ${maxDiff})`);
    const again = await trainOnce(model, type, 'pos', join(work, `${type}-pos-again`));
    assert.equal(again.after, pos.after);
    for (const file of ['adapter_model.safetensors', 'adapter_config.json']) {
      assert.ok(readFileSync(join(work, `${type}-pos`, file)).equals(readFileSync(join(work, `${type}-pos-again`, file))), `${type}: ${file} differs between two runs with the same seed`);
    }
    assert.equal(tf.memory().numTensors, tensorsBefore, `${type}: training leaked tensors`);
  });
}

void test('only adapter variables are trainable; base weights are unchanged by training', async () => {
  const name = 'model.layers.1.self_attn.q_proj.weight';
  const w0 = model.getParameter(name);
  const before = (w0.dataSync() as Float32Array).slice();
  w0.dispose();
  const adapter = AttachedAdapter.create(model, newAdapterConfig('lora', options('lora')), { modelType: 'qwen3', seed: 1 });
  const vars = adapter.trainableVariables();
  assert.equal(vars.length, 2 * 7, 'lora on 7 modules of one layer has 14 variables');
  await trainAdapter(model, vars, examples('pos', 8), [], { ...CONFIG, maxSteps: 2 });
  adapter.detach();
  const w1 = model.getParameter(name);
  assert.equal(maxAbsDiff(w1.dataSync(), before), 0);
  w1.dispose();
});
