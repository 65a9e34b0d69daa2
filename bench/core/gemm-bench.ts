/**
 * sgemm rate of the addon (OpenBLAS through N-API, C = A·B row-major) on the Qwen3-0.6B forward shapes,
 * and of the pure-tfjs backends' matMul on the same shapes for comparison.
 *   node dist/bench/core/gemm-bench.js [--backends native,wasm,cpu] [--tokens 64,512] [--reps 5] [--transpose-b] [--linear]
 * Compare with `python3 bench/core/sgemm_numpy.py` (numpy → the same OpenBLAS). `--transpose-b` multiplies by a
 * weight stored [N, K] (PyTorch layout, matMul(a, w, false, true)); sgemm_numpy.py takes the same flag (a @ w.T).
 * `--linear` (implies --transpose-b) multiplies through the model's own frozenLinearOutIn (src/core/qwen3/ops.ts),
 * which on `native` is the packed-weight kernel where the addon has it: the weight is packed by the first call
 * (reported as firstMs) and reused by the timed ones, as the model's weights are from one forward to the next.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { intArg, load1, parseArgs, tf, useBackend } from './bench-util.js';
import { frozenLinearOutIn } from '../../src/core/qwen3/ops.js';

interface Shapes { tokens: number[]; shapes: Array<{ name: string; k: number; n: number; perLayer: number }> }
const shapes = JSON.parse(readFileSync(fileURLToPath(new URL('../../../bench/core/gemm-shapes.json', import.meta.url)), 'utf8')) as Shapes;

const args = parseArgs(process.argv.slice(2));
const backends = (args.get('backends') ?? 'native').split(',');
const tokensList = (args.get('tokens') ?? shapes.tokens.join(',')).split(',').map(Number);
const reps = intArg(args, 'reps', 5);
const linear = args.has('linear');
const transposeB = linear || args.has('transpose-b');

for (const backend of backends) {
  await useBackend(backend);
  for (const m of tokensList) {
    for (const s of shapes.shapes) {
      // The pure-JS cpu backend needs minutes for the large shapes: keep it to the small ones.
      if (backend === 'cpu' && m * s.k * s.n > 64 * 1024 * 3072) continue;
      const a = tf.randomNormal([m, s.k]);
      const b = transposeB ? tf.randomNormal([s.n, s.k]) : tf.randomNormal([s.k, s.n]);
      const run = (): number => {
        const t0 = performance.now();
        const c = linear ? frozenLinearOutIn(a as tf.Tensor2D, b as tf.Tensor2D) : tf.matMul(a, b, false, transposeB);
        c.dataSync();
        c.dispose();
        return performance.now() - t0;
      };
      const firstMs = run();
      const times = Array.from({ length: reps }, run).sort((x, y) => x - y);
      const ms = times[Math.floor(times.length / 2)] ?? NaN;
      const gflops = (2 * m * s.k * s.n) / (ms / 1000) / 1e9;
      console.log(JSON.stringify({ bench: 'gemm', backend, name: s.name, m, k: s.k, n: s.n, transposeB, op: linear ? 'frozenLinearOutIn' : 'matMul', firstMs: Number(firstMs.toFixed(2)), ms: Number(ms.toFixed(2)), gflops: Number(gflops.toFixed(1)), load1: load1() }));
      tf.dispose([a, b]);
    }
  }
}
