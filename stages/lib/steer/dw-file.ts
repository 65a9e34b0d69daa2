/**
 * A diff stage's output as its consumers read it: dw.safetensors (keys = the base model's parameter names) and
 * dw_info.json. Apart from steering.ts so that a kind which only reads dW (subspace) does not import the steering code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import { FILES } from '../artifacts.js';
import { readJsonFile } from '../json-file.js';

export const DW_INFO_FILE = 'dw_info.json';

export interface DwInfo {
  /** the label of the method: dW:<adapter> */
  adapter: string;
  merge_dtype: 'f32' | 'bf16';
  mode: 'dw' | 'bisector';
  n_keys: number;
  n_params: number;
  norm: number;
}

/** A diff stage's output: dw.safetensors (keys = the base model's parameter names) and dw_info.json. */
export function readDwOutput(dir: string): { dw: Map<string, Float32Array>; info: DwInfo } {
  const info = readJsonFile<DwInfo>(join(dir, DW_INFO_FILE), 'the "dw" input must be a diff stage (uses: diff)');
  if (typeof info.adapter !== 'string' || info.adapter === '') throw new Error(`${join(dir, DW_INFO_FILE)}: key "adapter" must be a non-empty string`);
  // The steering precision follows the dW's (weight-steer.ts), so an unknown value must not fall back silently.
  if (info.merge_dtype !== 'f32' && info.merge_dtype !== 'bf16') throw new Error(`${join(dir, DW_INFO_FILE)}: key "merge_dtype" must be "f32" or "bf16", got ${JSON.stringify(info.merge_dtype)}`);
  const file = join(dir, FILES.dw);
  if (!existsSync(file)) throw new Error(`${file} is missing; the "dw" input must be a diff stage (uses: diff)`);
  const st = SafetensorsFile.open(file);
  try {
    const dw = new Map<string, Float32Array>();
    for (const name of st.tensors.keys()) dw.set(name, st.readFloat32(name));
    if (dw.size === 0) throw new Error(`${file} holds no tensors`);
    return { dw, info };
  } finally {
    st.close();
  }
}

