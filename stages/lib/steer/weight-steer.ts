/**
 * Weight steering (study-ref §5): θ ← θ + α·dW for every key of dW, applied to the loaded model through
 * setParameter and undone exactly afterwards.
 *
 * The originals are copied out of the model to host memory (a float32 round trip is exact) and written back
 * with setParameter, so after removal every weight is bit-identical to before — whatever α was. Like the
 * reference, α = 0 or an empty dW does nothing, and keys the model does not have are skipped with a warning.
 * Precision follows the dW (its diff stage's `merge_dtype`, the study-level `precision`): `f32` adds in float32 on the
 * model's weights as loaded; `bf16` (the reference's) writes the steered weight as the reference holds it, θ and
 * α·dW rounded to bf16 and added in bf16 (bf16-steer.ts). Only the steered tensors change; arithmetic elsewhere is
 * as loaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import { markClean, markDirty } from '../model/load-model.js';
import { steeredWeightBf16, type SteerPrecision } from './bf16-steer.js';

export type DwTensors = ReadonlyMap<string, Float32Array>;

interface Backup {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Keys of dW that the model lacks (the reference logs and skips them); shape mismatches throw. */
export function checkDwAgainstModel(model: Qwen3Model, dw: DwTensors): { present: string[]; missing: string[] } {
  const names = new Set(model.parameterNames());
  const present: string[] = [];
  const missing: string[] = [];
  for (const [name, data] of dw) {
    if (!names.has(name)) {
      missing.push(name);
      continue;
    }
    const shape = model.parameterShape(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`dW tensor ${name} has ${data.length} values but the model's parameter has shape [${shape.join(', ')}] (${n}); was dW computed for another model?`);
    present.push(name);
  }
  return { present, missing };
}

function restore(model: Qwen3Model, backups: readonly Backup[]): void {
  for (const b of backups) {
    const t = tf.tensor(b.data, b.shape, 'float32');
    model.setParameter(b.name, t).dispose();
    t.dispose();
  }
}

/** θ + α·dW for one parameter at the given precision, as a new tensor the caller owns. */
async function steeredTensor(model: Qwen3Model, name: string, shape: number[], delta: Float32Array, alpha: number, precision: SteerPrecision): Promise<tf.Tensor> {
  if (precision === 'bf16') {
    const cur = model.getParameter(name);
    try {
      return tf.tensor(steeredWeightBf16((await cur.data()) as Float32Array, delta, alpha), shape, 'float32');
    } finally {
      cur.dispose();
    }
  }
  return tf.tidy(() => {
    const cur = model.getParameter(name);
    const d = tf.tensor(delta, shape, 'float32');
    return tf.add(cur, tf.mul(d, tf.scalar(alpha, 'float32')));
  });
}

/** Apply θ + α·dW in place and return the originals (host copies), in the order applied. */
async function apply(model: Qwen3Model, names: readonly string[], dw: DwTensors, alpha: number, precision: SteerPrecision): Promise<Backup[]> {
  const backups: Backup[] = [];
  try {
    for (const name of names) {
      const shape = model.parameterShape(name);
      const steered = await steeredTensor(model, name, shape, dw.get(name) as Float32Array, alpha, precision);
      const prev = model.setParameter(name, steered);
      steered.dispose();
      backups.push({ name, shape, data: ((await prev.data()) as Float32Array).slice() });
      prev.dispose();
    }
  } catch (e) {
    restore(model, backups);
    throw e;
  }
  return backups;
}

/**
 * Run `fn` with θ + α·dW in place, then restore the exact originals (also when `fn` throws).
 * `onWarning` hears about dW keys the model does not have.
 */
export async function withWeightSteering<T>(model: Qwen3Model, dw: DwTensors, alpha: number, fn: () => Promise<T>, onWarning?: (m: string) => void, precision: SteerPrecision = 'f32'): Promise<T> {
  if (!Number.isFinite(alpha)) throw new Error(`weight steering: α must be finite, got ${alpha}`);
  if (alpha === 0 || dw.size === 0) return fn();
  const { present, missing } = checkDwAgainstModel(model, dw);
  if (missing.length > 0) onWarning?.(`${missing.length} dW key(s) are not parameters of the model and are skipped, e.g. ${missing[0]}`);
  markDirty(model);
  const backups = await apply(model, present, dw, alpha, precision);
  try {
    return await fn();
  } finally {
    restore(model, backups);
    markClean(model);
  }
}
