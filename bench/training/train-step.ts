/**
 * Training step time and peak memory per adapter type on Qwen3-0.6B's shape (random weights), at the study's
 * batch size and sequence length: one optimizer step over `--batch` sequences of `--seq` tokens (7/8 of them
 * supervised), with the study's adapter settings (r 32, alpha 64 on the seven linear modules of blocks 8..21;
 * OFT block 8; IA3 k/v/down on all blocks), the layered backward and the micro-batch the memory estimate picks.
 * Each adapter type runs in its own process, because the wasm heap never shrinks (its size IS the peak).
 *
 *   node dist/bench/training/train-step.js [--backend wasm] [--adapters lora,dora,pissa,delora,oft,ia3]
 *        [--batch 4] [--seq 512] [--layers 28] [--reps 1] [--out bench/training/results.jsonl]
 *   /usr/bin/python3 bench/training/torch_lora_step.py --batch 4 --seq 512      (the PyTorch CPU reference)
 *
 * The first step of each run is a warm-up and is not timed. Note the machine's load (printed): timings on a
 * busy machine are not comparable.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { initBackend, memoryInfo } from '../../src/core/backend.js';
import { QWEN3_0_6B_CONFIG } from '../../src/core/qwen3/config.js';
import { createRandomQwen3 } from '../../src/core/qwen3/load.js';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { newAdapterConfig } from '../../src/core/adapters/adapter-config.js';
import type { AdapterType } from '../../src/core/adapters/adapter-config.js';
import { estimateTrainingMemory, largestFittingMicroBatch } from '../../src/core/training/memory-estimate.js';
import { variablesByBlock } from '../../src/core/training/layered-backward.js';
import { trainAdapter } from '../../src/core/training/trainer.js';
import { Rng } from '../../src/core/random.js';
import { adapterOptions } from '../../stages/train/train-stage.js';
import { trainParams } from '../../stages/train/params.js';
import { parseParams } from '../../src/contract/params.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

interface Result {
  adapter: string;
  backend: string;
  layers: number;
  batch: number;
  seq: number;
  microBatch: number;
  trainableParameters: number;
  seconds: number[];
  tokensPerSecond: number;
  peakWasmHeapMiB: number | null;
  peakRssMiB: number;
  estimateMiB: number;
  /** adapter creation (PiSSA: the SVD initialisation of every module) */
  initSeconds: number;
  load1: number;
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] !== undefined ? Math.round(parseInt(m[1], 10) / 1024) : NaN;
}

