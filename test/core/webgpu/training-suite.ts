/**
 * Training on webgpu against cpu on the tiny Qwen3: every adapter type's loss and gradients for one micro-batch
 * (through the whole-model backward and the layered one), and one optimizer step of trainAdapter. The cpu
 * numbers are computed first and read back, then the same is done on webgpu.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/core/backend.js';
import { loadQwen3 } from '../../../src/core/qwen3/load.js';
import { AttachedAdapter } from '../../../src/core/adapters/attached-adapter.js';
import { ADAPTER_TYPES, newAdapterConfig } from '../../../src/core/adapters/adapter-config.js';
import type { AdapterType, NewAdapterOptions } from '../../../src/core/adapters/adapter-config.js';
import { registerAllGradients } from '../../../src/core/native/register-gradients.js';
import { maskedCrossEntropy } from '../../../src/core/training/masked-cross-entropy.js';
import { layeredLossAndGradsAsync, variablesByBlock } from '../../../src/core/training/layered-backward.js';
import { microBatch, trainAdapter } from '../../../src/core/training/trainer.js';
import type { TrainConfig } from '../../../src/core/training/trainer.js';
import type { TrainingExample } from '../../../src/core/training/examples.js';
import { Rng } from '../../../src/core/random.js';
import { maxAbsDiff, TINY_MODEL } from '../adapters/helpers.js';
import { take } from './helpers.js';

/** as test/core/adapters (logits_atol of the golden fixtures) */
const ATOL = 1e-4;
const LINEAR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** Non-zero initialisations everywhere, so that every variable has a gradient worth comparing. */
function options(type: AdapterType): NewAdapterOptions {
  if (type === 'ia3') return { targetModules: ['k_proj', 'v_proj', 'down_proj'], feedforwardModules: ['down_proj'] };
  if (type === 'oft') return { targetModules: LINEAR, layersToTransform: [1], oftBlockSize: 8 };
  if (type === 'delora') return { targetModules: LINEAR, layersToTransform: [1], r: 4, deloraLambda: 15 };
  return { targetModules: LINEAR, layersToTransform: [0, 1], r: 4, alpha: 8 };
}

function examples(n: number): TrainingExample[] {
  const rng = new Rng(11);
  return Array.from({ length: n }, (_, k) => {
    const prompt = Array.from({ length: 4 + rng.int(4) }, () => 3 + rng.int(500));
    const response = Array.from({ length: 3 + k }, () => 3 + rng.int(500));
    return { inputIds: [...prompt, ...response], maskedPrefix: prompt.length };
  });
}

interface Measured {
  loss: number;
  grads: Float32Array[];
  layeredLoss: number;
  layeredGrads: Float32Array[];
}

