/**
 * Forward throughput of a Qwen3-0.6B-shaped model (random weights, the core's own Qwen3Model):
 * full-vocab logits at every position, like `model(ids).logits` in transformers.
 *   node dist/bench/core/model-forward.js --backend native --batch 4 --seq 128 [--reps 3] [--layers 28] [--breakdown]
 * Prints one JSON line: median seconds, tokens/s, effective GFLOP/s (2·params·tokens + attention),
 * peak tensor bytes during a forward (tf.profile), process max RSS, wasm heap; with --breakdown, where
 * the kernel time of one forward goes (matmuls by layer part, other kernels by name) as a `breakdown` field.
 * The breakdown times one more forward kernel by kernel around the backend's kernel functions (kernel-timer.ts); it
 * used tf.profile's kernelTimeMs until 2026-12-08, whose own overhead inflated each kernel (a projection showed at
 * 1.2–1.45x its standalone time).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, memoryInfo } from '../../src/core/backend.js';
import { QWEN3_0_6B_CONFIG, type Qwen3Config } from '../../src/core/qwen3/config.js';
import { createRandomQwen3 } from '../../src/core/qwen3/load.js';
import { registerAllGradients } from '../../src/core/native/register-gradients.js';
import { intArg, load1, parseArgs } from './bench-util.js';
import { installKernelTimer, type KernelCall } from './kernel-timer.js';

const args = parseArgs(process.argv.slice(2));
await registerAllGradients();
const info = await initBackend(args.get('backend') ?? 'native');
const batch = intArg(args, 'batch', 1);
const seq = intArg(args, 'seq', 64);
const reps = intArg(args, 'reps', 3);
const config: Qwen3Config = { ...QWEN3_0_6B_CONFIG, numLayers: intArg(args, 'layers', QWEN3_0_6B_CONFIG.numLayers) };

/** Multiply-adds ×2 of one forward over B×S tokens with full logits (causal attention counted in full). */
export function forwardFlops(c: Qwen3Config, b: number, s: number): number {
  const e = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perToken = c.numLayers * (e * q + 2 * e * kv + q * e + 3 * e * c.intermediateSize) + e * c.vocabSize;
  const attention = c.numLayers * b * c.numHeads * s * s * c.headDim * 2; // scores + context
  return 2 * (perToken * b * s + attention);
}

const t0 = performance.now();
const model = await createRandomQwen3(config, { seed: 1 });
const buildSeconds = (performance.now() - t0) / 1000;

let state = 12345;
const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state % config.vocabSize;
}));

async function once(): Promise<number> {
  const start = performance.now();
  const logits = model.logits(ids, undefined, { positions: 'all' });
  await logits.data();
  logits.dispose();
  return (performance.now() - start) / 1000;
}

for (let i = 0; i < intArg(args, 'warmup', 1, 0); i++) await once();
const times: number[] = [];
for (let i = 0; i < reps; i++) times.push(await once());
times.sort((a, b) => a - b);
const seconds = times[Math.floor(times.length / 2)] ?? NaN;
const tokens = batch * seq;
const flops = forwardFlops(config, batch, seq);

const profile = await tf.profile(() => model.logits(ids, undefined, { positions: 'all' }));
tf.dispose(profile.result);

let calls: KernelCall[] = [];
if (args.has('breakdown')) {
  const timer = installKernelTimer(info.name);
  timer.start();
  await once();
  calls = timer.stop();
}

/** Kernel time of one forward grouped by layer part (matmuls, from their shapes) or kernel name. */
function breakdown(): Array<{ group: string; ms: number; pct: number; calls: number }> {
  const V = config.vocabSize;
  const groups = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of calls) {
    const ms = k.ms;
    total += ms;
    let group = k.name;
    if (k.name === 'BatchMatMul' || k.name === '_FusedMatMul' || k.name === 'WsflowPackedLinear') {
      const [a = [], b = []] = k.inputShapes;
      const dims = [...a, ...b];
      if (dims.includes(V)) group = 'matmul lm_head';
      else if (a.length === 3) group = 'matmul attention scores/context';
      else if (dims.includes(config.intermediateSize)) group = 'matmul MLP gate/up/down';
      else group = 'matmul attention q/k/v/o proj';
    }
    const g = groups.get(group) ?? { ms: 0, calls: 0 };
    g.ms += ms;
    g.calls += 1;
    groups.set(group, g);
  }
  return [...groups.entries()].sort((x, y) => y[1].ms - x[1].ms)
    .map(([group, g]) => ({ group, ms: Math.round(g.ms), pct: Number((100 * g.ms / total).toFixed(1)), calls: g.calls }));
}

console.log(JSON.stringify({
  bench: 'model-forward', backend: info.name, detail: info.detail, layers: config.numLayers, batch, seq,
  seconds: Number(seconds.toFixed(3)), all: times.map((t) => Number(t.toFixed(3))),
  tokensPerSecond: Number((tokens / seconds).toFixed(1)), gflops: Number((flops / seconds / 1e9).toFixed(1)),
  peakTensorMiB: Math.round(profile.peakBytes / 2 ** 20), maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  wasmHeapMiB: memoryInfo().wasmHeapBytes === undefined ? null : Math.round((memoryInfo().wasmHeapBytes ?? 0) / 2 ** 20),
  buildSeconds: Number(buildSeconds.toFixed(1)), load1: load1(),
  ...(args.has('breakdown') ? { breakdown: breakdown() } : {}),
}));
model.dispose();
