/**
 * Measures the activation memory of one training micro-step (forward + backward through the Qwen3 stack with an
 * adapter on every linear module) at Qwen3-0.6B's width, for 1 and 2 decoder layers and several sequence
 * lengths, with tf.profile's peakBytes. The per-layer, per-token and per-(token²·head) coefficients of
 * src/core/training/memory-estimate.ts come from this run.
 *
 *   node dist/bench/training/memory-calibration.js [--backend wasm] [--seqs 64,128,256] [--layers 1,2]
 *
 * Only a few rows carry loss so the lm_head (cost-dominant, and estimated separately) stays out of the figure.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { initBackend } from '../../src/core/backend.js';
import { registerAllGradients } from '../../src/core/native/register-gradients.js';
import { QWEN3_0_6B_CONFIG } from '../../src/core/qwen3/config.js';
import { createRandomQwen3 } from '../../src/core/qwen3/load.js';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { newAdapterConfig } from '../../src/core/adapters/adapter-config.js';
import { maskedCrossEntropy } from '../../src/core/training/masked-cross-entropy.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

const backend = arg('backend', 'wasm');
const seqs = arg('seqs', '64,128,256').split(',').map(Number);
const layersList = arg('layers', '1,2').split(',').map(Number);

await initBackend(backend);
await registerAllGradients();
console.log(`backend ${backend}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const numLayers of layersList) {
  const config = { ...QWEN3_0_6B_CONFIG, numLayers };
  const model = await createRandomQwen3(config, { seed: 0 });
  const adapter = AttachedAdapter.create(model, newAdapterConfig('lora', { r: 32, alpha: 64, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] }), { modelType: 'qwen3', seed: 0 });
  const vars = adapter.trainableVariables();
  const baseBytes = tf.memory().numBytes;
  for (const S of seqs) {
    const ids = [Array.from({ length: S }, (_, i) => 1000 + ((i * 7919) % 100000))];
    const rows = Int32Array.from({ length: 8 }, (_, i) => S - 9 + i);
    const targets = Int32Array.from({ length: 8 }, (_, i) => 500 + i);
    const weights = new Float32Array(8).fill(1 / 8);
    const t0 = performance.now();
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => {
        const h = model.hiddenStates(ids);
        return maskedCrossEntropy(tf.reshape(h, [S, config.hiddenSize]) as tf.Tensor2D, model.outputWeight(), { rows, targets, weights });
      }, vars);
      value.dispose();
      tf.dispose(grads);
    });
    const ms = performance.now() - t0;
    const peak = info.peakBytes - baseBytes;
    console.log(`layers ${numLayers}  seq ${S}  peak over weights ${(peak / 2 ** 20).toFixed(1)} MiB  (${(peak / S / 1024).toFixed(1)} KiB/token)  ${ms.toFixed(0)} ms`);
  }
  adapter.detach();
  model.dispose();
}
