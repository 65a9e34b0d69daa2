/**
 * TensorFlow.js backend selection. Preference order: `webgpu` (Dawn through the optional `webgpu` package, only
 * when the adapter is a hardware GPU) → `tensorflow` (tfjs-node-gpu, then tfjs-node; optional, used only when
 * installed and loadable) → `native` (OpenBLAS kernels, when the optional addon is built) → `wasm` → `cpu`.
 * `--backend NAME` or WSFLOW_BACKEND forces one (webgpu on a software adapter included) and fails loudly if it
 * cannot load. Callers print the returned name and record it with each execution; `detail` says what ran (for
 * webgpu: the adapter's vendor, architecture and driver).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { err, ok, type Result } from '../contract/result.js';
import { reportNativeFallback } from './native/fallback-notice.js';

export const BACKEND_NAMES = ['webgpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  name: BackendName;
  /** one line: implementation, version, threading — printed at the start of a run */
  detail: string;
}

/** the backend's one-line detail, or why it cannot be used */
type Attempt = Result<string, string>;
/** `auto`: only what a user would want without asking (no software GPU adapter); `forced`: named by the user. */
type Mode = 'auto' | 'forced';

// tfjs's warnings in Node are advertisements for tfjs-node and kernel re-registration notices; keep output clean
tf.env().set('PROD', true);

let current: BackendInfo | undefined;
let wasmPathsSet = false;

/** Parse a backend name from a flag or the environment ('auto' or empty means: pick the best). */
export function parseBackendName(raw: string | undefined): BackendName | 'auto' | { error: string } {
  if (raw === undefined || raw === '' || raw === 'auto') return 'auto';
  if ((BACKEND_NAMES as readonly string[]).includes(raw)) return raw as BackendName;
  return { error: `unknown backend "${raw}" (choose one of ${BACKEND_NAMES.join(', ')}, or auto)` };
}

async function activate(name: string): Promise<boolean> {
  try {
    const okSet = await tf.setBackend(name);
    if (!okSet) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function tryTensorflow(): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // a computed specifier: these packages are optional and usually absent
      const spec: string = pkg;
      await import(spec);
    } catch (e) {
      reasons.push(`${pkg}: ${(e as Error).message.split('\n')[0] ?? 'failed to load'}`);
      continue;
    }
    if (tf.findBackendFactory('tensorflow') === null) {
      reasons.push(`${pkg} loaded but registered its backend with a different @tensorflow/tfjs-core instance`);
      continue;
    }
    if (await activate('tensorflow')) return ok(`${pkg} (libtensorflow)`);
    reasons.push(`${pkg}: backend failed to initialise`);
  }
  return err(reasons.join('; '));
}

interface WebgpuModule {
  enableWebgpu(t: typeof tf): Promise<Result<{ adapter: { software: boolean; description: string }; detail: string }, string>>;
}

/**
 * Linux without a GPU device node has no hardware adapter to find: we skip loading Dawn (21 MB, and Mesa's
 * warnings on stderr) there. Elsewhere (macOS, Windows, a node present) we ask Dawn.
 */
export function gpuDeviceNodes(): string[] | null {
  if (process.platform !== 'linux') return null;
  const nodes: string[] = [];
  if (existsSync('/dev/dri')) for (const f of readdirSync('/dev/dri')) if (f.startsWith('renderD')) nodes.push(`/dev/dri/${f}`);
  if (existsSync('/dev/nvidia0')) nodes.push('/dev/nvidia0');
  return nodes;
}

