/**
 * The `webgpu` backend: tfjs-backend-webgpu on Dawn. We register the backend factory ourselves instead of using
 * the package's: it asks the adapter for every limit we raise (RAISED_LIMITS), and it lets us refuse synchronous
 * reads with a message that says what to do (tfjs-webgpu implements them with OffscreenCanvas, absent in Node).
 * Our own kernels (kernels/) are registered for the backend here too.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { Result } from '../../contract/result.js';
import { err, ok } from '../../contract/result.js';
import type { AdapterReport } from './dawn-adapter.js';
import { adapterLine, dawnGpu, describeAdapter, gpuAdapter, requiredLimits } from './dawn-adapter.js';
import { registerWebgpuKernels } from './kernels/index.js';

export { adapterLine, describeAdapter, gpuAdapter } from './dawn-adapter.js';
export type { AdapterReport } from './dawn-adapter.js';

export const WEBGPU_BACKEND = 'webgpu';

export const SYNC_READ_MESSAGE =
  'a synchronous read (dataSync, arraySync, bufferSync) of a tensor on the webgpu backend: Node has no OffscreenCanvas, ' +
  'which tfjs-backend-webgpu needs for it; this code path must read with `await tensor.data()`';

interface WebgpuBackendPackage {
  WebGPUBackend: new (device: unknown, adapterInfo: unknown) => tfc.KernelBackend;
}

export interface WebgpuEnabled {
  adapter: AdapterReport;
  detail: string;
}

let enabled: Promise<Result<WebgpuEnabled, string>> | undefined;

function refuseSyncReads(proto: { readSync(dataId: object): unknown }): void {
  const original = proto.readSync;
  proto.readSync = function readSync(this: unknown, dataId: object): unknown {
    try {
      return original.call(this, dataId);
    } catch (e) {
      if (e instanceof ReferenceError && e.message.includes('OffscreenCanvas')) throw new Error(SYNC_READ_MESSAGE);
      throw e;
    }
  };
}

async function enable(tf: typeof tfc): Promise<Result<WebgpuEnabled, string>> {
  const a = await gpuAdapter();
  if (!a.ok) return a;
  const adapter = a.value;
  let pkg: WebgpuBackendPackage;
  try {
    // imported before navigator.gpu exists, so the package registers its kernels but not its own backend factory
    const spec: string = '@tensorflow/tfjs-backend-webgpu';
    pkg = (await import(spec)) as WebgpuBackendPackage;
  } catch (e) {
    return err(`the optional package @tensorflow/tfjs-backend-webgpu cannot be loaded: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  if (tf.findBackendFactory(WEBGPU_BACKEND) !== null) tf.removeBackend(WEBGPU_BACKEND);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu === undefined) {
    // tfjs-backend-webgpu checks navigator.gpu before it creates a backend; Node 20 has no navigator at all
    const gpu = await dawnGpu();
    if (!gpu.ok) return gpu;
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: gpu.value }, configurable: true, writable: true });
  }
  refuseSyncReads(pkg.WebGPUBackend.prototype as unknown as { readSync(dataId: object): unknown });
  const features = ['timestamp-query'].filter((f) => adapter.features.has(f));
  tf.registerBackend(WEBGPU_BACKEND, async () => {
    const device = await adapter.requestDevice({ requiredLimits: requiredLimits(adapter), requiredFeatures: features });
    const backend = new pkg.WebGPUBackend(device, adapter.info);
    // the one-time "synchronous reads are slow" warning would precede our error
    (backend as unknown as { hasReadSyncWarned: boolean }).hasReadSyncWarned = true;
    return backend;
  }, 0);
  const kernels = registerWebgpuKernels(tf);
  const report = describeAdapter(adapter);
  const mib = (n: number): string => `${Math.floor(n / 2 ** 20)} MiB`;
  const detail = `webgpu (tfjs-backend-webgpu on Dawn; adapter: ${adapterLine(report)}; max buffer ${mib(report.maxBufferSize)}, ` +
    `max binding ${mib(report.maxStorageBufferBindingSize)}; wsflow kernels: ${kernels.join(', ')})`;
  return ok({ adapter: report, detail });
}

/** Register the webgpu backend once per process (it is not activated here). */
export function enableWebgpu(tf: typeof tfc): Promise<Result<WebgpuEnabled, string>> {
  enabled ??= enable(tf);
  return enabled;
}
