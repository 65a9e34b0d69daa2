/** Shared bits of the core benchmarks: backend selection, argument parsing, load and memory notes. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadavg } from 'node:os';
import { enableNative } from '../../src/core/native/index.js';
import { registerAllGradients } from '../../src/core/native/register-gradients.js';

export { tf };

export async function useBackend(name: string): Promise<string> {
  await registerAllGradients();
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
  } else if (name === 'native') {
    const r = await enableNative(tf);
    if (!r.ok) throw new Error(`native backend unavailable: ${r.error}`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  return name;
}

export function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { out.set(a.slice(2), next); i++; }
      else out.set(a.slice(2), 'true');
    }
  }
  return out;
}

export function intArg(args: Map<string, string>, key: string, dflt: number, min = 1): number {
  const raw = args.get(key);
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${key} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

export function load1(): number {
  return loadavg()[0] ?? 0;
}

/** Resident set size in MiB (the cpu/native backends keep tensors in the JS heap / ArrayBuffers). */
export function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/** Aggregates tf.profile kernel times by kernel name, largest first. */
export async function kernelBreakdown(fn: () => tf.TensorContainer): Promise<{ total: number; rows: Array<{ name: string; ms: number; calls: number }> }> {
  const info = await tf.profile(fn);
  const byName = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    total += ms;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    byName.set(k.name, entry);
  }
  tf.dispose(info.result);
  const rows = [...byName.entries()].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.ms - a.ms);
  return { total, rows };
}
