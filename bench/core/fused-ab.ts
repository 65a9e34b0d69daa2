/**
 * The fused native kernels against the composed ops they replace, in one process, alternating rep by rep so a
 * loaded machine's drift hits both sides alike: RMSNorm and SwiGLU at the Qwen3-0.6B forward's shapes.
 *   node dist/bench/core/fused-ab.js [--reps 30]
 * Prints one JSON line per shape: median ms composed, median ms fused, and their ratio.
 */
import { loadavg } from 'node:os';
import { intArg, parseArgs, tf, useBackend } from './bench-util.js';
import { rmsNorm, silu, swiglu } from '../../src/core/qwen3/ops.js';

const args = parseArgs(process.argv.slice(2));
const reps = intArg(args, 'reps', 30);
await useBackend('native');

function composedRmsNorm(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(w, tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))));
}

function time(fn: () => tf.Tensor): number {
  const t0 = performance.now();
  const out = tf.tidy(fn);
  out.dataSync();
  const ms = performance.now() - t0;
  out.dispose();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const cases: Array<{ name: string; shape: number[]; composed: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor; fused: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor; second: (shape: number[]) => number[] }> = [];
for (const rows of [64, 512]) {
  cases.push({ name: 'rmsNorm hidden', shape: [rows, 1024], composed: (x, w) => composedRmsNorm(x, w, 1e-6), fused: (x, w) => rmsNorm(x, w as tf.Tensor1D, 1e-6), second: () => [1024] });
  cases.push({ name: 'rmsNorm q heads', shape: [rows, 16, 128], composed: (x, w) => composedRmsNorm(x, w, 1e-6), fused: (x, w) => rmsNorm(x, w as tf.Tensor1D, 1e-6), second: () => [128] });
  cases.push({ name: 'swiglu', shape: [rows, 3072], composed: (g, u) => tf.mul(silu(g), u), fused: (g, u) => swiglu(g, u), second: (s) => s });
}
for (const c of cases) {
  const a = tf.randomNormal(c.shape);
  const b = tf.randomNormal(c.second(c.shape));
  time(() => c.composed(a, b));
  time(() => c.fused(a, b));
  const composed: number[] = [];
  const fused: number[] = [];
  for (let i = 0; i < reps; i++) {
    composed.push(time(() => c.composed(a, b)));
    fused.push(time(() => c.fused(a, b)));
  }
  const mc = median(composed);
  const mf = median(fused);
  console.log(JSON.stringify({ bench: 'fused-ab', name: c.name, shape: c.shape, composedMs: +mc.toFixed(3), fusedMs: +mf.toFixed(3), speedup: +(mc / mf).toFixed(2), load1: loadavg()[0] }));
  tf.dispose([a, b]);
}
