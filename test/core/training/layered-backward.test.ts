/**
 * Block-by-block backpropagation gives the gradients of one full tape (every adapter type, on the tiny Qwen3,
 * adapters on some blocks only), and training with it follows the same loss curve; it leaks no tensor.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { ADAPTER_TYPES, newAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import type { AdapterType } from '../../../src/core/adapters/adapter-config.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { layeredLossAndGrads, variablesByBlock } from '../../../src/core/training/layered-backward.js';
import { maskedCrossEntropy } from '../../../src/core/training/masked-cross-entropy.js';
import { microBatch, trainAdapter } from '../../../src/core/training/trainer.js';
import type { TrainConfig } from '../../../src/core/training/trainer.js';
import { Rng } from '../../../src/core/random.js';
import { maxAbsDiff, TINY_MODEL, useBackend } from '../adapters/helpers.js';

let model: Qwen3Model;
before(async () => {
  await useBackend();
  await registerAllGradients();
  model = (await loadQwen3(TINY_MODEL)).model;
  // one warm-up step: first calls allocate lasting engine-level constants, which are not leaks
  const a = attach('lora');
  const mb = microBatch(examples, 0);
  const r = layeredLossAndGrads(model, mb.ids, mb.mask, { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(1) }, variablesByBlock(a.layers));
  for (const g of r.grads.values()) g.dispose();
  a.detach();
});

const rng = new Rng(5);
const examples = Array.from({ length: 3 }, (_, i) => {
  const ids = Array.from({ length: 9 + 3 * i }, () => 3 + rng.int(500));
  return { inputIds: ids, maskedPrefix: 4 };
});

function attach(type: AdapterType): AttachedAdapter {
  const opts = type === 'ia3' ? { targetModules: ['k_proj', 'v_proj', 'down_proj'], feedforwardModules: ['down_proj'] } : { targetModules: ['q_proj', 'v_proj', 'down_proj'], layersToTransform: [1], r: 4, alpha: 8, oftBlockSize: 8 };
  const a = AttachedAdapter.create(model, newAdapterConfig(type, opts), { modelType: 'qwen3', seed: 3 });
  // move away from the identity init so every gradient path is exercised
  const noise = new Rng(9);
  for (const v of a.trainableVariables()) {
    const cur = v.dataSync() as Float32Array;
    v.assign(tf.tensor(Float32Array.from(cur, (x) => x + 0.05 * noise.normal()), v.shape));
  }
  return a;
}

for (const type of ADAPTER_TYPES) {
  void test(`${type}: layered gradients equal the full-tape gradients`, () => {
    const adapter = attach(type);
    const before = tf.memory().numTensors;
    try {
      const mb = microBatch(examples, 0);
      const sel = { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(1 / mb.tokens) };
      const vars = adapter.trainableVariables();
      const full = tf.variableGrads(() => {
        const h = model.hiddenStates(mb.ids, mb.mask);
        return maskedCrossEntropy(tf.reshape(h, [h.shape[0] * h.shape[1], h.shape[2]]) as tf.Tensor2D, model.outputWeight(), sel);
      }, vars);
      const layered = layeredLossAndGrads(model, mb.ids, mb.mask, sel, variablesByBlock(adapter.layers));
      assert.ok(Math.abs(layered.loss - (full.value.dataSync()[0] as number)) < 1e-5, `${type}: loss ${layered.loss} vs ${full.value.dataSync()[0]}`);
      for (const v of vars) {
        const a = full.grads[v.name];
        const b = layered.grads.get(v);
        assert.ok(a !== undefined && b !== undefined, `${type}: missing gradient for ${v.name}`);
        const scale = Math.max(1e-3, ...Array.from(a.dataSync(), Math.abs));
        assert.ok(maxAbsDiff(a.dataSync(), b.dataSync()) <= 1e-4 * scale, `${type}: gradient of ${v.name} differs by ${maxAbsDiff(a.dataSync(), b.dataSync())} (scale ${scale})`);
      }
      full.value.dispose();
      tf.dispose(full.grads);
      for (const g of layered.grads.values()) g.dispose();
      assert.equal(tf.memory().numTensors, before, `${type}: tensors leaked`);
    } finally {
      adapter.detach();
    }
  });
}

for (const type of ADAPTER_TYPES) {
  void test(`${type}: keeping the frozen products for the recomputation gives the same bytes`, () => {
    const adapter = attach(type);
    const before = tf.memory().numTensors;
    try {
      const mb = microBatch(examples, 0);
      const sel = { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(1 / mb.tokens) };
      const byLayer = variablesByBlock(adapter.layers);
      const plain = layeredLossAndGrads(model, mb.ids, mb.mask, sel, byLayer);
      const kept = layeredLossAndGrads(model, mb.ids, mb.mask, sel, byLayer, { keepFrozenProducts: true });
      assert.equal(kept.loss, plain.loss);
      assert.equal(kept.grads.size, plain.grads.size);
      for (const [v, g] of plain.grads) {
        const k = kept.grads.get(v);
        assert.ok(k !== undefined, `${type}: missing gradient for ${v.name}`);
        assert.deepEqual(Buffer.from((k.dataSync() as Float32Array).buffer), Buffer.from((g.dataSync() as Float32Array).buffer), `${type}: gradient of ${v.name} differs`);
      }
      for (const g of [...plain.grads.values(), ...kept.grads.values()]) g.dispose();
      assert.equal(tf.memory().numTensors, before, `${type}: tensors leaked`);
    } finally {
      adapter.detach();
    }
  });
}

void test('training with layered backward follows the same loss curve', async () => {
  const cfg: TrainConfig = { learningRate: 1e-2, weightDecay: 0.01, adamEpsilon: 1e-8, adamBeta1: 0.9, adamBeta2: 0.999, warmupSteps: 0, epochs: 1, maxSteps: 3, batchSize: 2, gradAccum: 1, microBatch: 1, maxGradNorm: 1, seed: 0, evalSteps: 0, padTokenId: 0 };
  const run = async (layered: boolean): Promise<number[]> => {
    const adapter = attach('lora');
    try {
      const r = await trainAdapter(model, adapter.trainableVariables(), examples, [], cfg, {}, layered ? { byLayer: variablesByBlock(adapter.layers) } : {});
      return r.steps.map((s) => s.loss);
    } finally {
      adapter.detach();
    }
  };
  const plain = await run(false);
  const layered = await run(true);
  assert.equal(plain.length, 3);
  plain.forEach((l, i) => assert.ok(Math.abs(l - (layered[i] as number)) < 1e-4, `step ${i + 1}: ${l} vs ${layered[i]}`));
});
