/**
 * Shared test helpers for the adapter suites: backend selection, fixture reading, closeness checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../../src/core/backend.js';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import { maxAbsDiff } from '../../helpers/numeric.js';

/** test/ in the source tree (tests run from dist/test/core/adapters) */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures');

/** Backends the model-level adapter tests run on (both must pass: CI has no GPU). */
export const TEST_BACKENDS = ['wasm', 'cpu'] as const;

/** The backend for single-backend suites: WSFLOW_TEST_BACKEND, default wasm. */
export async function useBackend(name: string = process.env['WSFLOW_TEST_BACKEND'] ?? 'wasm'): Promise<string> {
  return (await initBackend(name)).name;
}

export const TINY_MODEL = join(FIXTURES, 'qwen3-tiny');

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readTensors(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const f = SafetensorsFile.open(path);
  try {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, info] of f.tensors) out.set(name, { shape: info.shape, data: f.readFloat32(name) });
    return out;
  } finally {
    f.close();
  }
}

export function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap((v) => flat(v));
  if (typeof x === 'number') return [x];
  throw new Error(`not a number array: ${JSON.stringify(x)?.slice(0, 80)}`);
}

export { maxAbsDiff };

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, what: string): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= atol, `${what}: max |diff| ${d.toExponential(3)} > ${atol.toExponential(3)}`);
}
