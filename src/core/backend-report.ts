/**
 * What this machine offers: each backend loaded in turn (as `--backend` would), whether automatic selection
 * would take it and why not, a short matmul probe (speed, and error against a float64 product), and the GPU
 * adapter Dawn finds with its limits. Feeds `wsflow backends`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, probeBackend, type BackendName } from './backend.js';
import { Rng } from './random.js';
import type { AdapterReport } from './webgpu/dawn-adapter.js';

export interface MatmulProbe {
  n: number;
  runs: number;
  seconds: number;
  gflops: number;
  /** max |C - C64| / max |C64| of one n×n product against a float64 reference */
  relError: number;
}

export interface BackendReportRow {
  name: BackendName;
  loads: boolean;
  /** the backend's own description, or why it does not load */
  detail: string;
  /** would automatic selection take it (ignoring the order)? */
  auto: boolean;
  /** why automatic selection would not take it, when it loads but `auto` is false */
  autoReason?: string;
  probe?: MatmulProbe;
}

export interface AdapterSection {
  ok: boolean;
  adapter?: AdapterReport;
  limits?: Record<string, number>;
  error?: string;
}

export interface BackendsReport {
  rows: BackendReportRow[];
  /** what `auto` picks: the first row in order with `auto` */
  picked: BackendName | null;
  gpu: AdapterSection;
}

function reference(a: Float32Array, b: Float32Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      for (let j = 0; j < n; j++) c[i * n + j] = (c[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  }
  return c;
}

/** n×n float32 matmuls on the active backend for about `seconds`, each read back (asynchronously). */
export async function matmulProbe(n: number, seconds: number): Promise<MatmulProbe> {
  const rng = new Rng(1);
  const av = rng.normalArray(n * n, 0, 1);
  const bv = rng.normalArray(n * n, 0, 1);
  const a = tf.tensor2d(av, [n, n]);
  const b = tf.tensor2d(bv, [n, n]);
  try {
    // first product: correctness, and warm-up (shader compilation, packing) outside the timing
    const first = tf.matMul(a, b);
    const got = (await first.data()) as Float32Array;
    first.dispose();
    const want = reference(av, bv, n);
    let maxErr = 0;
    let maxRef = 0;
    for (let i = 0; i < want.length; i++) {
      maxErr = Math.max(maxErr, Math.abs((got[i] as number) - (want[i] as number)));
      maxRef = Math.max(maxRef, Math.abs(want[i] as number));
    }
    let runs = 0;
    const t0 = performance.now();
    do {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      runs++;
    } while (performance.now() - t0 < seconds * 1000);
    const s = (performance.now() - t0) / 1000;
    return { n, runs, seconds: s, gflops: (2 * n * n * n * runs) / s / 1e9, relError: maxErr / maxRef };
  } finally {
    a.dispose();
    b.dispose();
  }
}

async function gpuSection(): Promise<AdapterSection> {
  try {
    const { gpuAdapter, describeAdapter } = await import('./webgpu/dawn-adapter.js');
    const a = await gpuAdapter();
    if (!a.ok) return { ok: false, error: a.error };
    const limits: Record<string, number> = {};
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension']) {
      const v = a.value.limits[k];
      if (v !== undefined) limits[k] = v;
    }
    return { ok: true, adapter: describeAdapter(a.value), limits };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Loads every backend in turn (leaving the last one that loaded active) and probes each for `seconds`. */
export async function backendsReport(opts: { seconds: number; n: number }): Promise<BackendsReport> {
  const rows: BackendReportRow[] = [];
  for (const name of BACKEND_NAMES) {
    const auto = await probeBackend(name, 'auto');
    const forced = auto.ok ? auto : await probeBackend(name, 'forced');
    if (!forced.ok) {
      rows.push({ name, loads: false, detail: forced.error, auto: false });
      continue;
    }
    const row: BackendReportRow = { name, loads: true, detail: forced.value, auto: auto.ok };
    if (!auto.ok) row.autoReason = auto.error;
    row.probe = await matmulProbe(opts.n, opts.seconds);
    rows.push(row);
  }
  const picked = rows.find((r) => r.auto)?.name ?? null;
  return { rows, picked, gpu: await gpuSection() };
}