async function child(type: AdapterType): Promise<Result> {
  const backend = arg('backend', 'wasm');
  const layers = Number(arg('layers', '28'));
  const batch = Number(arg('batch', '4'));
  const seq = Number(arg('seq', '512'));
  const reps = Number(arg('reps', '1'));
  await initBackend(backend);
  const config = { ...QWEN3_0_6B_CONFIG, numLayers: layers };
  const model = await createRandomQwen3(config, { seed: 0 });
  const tInit = performance.now();
  // the train kind's defaults (r, alpha, targets, layer fractions), from its params schema
  const defaults = parseParams(trainParams, { adapter: type, sign: 'pos' });
  if (!defaults.ok) throw new Error(`adapter ${type}: ${defaults.error.param}: ${defaults.error.message}`);
  const adapter = AttachedAdapter.create(model, newAdapterConfig(type, adapterOptions(type, defaults.value, layers, 'random Qwen3-0.6B shape')), {
    modelType: 'qwen3',
    seed: 0,
    // PiSSA: drop the originals as the train stage does (it re-reads them from the checkpoint on detach; a random
    // in-memory model has no checkpoint and the benchmark never detaches)
    reloadOriginal: () => {
      throw new Error('benchmark: original weights are not restored');
    },
  });
  const initSeconds = (performance.now() - tInit) / 1000;
  const vars = adapter.trainableVariables();
  const trainable = vars.reduce((a, v) => a + v.size, 0);
  const first = Math.min(...adapter.layers.map((l) => parseInt(/layers\.(\d+)\./.exec(l.module)?.[1] ?? '0', 10)));
  const base = { config, trainableParams: trainable, seqLen: seq, checkpointing: true, firstTrainableLayer: first, keepsFrozenProducts: backend === 'native' };
  const fit = largestFittingMicroBatch(base, batch, 3584 * 2 ** 20);
  const microBatch = backend === 'wasm' ? Math.max(1, fit.microBatch) : batch;
  const estimate = estimateTrainingMemory({ ...base, microBatch });
  const rng = new Rng(1);
  const examples = Array.from({ length: batch }, () => ({ inputIds: Array.from({ length: seq }, () => rng.int(151643)), maskedPrefix: Math.floor(seq / 8) }));
  const result = await trainAdapter(
    model,
    vars,
    examples,
    [],
    { learningRate: 2e-4, weightDecay: 0.01, adamEpsilon: 1e-8, adamBeta1: 0.9, adamBeta2: 0.999, warmupSteps: 0, epochs: 1, maxSteps: reps + 1, batchSize: batch, gradAccum: 1, microBatch, maxGradNorm: 1, seed: 0, evalSteps: 0, padTokenId: 151643 },
    { onStep: (r) => process.stderr.write(`${type}: step ${r.step} ${r.seconds.toFixed(1)} s, loss ${r.loss.toFixed(3)}\n`) },
    { byLayer: variablesByBlock(adapter.layers) },
  );
  // the first step is a warm-up; with --reps 0 it is all there is (memory only)
  const timed = (result.steps.length > 1 ? result.steps.slice(1) : result.steps).map((s) => s.seconds);
  const median = [...timed].sort((a, b) => a - b)[Math.floor(timed.length / 2)] as number;
  const heap = memoryInfo().wasmHeapBytes;
  return {
    adapter: type,
    backend,
    layers,
    batch,
    seq,
    microBatch,
    trainableParameters: trainable,
    seconds: timed.map((s) => Math.round(s * 100) / 100),
    tokensPerSecond: Math.round((batch * seq) / median),
    peakWasmHeapMiB: heap === undefined ? null : Math.round(heap / 2 ** 20),
    peakRssMiB: peakRssMiB(),
    estimateMiB: Math.round(estimate.totalBytes / 2 ** 20),
    initSeconds: Math.round(initSeconds * 10) / 10,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

const one = arg('child', '');
if (one !== '') {
  const r = await child(one as AdapterType);
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  const adapters = arg('adapters', 'lora,dora,pissa,delora,oft,ia3').split(',');
  const out = arg('out', '');
  const self = fileURLToPath(import.meta.url);
  const passThrough = ['backend', 'batch', 'seq', 'layers', 'reps'].flatMap((k) => (process.argv.includes(`--${k}`) ? [`--${k}`, arg(k, '')] : []));
  console.log(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('| adapter | backend | trainable params | micro-batch | s / step | tokens/s | peak wasm heap MiB | peak RSS MiB | estimate MiB | init s | load |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const a of adapters) {
    const r = spawnSync(process.execPath, [self, '--child', a, ...passThrough], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`| ${a} | failed (exit ${r.status}${r.signal !== null ? `, ${r.signal}` : ''}) | | | | | | | | |`);
      continue;
    }
    const res = JSON.parse(line) as Result;
    if (out !== '') appendFileSync(out, `${JSON.stringify({ ...res, date: new Date().toISOString() })}\n`);
    const med = [...res.seconds].sort((x, y) => x - y)[Math.floor(res.seconds.length / 2)];
    console.log(`| ${a} | ${res.backend} | ${res.trainableParameters} | ${res.microBatch} | ${med} | ${res.tokensPerSecond} | ${res.peakWasmHeapMiB ?? '-'} | ${res.peakRssMiB} | ${res.estimateMiB} | ${res.initSeconds} | ${res.load1} |`);
  }
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
