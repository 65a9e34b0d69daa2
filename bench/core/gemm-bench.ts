/**
 * sgemm rate of the addon (OpenBLAS through N-API, C = A·B row-major) on the Qwen3-0.6B forward shapes,
 * and of the pure-tfjs backends' matMul on the same shapes for comparison.
 *   node dist/bench/core/gemm-bench.js [--backends native,wasm,cpu] [--tokens 64,512] [--reps 5] [--transpose-b]
 * Compare with `python3 bench/core/sgemm_numpy.py` (numpy → the same OpenBLAS). `--transpose-b` multiplies by a
 * weight stored [N, K] (PyTorch layout, matMul(a, w, false, true)), which is how the Qwen3 model calls it on
 * `native` (src/core/qwen3/ops.ts); sgemm_numpy.py takes the same flag (a @ w.T).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { intArg, load1, parseArgs, tf, useBackend } from './bench-util.js';

interface Shapes { tokens: number[]; shapes: Array<{ name: string; k: number; n: number; perLayer: number }> }
const shapes = JSON.parse(readFileSync(fileURLToPath(new URL('../../../bench/core/gemm-shapes.json', import.meta.url)), 'utf8')) as Shapes;

const args = parseArgs(process.argv.slice(2));
const backends = (args.get('backends') ?? 'native').split(',');
const tokensList = (args.get('tokens') ?? shapes.tokens.join(',')).split(',').map(Number);
const reps = intArg(args, 'reps', 5);
const transposeB = args.has('transpose-b');

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
        const c = tf.matMul(a, b, false, transposeB);
        c.dataSync();
        c.dispose();
        return performance.now() - t0;
      };
      run();
      const times = Array.from({ length: reps }, run).sort((x, y) => x - y);
      const ms = times[Math.floor(times.length / 2)] ?? NaN;
      const gflops = (2 * m * s.k * s.n) / (ms / 1000) / 1e9;
      console.log(JSON.stringify({ bench: 'gemm', backend, name: s.name, m, k: s.k, n: s.n, transposeB, ms: Number(ms.toFixed(2)), gflops: Number(gflops.toFixed(1)), load1: load1() }));
      tf.dispose([a, b]);
    }
  }
}
