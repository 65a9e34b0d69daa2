/**
 * PiSSA initialisation (SVD, A and B, residual: `pissaInit`) of the 98 matrices of Qwen3-0.6B's blocks 8..21, r 32,
 * α 64, on random values (bench/core/pissa-shapes.ts; pissa_init_torch.py times PEFT's math on the same values).
 *
 *   node dist/bench/core/pissa-init-bench.js [--engine lapack|js] [--blocks 14] [--r 32]
 *
 * Prints one JSON line: total seconds, seconds per shape, the SVD engine, the 1-minute load before and after.
 */
import { loadavg } from 'node:os';
import { pissaInit, type SvdEngine } from '../../src/core/adapters/pissa-init.js';
import { intArg, parseArgs } from './bench-util.js';
import { BLOCK_SHAPES, FIRST_BLOCK, benchMatrix } from './pissa-shapes.js';

const args = parseArgs(process.argv.slice(2));
const engineArg = args.get('engine') ?? 'lapack';
if (engineArg !== 'lapack' && engineArg !== 'js') throw new Error(`--engine must be lapack or js, got '${engineArg}'`);
const engine: SvdEngine = engineArg;
const blocks = intArg(args, 'blocks', 14);
const r = intArg(args, 'r', 32);
const scaling = 64 / r;

const loadBefore = loadavg()[0] ?? 0;
const perShape: Record<string, number> = {};
let total = 0;
let checksum = 0;
for (let b = 0; b < blocks; b++) {
  for (const [s, [name, rows, cols]] of BLOCK_SHAPES.entries()) {
    const w = benchMatrix(b * BLOCK_SHAPES.length + s, rows, cols);
    const t0 = performance.now();
    const init = pissaInit(w, rows, cols, r, scaling, { kind: 'exact' }, engine);
    const dt = (performance.now() - t0) / 1000;
    total += dt;
    perShape[name] = (perShape[name] ?? 0) + dt;
    checksum += init.singularValues[0] ?? 0;
  }
}
console.log(JSON.stringify({
  bench: 'pissa-init', impl: `wsflow-${engine}`, matrices: blocks * BLOCK_SHAPES.length, r,
  first_block: FIRST_BLOCK, total_s: +total.toFixed(3),
  per_shape_s: Object.fromEntries(Object.entries(perShape).map(([k, v]) => [k, +v.toFixed(3)])),
  sum_top_sigma: +checksum.toFixed(6), load1_before: loadBefore, load1_after: loadavg()[0] ?? 0,
}));
