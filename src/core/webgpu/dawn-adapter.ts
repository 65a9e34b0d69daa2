/**
 * Dawn (the `webgpu` npm package, an optional dependency) and the GPU adapter it offers. Loaded only when the
 * webgpu backend is asked for or probed: `import('webgpu')` maps a 21 MB native module.
 */
import type { Result } from '../../contract/result.js';
import { err, ok } from '../../contract/result.js';

/** The parts of WebGPU's GPUAdapter we use (the `webgpu` package's own types need @webgpu/types globally). */
export interface GpuAdapterLike {
  readonly info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  readonly limits: Record<string, number>;
  readonly features: ReadonlySet<string>;
  requestDevice(descriptor: { requiredLimits: Record<string, number>; requiredFeatures: string[] }): Promise<unknown>;
}

interface GpuLike {
  requestAdapter(options: { powerPreference: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

interface WebgpuPackage {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** What `wsflow backends` and provenance say about an adapter. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  /** the driver's own description, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" */
  description: string;
  /** a CPU rasteriser (llvmpipe, SwiftShader, WARP): good for correctness, never picked automatically */
  software: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  features: string[];
}

/** The limits we raise to the adapter's maximum: weight matrices are bound whole (Qwen3-0.6B's embedding is 622 MB). */
export const RAISED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
] as const;

let gpu: Promise<Result<GpuLike, string>> | undefined;

/**
 * Vulkan drivers keep an on-disk shader cache in the user's home by default (Mesa: ~/.cache/mesa_shader_cache*,
 * NVIDIA: ~/.cache/nvidia). wsflow writes nothing outside the project (DESIGN.md, "Paths"), so unless the
 * user chose a cache location or policy themselves, the caches are switched off before the driver loads: the
 * drivers read these variables once, at initialisation, from this process's environment.
 */
export function keepDriverCachesOutOfHome(env: NodeJS.ProcessEnv = process.env): void {
  const chose = (k: string): boolean => env[k] !== undefined;
  if (!chose('MESA_SHADER_CACHE_DIR') && !chose('MESA_SHADER_CACHE_DISABLE') && !chose('MESA_DISK_CACHE_DISABLE')) {
    env['MESA_SHADER_CACHE_DISABLE'] = 'true';
  }
  if (!chose('__GL_SHADER_DISK_CACHE') && !chose('__GL_SHADER_DISK_CACHE_PATH')) env['__GL_SHADER_DISK_CACHE'] = '0';
}

async function loadGpu(): Promise<Result<GpuLike, string>> {
  keepDriverCachesOutOfHome();
  let pkg: WebgpuPackage;
  try {
    // computed specifier: an optional dependency, and TypeScript must not need its types
    const spec: string = 'webgpu';
    pkg = (await import(spec)) as WebgpuPackage;
  } catch (e) {
    return err(`the optional package "webgpu" (Dawn) cannot be loaded: ${(e as Error).message.split('\n')[0] ?? ''}`);
  }
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode … as globals, as in a browser
  for (const [k, v] of Object.entries(pkg.globals)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  try {
    return ok(pkg.create([]));
  } catch (e) {
    return err(`Dawn failed to start: ${(e as Error).message}`);
  }
}

export function dawnGpu(): Promise<Result<GpuLike, string>> {
  gpu ??= loadGpu();
  return gpu;
}

function isSoftware(info: GpuAdapterLike['info']): boolean {
  if (info.isFallbackAdapter === true) return true;
  if (info.architecture === 'software' || info.vendor === 'swiftshader') return true;
  return /llvmpipe|lavapipe|swiftshader|software|microsoft basic render/i.test(`${info.device} ${info.description}`);
}

export function describeAdapter(a: GpuAdapterLike): AdapterReport {
  const i = a.info;
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    software: isSoftware(i),
    maxBufferSize: a.limits['maxBufferSize'] ?? 0,
    maxStorageBufferBindingSize: a.limits['maxStorageBufferBindingSize'] ?? 0,
    features: [...a.features].sort(),
  };
}

/** One line: vendor, architecture, driver. */
export function adapterLine(r: AdapterReport): string {
  const name = [r.vendor, r.architecture].filter((s) => s !== '').join(' ') || 'unknown vendor';
  return `${name}${r.software ? ' (software adapter)' : ''}; driver: ${r.description || r.device || 'not reported'}`;
}

let adapter: Promise<Result<GpuAdapterLike, string>> | undefined;

/** The high-performance adapter Dawn offers (Vulkan on Linux, Metal on macOS, D3D12 on Windows), once per process. */
export function gpuAdapter(): Promise<Result<GpuAdapterLike, string>> {
  adapter ??= (async () => {
    const g = await dawnGpu();
    if (!g.ok) return g;
    let a: GpuAdapterLike | null;
    try {
      a = await g.value.requestAdapter({ powerPreference: 'high-performance' });
    } catch (e) {
      return err(`requestAdapter failed: ${(e as Error).message}`);
    }
    if (a === null) return err('Dawn found no GPU adapter (on Linux: no Vulkan driver, or one Dawn rejects; see README, Backends)');
    return ok(a);
  })();
  return adapter;
}

/** The device limits we ask for: every raised limit at the adapter's maximum. */
export function requiredLimits(a: GpuAdapterLike): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of RAISED_LIMITS) {
    const v = a.limits[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
