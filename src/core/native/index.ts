/**
 * Optional OpenBLAS-backed tfjs backend. `enableNative(tf)` loads the addon (native/blas) and registers
 * the `native` backend once per process; without the addon it returns `err(reason)` and
 * changes nothing. GEMM threads: WSFLOW_NATIVE_THREADS, else the machine's available parallelism.
 * Results do not depend on the thread count (see native/blas/src/gemm.cc).
 */
import { availableParallelism } from 'node:os';
import { err, ok, type Result } from '../../contract/result.js';
import type { Tfc } from './kernel-context.js';
import { loadAddon } from './load-addon.js';
import { NATIVE_BACKEND, registerNativeBackend } from './register-backend.js';

export { NATIVE_BACKEND } from './register-backend.js';

export type NativeEnableResult = Result<{ backendName: string; detail: string }, string>;

let registered: Promise<NativeEnableResult> | undefined;

function threadCount(): number | string {
  const raw = process.env['WSFLOW_NATIVE_THREADS'];
  if (raw === undefined || raw === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return `WSFLOW_NATIVE_THREADS must be a positive integer, got '${raw}'`;
  return n;
}

async function enable(tf: Tfc): Promise<NativeEnableResult> {
  const threads = threadCount();
  if (typeof threads === 'string') return err(threads);
  const load = loadAddon();
  if (!load.ok) return load;
  if (tf.findBackendFactory(NATIVE_BACKEND) !== null) {
    return err(`a tfjs backend named '${NATIVE_BACKEND}' is already registered by someone else`);
  }
  const { addon } = load.value;
  addon.setThreads(threads);
  const overridden = await registerNativeBackend(tf, addon);
  const detail = `${addon.blasConfig().trim()}, ${addon.getThreads()} thread(s); ` +
    `native kernels: ${overridden.join(', ')}`;
  return ok({ backendName: NATIVE_BACKEND, detail });
}

export function enableNative(tf: Tfc): Promise<NativeEnableResult> {
  registered ??= enable(tf);
  return registered;
}
