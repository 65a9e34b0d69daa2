/**
 * One Qwen3-0.6B-shaped decoder block: forward and LoRA training step (forward + backward through
 * all seven LoRA-adapted linears) on a chosen backend; optional per-kernel breakdown.
 *   node dist/bench/core/block-bench.js --backend native --batch 2 --seq 64 --mode train --reps 3 [--kernels]
 * Prints one JSON line per measurement (median of reps after one warm-up).
 */
import { intArg, kernelBreakdown, load1, parseArgs, rssMiB, tf, useBackend } from './bench-util.js';
import { QWEN3_06B_BLOCK, blockForward, causalMask, randomBlock, randomLoras, ropeTables, type Lora, type LinearName } from './qwen3-block.js';

const args = parseArgs(process.argv.slice(2));
const backend = await useBackend(args.get('backend') ?? 'native');
const batch = intArg(args, 'batch', 2);
const seq = intArg(args, 'seq', 64);
const reps = intArg(args, 'reps', 3);
const mode = args.get('mode') ?? 'train';
if (mode !== 'train' && mode !== 'forward') throw new Error(`--mode must be train or forward, got '${mode}'`);
const shape = QWEN3_06B_BLOCK;

const weights = randomBlock(tf, shape, 1);
const loras: Record<LinearName, Lora> | undefined = mode === 'train' ? randomLoras(tf, shape, 32, 64, 2) : undefined;
const inputs = { ...ropeTables(tf, shape, seq), mask: causalMask(tf, seq) };
const x = tf.randomNormal([batch * seq, shape.hidden], 0, 1, 'float32', 3) as tf.Tensor2D;
const probe = tf.randomNormal([batch * seq, shape.hidden], 0, 1, 'float32', 4);
const varList = loras === undefined ? [] : Object.values(loras).flatMap((l) => [l.a, l.b]);

function step(): tf.Tensor {
  if (mode === 'forward') return tf.tidy(() => blockForward(tf, shape, weights, x, batch, inputs));
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(blockForward(tf, shape, weights, x, batch, inputs, loras), probe)) as tf.Scalar, varList);
  tf.dispose(Object.values(grads));
  return value;
}

async function timed(): Promise<number> {
  const t0 = performance.now();
  const out = step();
  await out.data();
  out.dispose();
  return (performance.now() - t0) / 1000;
}

await timed(); // warm-up: first-use allocations, wasm/JIT compilation
const times: number[] = [];
for (let i = 0; i < reps; i++) times.push(await timed());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? NaN;
/** Wall time per sub-layer in one forward (kernels run synchronously on cpu, native and wasm). */
function sections(): Record<string, number> {
  const acc: Record<string, number> = {};
  const out = tf.tidy(() => blockForward(tf, shape, weights, x, batch, inputs, undefined, (name, fn) => {
    const t0 = performance.now();
    const r = fn();
    r.dataSync();
    acc[name] = (acc[name] ?? 0) + performance.now() - t0;
    return r;
  }));
  out.dispose();
  for (const k of Object.keys(acc)) acc[k] = Number((acc[k] ?? 0).toFixed(1));
  return acc;
}

console.log(JSON.stringify({
  bench: 'block', mode, backend, batch, seq, seconds: Number(median.toFixed(4)),
  ...(mode === 'forward' ? { sectionsMs: sections() } : {}),
  all: times.map((t) => Number(t.toFixed(4))), rssMiB: Math.round(rssMiB()), load1: load1(),
}));

if (args.has('kernels')) {
  const { total, rows } = await kernelBreakdown(() => step());
  console.log(`kernel time ${total.toFixed(1)} ms (tf.profile, ${backend}, ${mode})`);
  for (const r of rows.slice(0, 25)) console.log(`  ${r.name.padEnd(22)} ${r.ms.toFixed(1).padStart(9)} ms  ${String(r.calls).padStart(4)} calls`);
}
