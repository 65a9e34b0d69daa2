/**
 * Where one adapter training micro-batch spends its time on the real model path (Qwen3Model + AttachedAdapter +
 * the layered backward), at a shape small enough to iterate on: a random Qwen3-0.6B-width model of `--layers`
 * blocks, every block adapted, one micro-batch of `--batch` × `--seq` tokens (7/8 supervised).
 *
 *   node dist/bench/training/train-profile.js [--backend native] [--adapter lora] [--layers 2] [--batch 4]
 *        [--seq 128] [--reps 2] [--kernels] [--shapes] [--recompute-products]
 *
 * Prints one JSON line (median seconds of `--reps` timed micro-batches after a warm-up); `--kernels` adds the
 * tf.profile table by kernel name (customGrad wrappers, which contain other kernels, are left out of the total),
 * `--shapes` splits it further by input shapes; `--recompute-products` turns off keepFrozenProducts (the layered
 * backward then recomputes the frozen products and attention, as before issue 15).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/core/backend.js';
import { QWEN3_0_6B_CONFIG } from '../../src/core/qwen3/config.js';
import { createRandomQwen3 } from '../../src/core/qwen3/load.js';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { newAdapterConfig } from '../../src/core/adapters/adapter-config.js';
import type { AdapterType } from '../../src/core/adapters/adapter-config.js';
import { layeredLossAndGrads, variablesByBlock } from '../../src/core/training/layered-backward.js';
import { registerAllGradients } from '../../src/core/native/register-gradients.js';
import { Rng } from '../../src/core/random.js';
import { adapterOptions } from '../../stages/train/train-stage.js';
import { trainParams } from '../../stages/train/params.js';
import { parseParams } from '../../src/contract/params.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

const backend = arg('backend', 'native');
const type = arg('adapter', 'lora') as AdapterType;
const layers = Number(arg('layers', '2'));
const batch = Number(arg('batch', '4'));
const seq = Number(arg('seq', '128'));
const reps = Number(arg('reps', '2'));
await initBackend(backend);
await registerAllGradients();
const config = { ...QWEN3_0_6B_CONFIG, numLayers: layers };
const model = await createRandomQwen3(config, { seed: 0 });
const defaults = parseParams(trainParams, { adapter: type, sign: 'pos', layer_frac_lo: 0, layer_frac_hi: 1 });
if (!defaults.ok) throw new Error(`adapter ${type}: ${defaults.error.param}: ${defaults.error.message}`);
const adapter = AttachedAdapter.create(model, newAdapterConfig(type, adapterOptions(type, defaults.value, layers, 'random')), {
  modelType: 'qwen3',
  seed: 0,
  reloadOriginal: () => {
    throw new Error('benchmark: original weights are not restored');
  },
});
const byLayer = variablesByBlock(adapter.layers);
const rng = new Rng(1);
const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(151643)));
const mask = ids.map((r) => r.map(() => 1));
const rows: number[] = [];
const targets: number[] = [];
for (let b = 0; b < batch; b++) {
  for (let t = Math.floor(seq / 8); t < seq; t++) {
    rows.push(b * seq + t - 1);
    targets.push(ids[b]?.[t] as number);
  }
}
const sel = { rows: Int32Array.from(rows), targets: Int32Array.from(targets), weights: new Float32Array(rows.length).fill(1 / rows.length) };

function once(): tf.Tensor[] {
  const r = layeredLossAndGrads(model, ids, mask, sel, byLayer, { keepFrozenProducts: !process.argv.includes('--recompute-products') });
  return [...r.grads.values()];
}

function timed(): number {
  const t0 = performance.now();
  tf.dispose(once());
  return (performance.now() - t0) / 1000;
}

timed();
const times: number[] = [];
for (let i = 0; i < reps; i++) times.push(timed());
times.sort((a, b) => a - b);
console.log(JSON.stringify({
  bench: 'train-profile', backend, adapter: type, layers, batch, seq,
  seconds: Number((times[Math.floor(times.length / 2)] ?? NaN).toFixed(3)), all: times.map((t) => Number(t.toFixed(3))),
  load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
}));

if (process.argv.includes('--kernels') || process.argv.includes('--shapes')) {
  const byShape = process.argv.includes('--shapes');
  const info = await tf.profile(() => once());
  const acc = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    if (k.name === 'forward') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const key = byShape ? `${k.name} ${k.inputShapes.map((s) => `[${(s ?? []).join('x')}]`).join(' ')}` : k.name;
    const e = acc.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    acc.set(key, e);
  }
  tf.dispose(info.result);
  console.log(`kernel time ${total.toFixed(0)} ms (tf.profile, ${backend})`);
  for (const [name, v] of [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, byShape ? 40 : 30)) {
    console.log(`  ${v.ms.toFixed(1).padStart(9)} ms ${String(v.calls).padStart(5)}x  ${name}`);
  }
}
