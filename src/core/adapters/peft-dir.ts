/**
 * PEFT's on-disk adapter format: adapter_config.json + adapter_model.safetensors, tensors keyed
 * `base_model.model.<module>.<suffix>` (adapter name removed), float32, metadata {"format": "pt"}.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SafetensorsFile, writeSafetensors } from '../safetensors.js';
import { parseAdapterConfig, peftConfigJson } from './adapter-config.js';
import type { PeftAdapterConfig } from './adapter-config.js';
import type { SavedTensor } from './layer-factory.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const PEFT_KEY_PREFIX = 'base_model.model.';

export interface PeftDir {
  dir: string;
  config: PeftAdapterConfig;
  warnings: string[];
  /** every tensor of adapter_model.safetensors by full key */
  tensors: Map<string, SavedTensor>;
}

/** Read a PEFT adapter directory; throws with the file (and key or tensor) at fault. */
export function readPeftDir(dir: string): PeftDir {
  const configPath = join(dir, ADAPTER_CONFIG_FILE);
  if (!existsSync(configPath)) throw new Error(`${dir}: not a PEFT adapter directory (no ${ADAPTER_CONFIG_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (err) {
    throw new Error(`${configPath}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = parseAdapterConfig(raw, configPath);
  if (!parsed.ok) throw new Error(parsed.error);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!existsSync(weightsPath)) {
    const bin = existsSync(join(dir, 'adapter_model.bin')) ? ' (found adapter_model.bin: PyTorch pickles are not read; save with safe_serialization=True)' : '';
    throw new Error(`${dir}: no ${ADAPTER_WEIGHTS_FILE}${bin}`);
  }
  const f = SafetensorsFile.open(weightsPath);
  const tensors = new Map<string, SavedTensor>();
  try {
    for (const [key, info] of f.tensors) tensors.set(key, { key, shape: info.shape, data: f.readFloat32(key) });
  } finally {
    f.close();
  }
  return { dir, config: parsed.value.config, warnings: parsed.value.warnings, tensors };
}

function writeFileAtomic(path: string, content: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Write a PEFT adapter directory (created if needed); each file lands atomically. */
export function writePeftDir(dir: string, config: PeftAdapterConfig, tensors: readonly { key: string; shape: readonly number[]; data: Float32Array }[]): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(
    join(dir, ADAPTER_WEIGHTS_FILE),
    tensors.map((t) => ({ name: t.key, shape: t.shape, data: t.data })),
    { format: 'pt' },
  );
  writeFileAtomic(join(dir, ADAPTER_CONFIG_FILE), peftConfigJson(config));
}