async function measure(backend: string): Promise<Map<AdapterType, Measured>> {
  await initBackend(backend);
  await registerAllGradients();
  const { model } = await loadQwen3(TINY_MODEL);
  const out = new Map<AdapterType, Measured>();
  try {
    const mb = microBatch(examples(2), 0);
    const sel = { rows: mb.rows, targets: mb.targets, weights: new Float32Array(mb.tokens).fill(1 / mb.tokens) };
    for (const type of ADAPTER_TYPES) {
      const cfg = newAdapterConfig(type, options(type));
      const adapter = await AttachedAdapter.createAsync(model, cfg, { modelType: 'qwen3', seed: 5 });
      try {
        // move away from the identity initialisations (zero B, zero R, …): gradients of every variable count
        for (const v of adapter.trainableVariables()) v.assign(tf.tidy(() => tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 9), 0.05))));
        const vars = adapter.trainableVariables();
        const { value, grads } = tf.variableGrads(() => {
          const h = model.hiddenStates(mb.ids, mb.mask);
          const [B, S, E] = h.shape;
          return maskedCrossEntropy(tf.reshape(h, [B * S, E]) as tf.Tensor2D, model.outputWeight(), sel);
        }, vars);
        const loss = (await take(value))[0] as number;
        const g: Float32Array[] = [];
        for (const v of vars) g.push(await take(grads[v.name] as tf.Tensor));
        const layered = await layeredLossAndGradsAsync(model, mb.ids, mb.mask, sel, variablesByBlock(adapter.layers));
        const lg: Float32Array[] = [];
        for (const v of vars) lg.push(await take(layered.grads.get(v) as tf.Tensor));
        out.set(type, { loss, grads: g, layeredLoss: layered.loss, layeredGrads: lg });
      } finally {
        adapter.detach();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

const CONFIG: TrainConfig = {
  learningRate: 1e-2,
  weightDecay: 0.01,
  adamEpsilon: 1e-8,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  warmupSteps: 0,
  epochs: 1,
  maxSteps: 1,
  batchSize: 4,
  gradAccum: 1,
  microBatch: 2,
  maxGradNorm: 1.0,
  seed: 0,
  evalSteps: 0,
  padTokenId: 0,
};

/** One optimizer step of LoRA (whole-model and layered backward): the step record and the trained variables. */
async function oneStep(backend: string): Promise<{ loss: number; gradNorm: number; vars: Float32Array[] }[]> {
  await initBackend(backend);
  const { model } = await loadQwen3(TINY_MODEL);
  const out: { loss: number; gradNorm: number; vars: Float32Array[] }[] = [];
  try {
    for (const layered of [false, true]) {
      const adapter = await AttachedAdapter.createAsync(model, newAdapterConfig('lora', options('lora')), { modelType: 'qwen3', seed: 1 });
      try {
        const r = await trainAdapter(model, adapter.trainableVariables(), examples(4), [], CONFIG, {}, layered ? { byLayer: variablesByBlock(adapter.layers) } : {});
        const step = r.steps[0];
        assert.ok(step !== undefined);
        const vars: Float32Array[] = [];
        for (const v of adapter.trainableVariables()) vars.push(Float32Array.from((await v.data()) as Float32Array));
        out.push({ loss: step.loss, gradNorm: step.gradNorm, vars });
      } finally {
        adapter.detach();
      }
    }
  } finally {
    model.dispose();
  }
  return out;
}

export async function trainingSuite(t: TestContext): Promise<void> {
  const cpu = await measure('cpu');
  const cpuStep = await oneStep('cpu');
  const gpu = await measure('webgpu');
  const gpuStep = await oneStep('webgpu');

  for (const type of ADAPTER_TYPES) {
    await t.test(`${type}: loss and gradients, whole-model and layered backward`, (st) => {
      const c = cpu.get(type) as Measured;
      const g = gpu.get(type) as Measured;
      const worst = Math.max(...c.grads.map((cg, i) => maxAbsDiff(g.grads[i] as Float32Array, cg)));
      st.diagnostic(`${type}: |loss - cpu| ${Math.abs(c.loss - g.loss).toExponential(2)}, max |grad - cpu| ${worst.toExponential(2)}`);
      assert.ok(Math.abs(c.loss - g.loss) <= ATOL, `loss ${g.loss} vs cpu ${c.loss}`);
      assert.ok(Math.abs(c.layeredLoss - g.layeredLoss) <= ATOL, `layered loss ${g.layeredLoss} vs cpu ${c.layeredLoss}`);
      c.grads.forEach((cg, i) => {
        assert.ok(maxAbsDiff(cg, new Float32Array(cg.length)) > 0, `${type}: variable ${i} has an all-zero gradient on cpu`);
        assert.ok(maxAbsDiff(g.grads[i] as Float32Array, cg) <= ATOL, `${type}: gradient ${i} off by ${maxAbsDiff(g.grads[i] as Float32Array, cg)}`);
        assert.ok(maxAbsDiff(g.layeredGrads[i] as Float32Array, c.layeredGrads[i] as Float32Array) <= ATOL, `${type}: layered gradient ${i} off`);
      });
    });
  }

  await t.test('one AdamW step (lora; whole-model and layered backward)', (st) => {
    cpuStep.forEach((c, k) => {
      const g = gpuStep[k] as (typeof gpuStep)[number];
      st.diagnostic(`step ${k === 0 ? 'whole-model' : 'layered'}: |loss - cpu| ${Math.abs(c.loss - g.loss).toExponential(2)}, max |variable - cpu| ${Math.max(...c.vars.map((v, i) => maxAbsDiff(g.vars[i] as Float32Array, v))).toExponential(2)}`);
      assert.ok(Math.abs(c.loss - g.loss) <= ATOL, `step loss ${g.loss} vs cpu ${c.loss}`);
      assert.ok(Math.abs(c.gradNorm - g.gradNorm) <= ATOL, `grad norm ${g.gradNorm} vs cpu ${c.gradNorm}`);
      c.vars.forEach((v, i) => assert.ok(maxAbsDiff(g.vars[i] as Float32Array, v) <= ATOL, `variable ${i} after the step off by ${maxAbsDiff(g.vars[i] as Float32Array, v)}`));
    });
  });
}