async function tryWebgpu(mode: Mode): Promise<Attempt> {
  if (mode === 'auto') {
    const nodes = gpuDeviceNodes();
    if (nodes !== null && nodes.length === 0) return err('no GPU device node (/dev/dri/renderD*, /dev/nvidia0); a software adapter is used only when forced');
  }
  let mod: WebgpuModule;
  try {
    const spec = new URL('./webgpu/index.js', import.meta.url).href;
    mod = (await import(spec)) as WebgpuModule;
  } catch (e) {
    return err(`webgpu module not available: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  const r = await mod.enableWebgpu(tf);
  if (!r.ok) return err(r.error);
  if (mode === 'auto' && r.value.adapter.software) {
    return err(`the adapter is a software rasteriser (${r.value.adapter.description}): used only when forced (--backend webgpu)`);
  }
  if (!(await activate('webgpu'))) return err('webgpu backend registered but the device failed to initialise');
  return ok(r.value.detail);
}

interface NativeModule {
  enableNative(t: typeof tf): Promise<Result<{ backendName: string; detail: string }, string>>;
}

async function tryNative(): Promise<Attempt> {
  let mod: NativeModule;
  try {
    // computed specifier: the native module is optional and may not exist in this checkout
    const spec = new URL('./native/index.js', import.meta.url).href;
    mod = (await import(spec)) as NativeModule;
  } catch (e) {
    return err(`native module not available: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  let r: Awaited<ReturnType<NativeModule['enableNative']>>;
  try {
    r = await mod.enableNative(tf);
  } catch (e) {
    return err(`native backend failed: ${(e as Error).message}`);
  }
  if (!r.ok) return err(r.error);
  if (r.value.backendName !== 'native') return err(`native module registered backend "${r.value.backendName}", expected "native"`);
  if (!(await activate(r.value.backendName))) return err('native backend registered but failed to initialise');
  return ok(`native (${r.value.detail})`);
}

async function tryWasm(): Promise<Attempt> {
  try {
    if (!wasmPathsSet) {
      const require = createRequire(import.meta.url);
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
      tfWasm.setWasmPaths(dist);
      wasmPathsSet = true;
    }
  } catch (e) {
    return err(`cannot locate the tfjs wasm binaries: ${(e as Error).message}`);
  }
  if (!(await activate('wasm'))) return err('wasm backend failed to initialise');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return ok(`wasm (tfjs-backend-wasm ${tfWasm.version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'})`);
}

async function tryCpu(): Promise<Attempt> {
  if (!(await activate('cpu'))) return err('cpu backend failed to initialise');
  return ok(`cpu (pure JavaScript, tfjs-core ${tf.version_core})`);
}

const ATTEMPTS: Record<BackendName, (mode: Mode) => Promise<Attempt>> = {
  webgpu: tryWebgpu,
  tensorflow: tryTensorflow,
  native: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Select and initialise the backend. `requested` (else WSFLOW_BACKEND, else auto) forces one; forcing a backend
 * that cannot load throws with the reason. Calling again with another name switches backends.
 */
export async function initBackend(requested?: string): Promise<BackendInfo> {
  const raw = requested ?? process.env['WSFLOW_BACKEND'];
  const choice = parseBackendName(raw);
  if (typeof choice === 'object') throw new Error(choice.error);
  if (choice !== 'auto') {
    if (current?.name === choice && tf.getBackend() === choice) return current;
    const r = await ATTEMPTS[choice]('forced');
    if (!r.ok) throw new Error(`backend "${choice}" was requested${requested === undefined ? ' (WSFLOW_BACKEND)' : ''} but cannot be used: ${r.error}`);
    current = { name: choice, detail: r.value };
    return current;
  }
  if (current !== undefined && tf.getBackend() === current.name) return current;
  const skipped: string[] = [];
  let nativeReason: string | undefined;
  for (const name of BACKEND_NAMES) {
    const r = await ATTEMPTS[name]('auto');
    if (r.ok) {
      if (nativeReason !== undefined) reportNativeFallback(nativeReason, name);
      current = { name, detail: r.value };
      return current;
    }
    if (name === 'native') nativeReason = r.error;
    skipped.push(`${name}: ${r.error}`);
  }
  throw new Error(`no TensorFlow.js backend could be initialised:\n  ${skipped.join('\n  ')}`);
}

/** The backend chosen so far, initialising the default one if nobody has. */
export async function ensureBackend(): Promise<BackendInfo> {
  if (current !== undefined && tf.getBackend() === current.name) return current;
  return initBackend();
}

export function currentBackend(): BackendInfo | undefined {
  return current;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  /** size of the wasm linear memory (it grows and never shrinks); undefined on other backends */
  wasmHeapBytes?: number;
}

/** Tensor count and bytes, and the wasm heap size when on wasm: what memory tests and benchmarks watch. */
export function memoryInfo(): MemoryInfo {
  const m = tf.memory();
  const info: MemoryInfo = { numTensors: m.numTensors, numBytes: m.numBytes };
  if (tf.getBackend() === 'wasm') {
    const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
    const heap = be.wasm?.HEAPU8;
    if (heap !== undefined) info.wasmHeapBytes = heap.byteLength;
  }
  return info;
}

/**
 * Try one backend as auto-selection would (`auto`) or as `--backend` does (`forced`), and leave it active when it
 * loads: what `wsflow backends` reports for each. Does not change the backend `ensureBackend` returns.
 */
export async function probeBackend(name: BackendName, mode: 'auto' | 'forced'): Promise<Attempt> {
  return ATTEMPTS[name](mode);
}
