/**
 * Two builds of the native addon, A and B, timed call by call in one process on the model's GEMMs (the weight
 * [N, K] as the Qwen3 model passes it), so the machine's load drifts over both alike; also checks their bytes
 * agree. Both load the same libopenblas.
 *   node dist/bench/core/addon-ab.js A.node B.node [--reps 15] [--threads 2] [--shapes '[[64,1024,2048],...]']
 * Prints one JSON line per shape: median wall ms and process-CPU ms of each, B's speedup, identical.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { intArg, load1, parseArgs } from './bench-util.js';
import type { NativeAddon } from '../../src/core/native/load-addon.js';

const [pathA, pathB, ...rest] = process.argv.slice(2);
if (pathA === undefined || pathB === undefined) {
  process.stderr.write('usage: addon-ab.js A.node B.node [--reps N] [--threads N] [--shapes JSON]\n');
  process.exit(2);
}
const args = parseArgs(rest);
const reps = intArg(args, 'reps', 15);
const threads = intArg(args, 'threads', 2);
const shapes = JSON.parse(args.get('shapes') ??
  '[[64,1024,2048],[64,1024,1024],[64,2048,1024],[64,1024,3072],[64,3072,1024],[512,1024,2048],[512,1024,1024],[512,2048,1024],[512,1024,3072],[512,3072,1024]]') as Array<[number, number, number]>;
const require = createRequire(import.meta.url);
const addons = [require(resolve(pathA)) as NativeAddon, require(resolve(pathB)) as NativeAddon];
for (const a of addons) a.setThreads(threads);

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[xs.length >> 1] ?? NaN;
const fill = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

for (const [m, k, n] of shapes) {
  const a = fill(m * k, 1);
  const b = fill(n * k, 2);
  const outs = [new Float32Array(m * n), new Float32Array(m * n)];
  const zero = new Float64Array(1);
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  const call = (i: number): void => (addons[i] as NativeAddon).gemm(a, b, outs[i] as Float32Array, 1, m, n, k, false, true, zero, zero);
  call(0);
  call(1);
  for (let r = 0; r < reps; r++) {
    for (const i of [0, 1]) {
      const c0 = cpuMs();
      const t0 = performance.now();
      call(i);
      wall[i]?.push(performance.now() - t0);
      cpu[i]?.push(cpuMs() - c0);
    }
  }
  const [wa, wb] = [median(wall[0] ?? []), median(wall[1] ?? [])];
  const identical = Buffer.from((outs[0] as Float32Array).buffer).equals(Buffer.from((outs[1] as Float32Array).buffer));
  console.log(JSON.stringify({
    bench: 'addon-ab', m, k, n, threads, reps, wallMsA: Number(wa.toFixed(2)), wallMsB: Number(wb.toFixed(2)),
    cpuMsA: Number(median(cpu[0] ?? []).toFixed(2)), cpuMsB: Number(median(cpu[1] ?? []).toFixed(2)),
    speedupB: Number((wa / wb).toFixed(2)), identical, load1: load1(),
  }));
}
