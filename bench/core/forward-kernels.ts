/**
 * Where a Qwen3-0.6B-shape forward's time goes, by kernel name, timed around each kernel function of the backend
 * (kernel-timer.ts; allocation of its output included), with the forward's page faults and system CPU (what
 * `model-forward --breakdown` groups by layer part). Counterpart: `python3 bench/core/torch_forward_profile.py`.
 *   node dist/bench/core/forward-kernels.js [--backend native] [--batch 4] [--seq 128] [--reps 2]
 * Prints one JSON line: the forward's wall time (mean of the timed reps, after two warm-ups), each kernel's calls and
 * ms per forward, their sum, and minor page faults and system CPU per forward (process.resourceUsage).
 */
import { createRandomQwen3 } from '../../src/core/qwen3/load.js';
import { QWEN3_0_6B_CONFIG } from '../../src/core/qwen3/config.js';
import { intArg, load1, parseArgs, useBackend } from './bench-util.js';
import { installKernelTimer } from './kernel-timer.js';

const args = parseArgs(process.argv.slice(2));
const backend = await useBackend(args.get('backend') ?? 'native');
const batch = intArg(args, 'batch', 4);
const seq = intArg(args, 'seq', 128);
const reps = intArg(args, 'reps', 2);

const timer = installKernelTimer(backend);

const model = await createRandomQwen3(QWEN3_0_6B_CONFIG, { seed: 1 });
let state = 12345;
const ids = Array.from({ length: batch }, () =>
  Array.from({ length: seq }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % QWEN3_0_6B_CONFIG.vocabSize;
  }),
);
async function forward(): Promise<void> {
  const logits = model.logits(ids, undefined, { positions: 'all' });
  await logits.data();
  logits.dispose();
}

await forward();
await forward();
timer.start();
const before = process.resourceUsage();
const start = performance.now();
for (let i = 0; i < reps; i++) await forward();
const ms = (performance.now() - start) / reps;
const after = process.resourceUsage();
const kernels = new Map<string, { calls: number; ms: number }>();
for (const call of timer.stop()) {
  const k = kernels.get(call.name) ?? { calls: 0, ms: 0 };
  k.calls++;
  k.ms += call.ms;
  kernels.set(call.name, k);
}
const perForward = [...kernels]
  .map(([name, k]) => ({ name, calls: k.calls / reps, ms: Number((k.ms / reps).toFixed(1)) }))
  .sort((a, b) => b.ms - a.ms);
const inKernels = perForward.reduce((s, k) => s + k.ms, 0);
console.log(
  JSON.stringify({
    bench: 'forward-kernels',
    backend,
    batch,
    seq,
    reps,
    forwardMs: Number(ms.toFixed(1)),
    inKernelsMs: Number(inKernels.toFixed(1)),
    minorFaults: Math.round((after.minorPageFault - before.minorPageFault) / reps),
    systemCpuMs: Math.round((after.systemCPUTime - before.systemCPUTime) / 1000 / reps),
    kernels: perForward,
    load1: load1(),
  }),
);
