/**
 * Per-op timings of the non-GEMM kernels at Qwen3 block shapes (4×128 tokens), on any backends:
 *   node dist/bench/core/op-micro.js [--backends native,cpu,wasm] [--reps 20]
 */
import { intArg, load1, parseArgs, tf, useBackend } from './bench-util.js';

const args = parseArgs(process.argv.slice(2));
const reps = intArg(args, 'reps', 20);
const cases: Array<[string, number[][], (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]]> = [
  ['mul same [512,3072]', [[512, 3072], [512, 3072]], (a, b) => tf.mul(a as tf.Tensor, b as tf.Tensor)],
  ['mul rope [4,16,128,128]x[128,128]', [[4, 16, 128, 128], [128, 128]], (a, b) => tf.mul(a as tf.Tensor, b as tf.Tensor)],
  ['mul norm [512,1024]x[512,1]', [[512, 1024], [512, 1]], (a, b) => tf.mul(a as tf.Tensor, b as tf.Tensor)],
  ['add mask [4,8,2,128,128]+[128,128]', [[4, 8, 2, 128, 128], [128, 128]], (a, b) => tf.add(a as tf.Tensor, b as tf.Tensor)],
  ['sigmoid [512,3072]', [[512, 3072]], (a) => tf.sigmoid(a as tf.Tensor)],
  ['softmax [4,8,2,128,128]', [[4, 8, 2, 128, 128]], (a) => tf.softmax(a as tf.Tensor)],
  ['mean -1 [512,1024]', [[512, 1024]], (a) => tf.mean(a as tf.Tensor, -1, true)],
  ['sum 0 [512,3072]', [[512, 3072]], (a) => tf.sum(a as tf.Tensor, 0)],
  ['transpose 0213 [4,128,16,128]', [[4, 128, 16, 128]], (a) => tf.transpose(a as tf.Tensor, [0, 2, 1, 3])],
  ['transpose 2D [1024,3072]', [[1024, 3072]], (a) => tf.transpose(a as tf.Tensor)],
  ['concat -1 2x[4,16,128,64]', [[4, 16, 128, 64], [4, 16, 128, 64]], (a, b) => tf.concat([a as tf.Tensor, b as tf.Tensor], -1)],
  ['split -1 [4,16,128,128]', [[4, 16, 128, 128]], (a) => tf.split(a as tf.Tensor, 2, -1)],
];
for (const backend of (args.get('backends') ?? 'native,cpu').split(',')) {
  await useBackend(backend);
  for (const [name, shapes, fn] of cases) {
    const xs = shapes.map((s) => tf.randomNormal(s));
    const run = (): number => {
      const t0 = performance.now();
      const out = fn(...xs);
      const outs = Array.isArray(out) ? out : [out];
      for (const o of outs) o.dataSync();
      const ms = performance.now() - t0;
      tf.dispose(outs);
      return ms;
    };
    run();
    const times = Array.from({ length: reps }, run).sort((a, b) => a - b);
    console.log(JSON.stringify({ bench: 'op', backend, name, medianMs: Number((times[Math.floor(reps / 2)] ?? NaN).toFixed(3)), minMs: Number((times[0] ?? NaN).toFixed(3)), load1: load1() }));
    tf.dispose(xs);
  }
}
